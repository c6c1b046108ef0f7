"""What the workflows ask of the world outside, as Temporal activity definitions.

Workflows call these by method reference (``call(StoreActivities.store_artefact, request)``)
and so never import ``activities/``, which implements each class by subclassing it: mypy then
checks that every implementation keeps its contract's signature, and the activity names (the
method names) stay those recorded in running histories.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity

from models.activity_io import CaseContext, CaseRecordUpdate, Notification, StoreRequest
from models.coe import ServiceLookup
from models.coe_review import CaseMessage, MessageAnswer, PoolEntry, PoolQuery
from models.commands import ArtefactRef
from models.people import Directory


class StoreActivities:
    @activity.defn
    def store_artefact(self, request: StoreRequest) -> ArtefactRef:
        """Write one artefact version; idempotent for the same content."""
        raise NotImplementedError

    @activity.defn
    def read_artefact(self, ref: ArtefactRef) -> dict[str, Any]:
        """Read one stored version back, checking it is the one that was recorded."""
        raise NotImplementedError


class RecordActivities:
    @activity.defn
    def record_case(self, update: CaseRecordUpdate) -> int:
        """Append audit entries to the case's chain and keep its view; the number of the next
        entry to record. An empty update only checks that the record answers."""
        raise NotImplementedError


class DirectoryActivities:
    @activity.defn
    def load_directory(self) -> Directory:
        """The directory of people as the worker's file holds it now."""
        raise NotImplementedError

    @activity.defn
    def load_case_context(self) -> CaseContext:
        """The directory and the policy in force, for a case that starts without them."""
        raise NotImplementedError


class NotifyActivities:
    @activity.defn
    async def notify(self, notification: Notification) -> str:
        """Record one notification and deliver it; a retry with the same id never sends
        twice. The state it ends in: delivered, recorded (nobody has a channel) or failed."""
        raise NotImplementedError


class OtherCaseActivities:
    @activity.defn
    async def service_profile(self, service_id: str) -> ServiceLookup:
        """The service's name and Service Manager, from its lifecycle if the engine runs one."""
        raise NotImplementedError

    @activity.defn
    async def review_pool(self, query: PoolQuery) -> list[PoolEntry]:
        """Published CoEs waiting for review, by CoE id."""
        raise NotImplementedError

    @activity.defn
    async def send_to_case(self, message: CaseMessage) -> MessageAnswer:
        """Another case's answer to an update: accepted, or refused with the domain error."""
        raise NotImplementedError

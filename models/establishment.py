"""Input and durable state of an establishment case (one per proposal, DOMAIN §9.3)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from models.audit import AuditEntry
from models.commands import ArtefactRef, CommandResult
from models.contract import BudgetAllocation, ServiceContract
from models.people import Directory, PersonId, ServiceId
from models.policy import Policy
from models.proposal import DiscoveryPlan, Proposal


class NewServiceInput(BaseModel):
    """Everything needed to start a case; JSON-friendly so the Web UI's Start form can send it.

    Leave ``policy`` and ``directory`` out to use the ones the worker is configured with; either
    way, the ones in force at the start are pinned into the case.
    """

    model_config = ConfigDict(extra="forbid")

    proposal: Proposal
    proposer: PersonId
    policy: Policy | None = None
    directory: Directory | None = None


class ClockState(BaseModel):
    """A running deadline: when it is due, the next reminder, whether it was escalated."""

    name: str
    label: str
    started_at: datetime
    due_at: datetime
    next_reminder_at: datetime
    reminders_sent: int = 0
    escalated: bool = False


class RoutingDecision(BaseModel):
    """E3: the need fits an existing service, whose Service Manager was consulted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    target_service: ServiceId
    consulted_service_manager: PersonId
    consultation_note: str = Field(min_length=1, max_length=2000)


class ServiceManagerAppointment(BaseModel):
    """E7: who will manage the new service."""

    model_config = ConfigDict(extra="forbid")

    person: PersonId


class EstablishmentCase(BaseModel):
    """The one copy of the truth for a proposal: the workflow's state and its query result."""

    proposal: Proposal
    proposer: PersonId
    policy: Policy
    directory: Directory
    state: str = "PROPOSED"
    contract: ServiceContract | None = None
    service_manager: PersonId | None = None
    budget: BudgetAllocation | None = None
    discovery_plan: DiscoveryPlan | None = None
    discovery_plan_by: PersonId | None = None
    routed_to: RoutingDecision | None = None
    artefacts: dict[str, ArtefactRef] = Field(default_factory=dict)
    audit: list[AuditEntry] = Field(default_factory=list)
    applied: dict[str, CommandResult] = Field(default_factory=dict)
    clock: ClockState | None = None
    refused_signals: int = 0

    @property
    def service_id(self) -> str | None:
        return self.contract.service_id if self.contract else None

    def artefact_versions(self) -> dict[str, int]:
        return {kind: ref.version for kind, ref in self.artefacts.items()}

"""Driving establishment cases in tests through the same client code the CLI uses."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from activities.directory import load_directory
from models.audit import AuditEntry
from models.case_view import CaseStatus, EstablishmentOutcome
from models.commands import ArtefactSubmission, CommandResult, Decision
from models.errors import OsomError
from models.establishment import NewServiceInput
from models.ids import proposal_workflow_id
from models.policy import Policy
from models.proposal import Proposal
from osom import cases
from tests.examples import EXAMPLES, artefact, load_yaml
from tests.workflows.conftest import Engine
from workflows import NewServiceWorkflow


def proposal_numbered(number: str) -> Proposal:
    data = load_yaml(EXAMPLES / "proposal.yaml")
    data["id"] = f"PRO-{number}"
    return Proposal.model_validate(data)


class Tracked:
    """A running case of any process: commands, status, audit log, its virtual clock."""

    def __init__(self, engine: Engine, workflow_id: str) -> None:
        self.engine = engine
        self.workflow_id = workflow_id

    @property
    def handle(self) -> WorkflowHandle[Any, Any]:
        return self.engine.client.get_workflow_handle(self.workflow_id)

    async def decide(
        self,
        trigger: str,
        actor: str,
        data: dict[str, Any] | None = None,
        reason: str | None = None,
        decision_id: str | None = None,
    ) -> CommandResult:
        decision = Decision(
            decision_id=decision_id or uuid.uuid4().hex,
            trigger=trigger,
            actor=actor,
            reason=reason,
            data=data or {},
        )
        return await cases.decide(self.engine.client, self.workflow_id, decision)

    async def submit_artefact(
        self, kind: str, actor: str, content: dict[str, Any], decision_id: str | None = None
    ) -> CommandResult:
        submission = ArtefactSubmission(
            decision_id=decision_id or uuid.uuid4().hex, actor=actor, kind=kind, content=content
        )
        return await cases.submit(self.engine.client, self.workflow_id, submission)

    async def status(self) -> CaseStatus:
        return await cases.status(self.engine.client, self.workflow_id)

    async def audit_log(self) -> list[AuditEntry]:
        return await cases.audit_log(self.engine.client, self.workflow_id)

    async def until(self, holds: Callable[[CaseStatus], bool], what: str) -> CaseStatus:
        """The status once ``holds`` is true (signals between cases arrive a moment later)."""
        status = None
        for _ in range(200):
            try:
                status = await self.status()
            except OsomError:  # not started yet
                status = None
            if status is not None and holds(status):
                return status
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.workflow_id} never reached: {what}; last status {status}")

    async def audit_until(self, ready: Callable[[list[AuditEntry]], bool]) -> list[AuditEntry]:
        """The audit log once ``ready`` holds (a signal is applied a moment after it is sent)."""
        for _ in range(300):
            log = await self.audit_log()
            if ready(log):
                return log
            await asyncio.sleep(0.05)
        raise AssertionError(f"the audit log never got there: {await self.audit_log()}")

    async def now(self) -> datetime:
        """The case's virtual time: the time of its latest audit entry."""
        return (await self.audit_log())[-1].at

    async def skip(self, duration: timedelta) -> None:
        """Move the case's virtual clock on. The server can be briefly busy with a run that is
        continuing as new; that is retried."""
        for attempt in range(20):
            try:
                await self.engine.env.fast_forward(self.handle, duration)
                return
            except RPCError as err:
                if attempt == 19 or "not scheduled yet" not in err.message:
                    raise
                await asyncio.sleep(0.1)

    async def settled_history_length(self) -> int:
        """The history's length once the case is idle: the notifications a command queues are
        sent just after it, so wait for them before counting."""
        previous = -1
        for _ in range(100):
            described = await self.handle.describe()
            length = described.raw_description.workflow_execution_info.history_length
            idle = not described.raw_description.pending_activities
            if idle and length == previous:
                return length
            previous = length
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.workflow_id} never became idle")

    async def history_length(self) -> int:
        return len([event async for event in self.handle.fetch_history_events()])


class Case(Tracked):
    """An establishment case (one proposal)."""

    @classmethod
    async def start(
        cls, engine: Engine, number: str, proposer: str = "P-015", policy: Policy | None = None
    ) -> Case:
        """Start a case as the CLI does; a ``policy`` is pinned in the input instead of the
        worker's file (the directory then comes pinned too)."""
        if policy is None:
            workflow_id = await cases.start_new_service(
                engine.client, proposal_numbered(number), proposer, engine.settings.task_queue
            )
            case = cls(engine, workflow_id)
            await case.wait_until_started()
            return case
        workflow_id = proposal_workflow_id(f"PRO-{number}")
        directory = load_directory(EXAMPLES / "directory.yaml")
        await engine.client.start_workflow(
            NewServiceWorkflow.run,
            NewServiceInput(
                proposal=proposal_numbered(number),
                proposer=proposer,
                policy=policy,
                directory=directory,
            ),
            id=workflow_id,
            task_queue=engine.settings.task_queue,
        )
        case = cls(engine, workflow_id)
        await case.wait_until_started()
        return case

    @property
    def handle(self) -> WorkflowHandle[NewServiceWorkflow, EstablishmentOutcome]:
        return self.engine.client.get_workflow_handle_for(NewServiceWorkflow.run, self.workflow_id)

    @property
    def service_id(self) -> str:
        """Each test case establishes its own service, so published contracts never collide."""
        return "SVC-" + self.workflow_id.rsplit("-", 1)[-1]

    async def submit(self, file: str, actor: str, kind: str) -> CommandResult:
        content = artefact(file)
        if kind == "service_contract":
            content["service_id"] = self.service_id
        submission = ArtefactSubmission(
            decision_id=uuid.uuid4().hex, actor=actor, kind=kind, content=content
        )
        return await cases.submit(self.engine.client, self.workflow_id, submission)

    async def wait_until_started(self) -> None:
        """The case has loaded its directory and policy (its first audit entry exists)."""
        for _ in range(200):
            if await self.audit_log():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.workflow_id} did not start")

    async def to_drafting(self) -> None:
        await self.decide("triage_started", "P-001")
        await self.decide("proposal_approved", "P-001")
        await self.decide("drafting_started", "P-001")

    async def to_ready(self) -> None:
        await self.to_drafting()
        await self.decide("sm_appointed", "P-001", data=artefact("sm-appointment.yaml"))
        await self.submit("service-contract.yaml", "P-013", "service_contract")
        await self.decide(
            "discovery_budget_allocated", "P-002", data=artefact("discovery-budget.yaml")
        )
        await self.decide("draft_completed", "P-013")


async def assert_refused_unchanged(
    case: Tracked, error: type[OsomError], send: Callable[[], Awaitable[Any]]
) -> OsomError:
    """The command is refused with ``error`` and neither the state nor the history moved."""
    events = await case.settled_history_length()
    before = (await case.status(), await case.audit_log())
    with pytest.raises(error) as refused:
        await send()
    assert (await case.status(), await case.audit_log()) == before
    assert await case.history_length() == events, "a refused update must not reach history"
    return refused.value


async def start_fails(
    engine: Engine, workflow_type: str, start: dict[str, Any], workflow_id: str
) -> ApplicationError:
    """Start a case as any Temporal client can (type, id, JSON) and return the typed error it
    fails with."""
    handle = await engine.client.start_workflow(
        workflow_type, start, id=workflow_id, task_queue=engine.settings.task_queue
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause

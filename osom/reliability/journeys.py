"""The journeys: N new-service proposals taken through the README walkthrough a step at a
time, and what a case looks like between two commands (to tell that a refusal changed nothing)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowHandle

from models.commands import ArtefactSubmission, Decision
from osom import cases
from osom.reliability.doors import Door, example

# Longer than the notify activity's 30 s timeout: one a killed worker held is retried after it.
IDLE_POLLS = 450
IDLE_POLL_SECONDS = 0.1

W = TypeVar("W")  # the workflow class of a handle

# The README walkthrough after the start: (verb, trigger or kind, actor, example file, state after).
STEPS: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("decide", "triage_started", "P-002", None, "IN_TRIAGE"),
    ("decide", "proposal_approved", "P-001", None, "APPROVED"),
    ("decide", "drafting_started", "P-001", None, "CONTRACT_DRAFTING"),
    ("decide", "sm_appointed", "P-001", "sm-appointment.yaml", "CONTRACT_DRAFTING"),
    ("submit", "service_contract", "P-013", "service-contract.yaml", "CONTRACT_DRAFTING"),
    ("decide", "discovery_budget_allocated", "P-002", "discovery-budget.yaml", "CONTRACT_DRAFTING"),
    ("decide", "draft_completed", "P-013", None, "READY_TO_ESTABLISH"),
    ("submit", "discovery_plan", "P-013", "discovery-plan.yaml", "READY_TO_ESTABLISH"),
    ("decide", "service_established", "P-001", None, "ESTABLISHED"),
)
PROPOSER = "P-015"
OUTSIDER = "P-015"  # an SM of another service: may send none of the walkthrough's commands
UNKNOWN_PERSON = "P-099"
PEOPLE = ("P-001", "P-002", "P-013", "P-015", UNKNOWN_PERSON)


@dataclass
class Journey:
    """One proposal taken through the walkthrough; the valid decision ids in the order sent."""

    number: int
    workflow_id: str
    sent: list[str] = field(default_factory=list)
    # Valid commands the sender was told were refused, or got no answer at all in the end.
    not_taken: set[str] = field(default_factory=set)

    @property
    def proposal_id(self) -> str:
        return f"PRO-{self.number}"

    @property
    def service_id(self) -> str:
        return f"SVC-{self.number}"

    def door(self, index: int) -> Door:
        """Commands alternate between the doors; journeys start on different ones."""
        return "client" if (index + self.number) % 2 == 0 else "http"


def valid_command(journey: Journey, step: int) -> Decision | ArtefactSubmission:
    """The walkthrough's command of ``step`` for this journey (its decision id is its own)."""
    verb, name, actor, file, _ = STEPS[step]
    data = example(file) if file else {}
    decision_id = f"{journey.proposal_id}-{step + 1}-{name}"
    if verb == "submit":
        if name == "service_contract":
            data["service_id"] = journey.service_id
        return ArtefactSubmission(decision_id=decision_id, actor=actor, kind=name, content=data)
    reason = "reliability campaign" if name == "service_established" else None
    return Decision(decision_id=decision_id, trigger=name, actor=actor, data=data, reason=reason)


@dataclass(frozen=True)
class Snapshot:
    status: dict[str, object]
    audit: list[dict[str, object]]
    history_length: int


async def idle_history_length(handle: WorkflowHandle[W, object]) -> int:
    """The case's history length once nothing is pending (the notifications a command queues
    are sent just after it) and two looks agree."""
    previous = -1
    for _ in range(IDLE_POLLS):
        described = await handle.describe()
        raw = described.raw_description
        busy = bool(raw.pending_activities) or raw.HasField("pending_workflow_task")
        if not busy and described.history_length == previous:
            return previous
        previous = described.history_length
        await asyncio.sleep(IDLE_POLL_SECONDS)
    raise RuntimeError(f"{handle.id} never became idle")


async def snapshot(client: Client, workflow_id: str) -> Snapshot:
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    length = await idle_history_length(handle)
    status = await cases.status(client, workflow_id)
    audit = await cases.audit_log(client, workflow_id)
    return Snapshot(
        status.model_dump(mode="json"), [e.model_dump(mode="json") for e in audit], length
    )

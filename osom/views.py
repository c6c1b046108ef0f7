"""Views across cases for the front doors: one person's inbox and the service network.

Both find their cases through Temporal visibility on our search attributes (never by scanning
every workflow), then ask each case for its status.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel
from temporalio.client import Client

from models.case_view import CaseStatus
from models.errors import OsomError
from osom import cases
from workflows._visibility import AWAITING, OVERDUE_ACTIONS, PROCESS, SERVICE_ID
from workflows.correction_of_errors.definition import COE
from workflows.lifecycle.definition import LIFECYCLE

# How many cases are asked for their status at once.
PARALLEL_QUERIES = 10


class InboxItem(BaseModel):
    """One case waiting for the person: what they can do there, by when, and how."""

    workflow_id: str
    case_id: str
    process: str
    title: str
    state: str
    deadline: datetime | None
    overdue: bool
    needs: list[str]
    commands: list[str]


class ServiceRow(BaseModel):
    service_id: str
    name: str
    phase: str
    service_manager: str
    next_assessment_due: datetime | None
    open_corrective_actions: int
    overdue_corrective_actions: int
    blocked_by: list[str]


Progress = Callable[[int, int], None]


def _quiet(done: int, total: int) -> None:
    return None


async def inbox(client: Client, person: str, progress: Progress = _quiet) -> list[InboxItem]:
    """Everything running that waits for ``person``, soonest deadline first."""
    query = f"{AWAITING.name} = '{person}' AND ExecutionStatus = 'Running'"
    ids = [execution.id async for execution in client.list_workflows(query)]
    statuses = await _statuses(client, ids, progress)
    items = [_inbox_item(status, person) for status in statuses]
    answered = {s.workflow_id for s in statuses}
    items += [_unanswered(workflow_id) for workflow_id in ids if workflow_id not in answered]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(items, key=lambda i: (i.deadline or far, i.case_id))


def _unanswered(workflow_id: str) -> InboxItem:
    """A case visibility lists for the person but that did not answer (no worker running?)."""
    return InboxItem(
        workflow_id=workflow_id,
        case_id=workflow_id.split("/", 1)[-1],
        process="?",
        title=workflow_id,
        state="?",
        deadline=None,
        overdue=False,
        needs=["the case did not answer: is a worker running?"],
        commands=[f"osom status {workflow_id}"],
    )


def _inbox_item(status: CaseStatus, person: str) -> InboxItem:
    needs: list[str] = []
    commands: list[str] = []
    for blocker in status.blockers:
        if person not in blocker.people:
            continue
        if blocker.missing:
            needs += [f"{blocker.id} {blocker.trigger}: {m}" for m in blocker.missing]
        else:
            needs.append(f"{blocker.id} {blocker.trigger}: ready ({blocker.description})")
            commands.append(f"osom decide {status.case_id} {blocker.trigger} --as {person}")
    mine = status.personal.get(person, [])
    needs += mine
    if mine:  # their own corrective actions, due soon or overdue
        commands.append(f"osom decide {status.case_id} action_completed --as {person} --data FILE")
    commands.append(f"osom status {status.case_id}")  # what is missing, and who supplies it
    deadline = status.deadline
    return InboxItem(
        workflow_id=status.workflow_id,
        case_id=status.case_id,
        process=status.process,
        title=status.title,
        state=status.state,
        deadline=deadline.due_at if deadline else None,
        overdue=bool(deadline and deadline.escalated),
        needs=needs,
        commands=commands,
    )


async def services(client: Client, progress: Progress = _quiet) -> list[ServiceRow]:
    """Every service in the engine, with its phase, manager, next assessment, corrective
    actions and what blocks it."""
    query = f"{PROCESS.name} = '{LIFECYCLE.name}' AND ExecutionStatus = 'Running'"
    ids = [execution.id async for execution in client.list_workflows(query)]
    overdue = await _overdue_by_service(client)
    statuses = await _statuses(client, ids, progress)
    rows = [_service_row(status, overdue) for status in statuses]
    return sorted(rows, key=lambda r: r.service_id)


async def _overdue_by_service(client: Client) -> dict[str, int]:
    query = f"{PROCESS.name} = '{COE.name}' AND {OVERDUE_ACTIONS.name} > 0"
    query += " AND ExecutionStatus = 'Running'"
    counts: dict[str, int] = {}
    async for execution in client.list_workflows(query):
        attributes = execution.typed_search_attributes
        service = attributes.get(SERVICE_ID)
        if service:
            counts[service] = counts.get(service, 0) + (attributes.get(OVERDUE_ACTIONS) or 0)
    return counts


def _service_row(status: CaseStatus, overdue: dict[str, int]) -> ServiceRow:
    service_id = status.service_id or status.case_id
    return ServiceRow(
        service_id=service_id,
        name=status.title.removeprefix(f"{service_id} "),
        phase=status.state,
        service_manager=status.facts.get("Service Manager", ""),
        next_assessment_due=status.next_assessment_due,
        open_corrective_actions=status.open_actions or 0,
        overdue_corrective_actions=overdue.get(service_id, 0),
        blocked_by=[m for b in status.blockers for m in b.missing],
    )


async def _statuses(
    client: Client, workflow_ids: list[str], progress: Progress
) -> list[CaseStatus]:
    """Each case's status, a few at a time; a case that ended meanwhile is left out."""
    gate = asyncio.Semaphore(PARALLEL_QUERIES)
    done = 0

    async def one(workflow_id: str) -> CaseStatus | None:
        nonlocal done
        async with gate:
            try:
                return await cases.status(client, workflow_id)
            except OsomError:
                return None
            finally:
                done += 1
                progress(done, len(workflow_ids))

    found = await asyncio.gather(*(one(w) for w in workflow_ids))
    return [s for s in found if s is not None]

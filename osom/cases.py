"""Client-side operations on cases, shared by every front door (the CLI now, HTTP later).

Each raises a domain error from ``models.errors`` for a refusal, translating what Temporal says
(an update rejected by a validator, an unknown workflow id, a finished case) into that vocabulary
(``activities.case_calls``). Workflow ids are built by ``models.ids``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError
from temporalio.types import MethodAsyncSingleParam
from temporalio.workflow import UpdateMethodMultiParam

from activities.case_calls import QUERY_WAIT, call, domain_error, query
from models.audit import AuditEntry
from models.case_view import CaseStatus
from models.coe import CoeInput
from models.commands import ArtefactSubmission, CommandResult, Decision, DirectoryReload
from models.contract import BudgetAllocation, ServiceContract
from models.errors import CaseClosed, CaseExists, CommandQueued, NoAnswer, invalid
from models.establishment import NewServiceInput
from models.ids import coe_workflow_id, lifecycle_workflow_id, proposal_workflow_id
from models.lifecycle import LifecycleInput
from models.markdown import inline
from models.proposal import Proposal
from models.signals import DECIDE_SIGNAL, SUBMIT_SIGNAL
from workflows import TASK_QUEUE, WORKFLOWS, CoeWorkflow, LifecycleWorkflow, NewServiceWorkflow
from workflows._handlers import CaseWorkflow
from workflows._visibility import CASE_ID, PROCESS, initial_attributes
from workflows.correction_of_errors.definition import COE

CommandT = TypeVar("CommandT", Decision, ArtefactSubmission)
# A workflow class, and the input a process's run method takes.
W = TypeVar("W")
StartT = TypeVar("StartT", bound=BaseModel)

# How long an update may wait for a worker to accept it before it is sent as a signal instead.
ACCEPT_WAIT = timedelta(seconds=10)


async def onboard_service(
    client: Client,
    contract: ServiceContract,
    actor: str,
    budget: BudgetAllocation,
    team: tuple[str, ...] = (),
    task_queue: str = TASK_QUEUE,
) -> str:
    """L2: bring an existing service under the engine at the stage its contract states. The
    worker checks the actor and the contract; see ``wait_until_open`` for its verdict."""
    workflow_id = lifecycle_workflow_id(contract.service_id)
    try:
        start = LifecycleInput(
            contract=contract, started_by=actor, budget=budget, onboarded=True, team=team
        )
    except ValidationError as err:
        raise invalid("the onboarding command", err) from err
    await _start_once(
        client,
        LifecycleWorkflow.run,
        start,
        workflow_id,
        task_queue,
        ("lifecycle", contract.service_id),
        summary=f"Lifecycle of {contract.service_id} {inline(contract.name)} (onboarded)",
        details=f"Onboarded by {inline(actor)} at {contract.lifecycle_stage}.",
        exists="the service is already in the engine",
    )
    return workflow_id


# A CoE id taken meanwhile by someone else is skipped, this many times at most.
COE_ID_ATTEMPTS = 20


async def open_coe(
    client: Client, opening: Mapping[str, object], task_queue: str = TASK_QUEUE
) -> str:
    """C1: open a Correction of Error. Without a ``coe_id`` the next free COE-<year>-<nnn> is
    taken. The worker checks the service and who opens it; see ``wait_until_open``."""
    given = opening.get("coe_id")
    year = str(opening.get("detected_at", ""))[:4]
    first = 1 if given else await _coe_count(client, year) + 1
    for number in range(first, first + COE_ID_ATTEMPTS):
        coe_id = given or f"COE-{year}-{number:03d}"
        try:
            start = CoeInput.model_validate({**opening, "coe_id": coe_id})
        except ValidationError as err:
            raise invalid("the CoE", err) from err
        case_id = str(coe_id)  # valid as a CoeId: a string
        try:
            await _start_once(
                client,
                CoeWorkflow.run,
                start,
                coe_workflow_id(case_id),
                task_queue,
                ("coe", case_id),
                summary=f"Correction of Error {case_id} ({start.service_id})",
                details=f"{inline(start.problem)}\n\nOpened by {start.opened_by}.",
                exists="a CoE id is used once",
            )
        except CaseExists:
            if given:
                raise
            continue
        return coe_workflow_id(case_id)
    raise CaseExists(f"no free CoE id after COE-{year}-{first + COE_ID_ATTEMPTS - 1:03d}")


async def _coe_count(client: Client, year: str) -> int:
    """How many CoEs of ``year`` visibility knows: where numbering goes on (a start that finds
    the next id taken tries the one after)."""
    search = f"{PROCESS.name} = '{COE.name}' AND {CASE_ID.name} STARTS_WITH 'COE-{year}-'"
    return (await client.count_workflows(search)).count


async def _start_once(
    client: Client,
    run: MethodAsyncSingleParam[W, StartT, object],
    start: StartT,
    workflow_id: str,
    task_queue: str,
    key: tuple[str, str],
    *,
    summary: str,
    details: str,
    exists: str,
) -> None:
    """Start a case under its business key. The id is used once: only a case refused at its
    start may be started again."""
    process, case_id = key
    try:
        await client.start_workflow(
            run,
            start,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            search_attributes=TypedSearchAttributes(initial_attributes(process, case_id)),
            static_summary=summary,
            static_details=details,
        )
    except WorkflowAlreadyStartedError as err:
        raise CaseExists(
            f"{workflow_id} already exists: {exists}", workflow_id=workflow_id
        ) from err


def parse_proposal(document: dict[str, object]) -> Proposal:
    try:
        return Proposal.model_validate(document)
    except ValidationError as err:
        raise invalid("the proposal", err) from err


async def start_new_service(
    client: Client, proposal: Proposal, proposer: str, task_queue: str = TASK_QUEUE
) -> str:
    """Start a case. The worker checks the demand (E1) against the directory it serves; see
    ``wait_until_open`` for its verdict."""
    workflow_id = proposal_workflow_id(proposal.id)
    try:
        start = NewServiceInput(proposal=proposal, proposer=proposer)
    except ValidationError as err:
        raise invalid("the start command", err) from err
    await _start_once(
        client,
        NewServiceWorkflow.run,
        start,
        workflow_id,
        task_queue,
        ("establishment", proposal.id),
        summary=f"New service proposal {proposal.id}: {inline(proposal.name)}",
        details=(
            f"**{inline(proposal.name)}** ({inline(proposal.trigger_type)}, signal "
            f"{inline(proposal.signal)})\n\n{inline(proposal.summary)}\n\n"
            f"Raised by {inline(proposer)}."
        ),
        exists="a proposal id is used once",
    )
    return workflow_id


async def wait_until_open(
    client: Client, workflow_id: str, seconds: float = 15.0
) -> CaseStatus | None:
    """The case's status once a worker accepted the demand; the domain error if it refused it;
    None if no worker took the case up within ``seconds`` (it will when one runs)."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        execution = (await handle.describe()).status
        if execution == WorkflowExecutionStatus.FAILED:
            try:
                await handle.result()
            except WorkflowFailureError as failed:
                raise domain_error(failed.cause) from failed
        if execution in (
            WorkflowExecutionStatus.TERMINATED,
            WorkflowExecutionStatus.CANCELED,
            WorkflowExecutionStatus.TIMED_OUT,
        ):
            raise CaseClosed(f"{workflow_id} was {execution.name.lower()} by an operator")
        current: CaseStatus | None
        try:
            current = await handle.query(CaseWorkflow.status, rpc_timeout=timedelta(seconds=2))
        except (RPCError, WorkflowQueryFailedError):
            current = None  # no worker has answered yet
        if current is not None and current.state != "STARTING":
            return current
        await asyncio.sleep(0.2)
    return None


async def decide(client: Client, workflow_id: str, decision: Decision) -> CommandResult:
    return await _command(client, workflow_id, _DECIDE, decision)


async def submit(client: Client, workflow_id: str, submission: ArtefactSubmission) -> CommandResult:
    return await _command(client, workflow_id, _SUBMIT, submission)


@dataclass(frozen=True)
class _Door(Generic[CommandT]):
    """A command's two ways in: the update that answers, and the signal the server keeps."""

    # As loose as the SDK lets it be: it types an update of the generic CaseWorkflow with the
    # class's unsolved type variable as self, and its coroutine as the result.
    update: UpdateMethodMultiParam[[Any, CommandT], Any]
    signal: str


_DECIDE = _Door[Decision](CaseWorkflow.decide, DECIDE_SIGNAL)
_SUBMIT = _Door[ArtefactSubmission](CaseWorkflow.submit, SUBMIT_SIGNAL)


async def _command(
    client: Client, workflow_id: str, door: _Door[CommandT], command: CommandT
) -> CommandResult:
    """Send a command as an update and wait for its answer. If no worker accepts it in time, the
    same command goes as a signal, which the server keeps (an update that waits for a worker is
    only admitted, and a server restart forgets it). A repeat of a decision that finished the
    case gets the first answer back, like any other repeat, instead of 'case closed'."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    try:
        return await call(handle, _accepted_then_answered(handle, door.update, command))
    except _NotAccepted:
        await call(handle, handle.signal(door.signal, command.model_dump(mode="json")))
        raise CommandQueued(
            f"{workflow_id}: no worker took the command within {ACCEPT_WAIT.total_seconds():.0f}"
            " s — is `osom worker` (or `make dev`) running? It is queued on the server as a "
            f"signal with decision id {command.decision_id} and is applied, after the commands "
            "sent before it, when a worker runs (a refusal is then in the audit log). Send it "
            "again with the same --id to get its answer: it is applied once",
            workflow_id=workflow_id,
            decision_id=command.decision_id,
        ) from None
    except NoAnswer as err:
        err.details["decision_id"] = command.decision_id
        raise
    except CaseClosed:
        earlier = await call(
            handle,
            handle.query(
                CaseWorkflow.decision_result,
                args=[command.decision_id, command.fingerprint()],
            ),
            QUERY_WAIT,
        )
        if earlier is None:
            raise
        return earlier


class _NotAccepted(Exception):
    """No worker accepted the update in time: the server holds it only in memory."""


async def _accepted_then_answered(
    handle: WorkflowHandle[W, object],
    update: UpdateMethodMultiParam[[W, CommandT], Any],
    command: CommandT,
) -> CommandResult:
    try:
        started = await asyncio.wait_for(
            handle.start_update(update, command, wait_for_stage=WorkflowUpdateStage.ACCEPTED),
            ACCEPT_WAIT.total_seconds(),
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        raise _NotAccepted from err
    result: CommandResult = await started.result()
    return result


async def reload_directory(
    client: Client, workflow_id: str, command: DirectoryReload
) -> CommandResult:
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    return await call(
        handle, handle.execute_update("reload_directory", command, result_type=CommandResult)
    )


async def running_cases(client: Client) -> list[str]:
    """Workflow ids of every open case, found through our search attributes."""
    processes = ", ".join(f"'{w.DEFINITION.name}'" for w in WORKFLOWS)
    search = f"ExecutionStatus = 'Running' AND {PROCESS.name} IN ({processes})"
    return [execution.id async for execution in client.list_workflows(search)]


async def send_decision_signal(client: Client, workflow_id: str, decision: Decision) -> None:
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    await call(handle, handle.signal(DECIDE_SIGNAL, decision.model_dump(mode="json")))


async def status(client: Client, workflow_id: str) -> CaseStatus:
    return await query(client, workflow_id, CaseWorkflow.status)


async def audit_log(client: Client, workflow_id: str) -> list[AuditEntry]:
    return await query(client, workflow_id, CaseWorkflow.audit_log)


async def diagram(client: Client, workflow_id: str) -> str:
    return await query(client, workflow_id, CaseWorkflow.diagram)

"""Client-side operations on cases, shared by every front door (the CLI now, HTTP later).

Each raises a domain error from ``models.errors`` for a refusal, translating what Temporal says
(an update rejected by a validator, an unknown workflow id, a finished case) into that vocabulary.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from models.assessment import assessment_workflow_id
from models.audit import AuditEntry
from models.case_view import CaseStatus
from models.coe import CoeInput, coe_workflow_id
from models.commands import ArtefactSubmission, CommandResult, Decision, DirectoryReload
from models.contract import BudgetAllocation, ServiceContract
from models.errors import (
    ALL_ERRORS,
    CaseClosed,
    CaseExists,
    CommandQueued,
    NoAnswer,
    OsomError,
    UnknownCase,
    invalid,
)
from models.establishment import NewServiceInput
from models.lifecycle import LifecycleInput
from models.markdown import inline
from models.proposal import Proposal
from workflows import TASK_QUEUE, WORKFLOWS, CoeWorkflow, LifecycleWorkflow, NewServiceWorkflow
from workflows._visibility import CASE_ID, PROCESS, initial_attributes
from workflows.correction_of_errors.definition import COE
from workflows.lifecycle.workflow import lifecycle_workflow_id

T = TypeVar("T")

# How long a person waits for a worker's answer before being told none came.
QUERY_WAIT = timedelta(seconds=10)
COMMAND_WAIT = timedelta(seconds=60)
# How long an update may wait for a worker to accept it before it is sent as a signal instead.
ACCEPT_WAIT = timedelta(seconds=10)
QUERY_ATTEMPTS = 25


def new_service_id(proposal_id: str) -> str:
    return f"new-service/{proposal_id}"


_BUSINESS_KEYS = (
    (re.compile(r"^PRO-[A-Za-z0-9_-]+$"), new_service_id),
    (re.compile(r"^COE-[A-Z0-9-]+$"), coe_workflow_id),
    (re.compile(r"^SVC-[0-9]{3,}-A[0-9]{2,}$"), assessment_workflow_id),
    (re.compile(r"^SVC-[0-9]{3,}$"), lifecycle_workflow_id),
)


def workflow_id_for(case: str) -> str:
    """A workflow id from what people call a case: PRO-004, SVC-007, SVC-007-A03, COE-2026-001,
    or the workflow id itself."""
    for pattern, workflow_id in _BUSINESS_KEYS:
        if pattern.match(case):
            return workflow_id(case)
    return case


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


async def open_coe(client: Client, opening: dict[str, Any], task_queue: str = TASK_QUEUE) -> str:
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
        try:
            await _start_once(
                client,
                CoeWorkflow.run,
                start,
                coe_workflow_id(coe_id),
                task_queue,
                ("coe", coe_id),
                summary=f"Correction of Error {coe_id} ({start.service_id})",
                details=f"{inline(start.problem)}\n\nOpened by {start.opened_by}.",
                exists="a CoE id is used once",
            )
        except CaseExists:
            if given:
                raise
            continue
        return coe_workflow_id(coe_id)
    raise CaseExists(f"no free CoE id after COE-{year}-{first + COE_ID_ATTEMPTS - 1:03d}")


async def _coe_count(client: Client, year: str) -> int:
    """How many CoEs of ``year`` visibility knows: where numbering goes on (a start that finds
    the next id taken tries the one after)."""
    query = f"{PROCESS.name} = '{COE.name}' AND {CASE_ID.name} STARTS_WITH 'COE-{year}-'"
    return (await client.count_workflows(query)).count


async def _start_once(
    client: Client,
    run: Any,
    start: BaseModel,
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


def parse_proposal(document: dict[str, Any]) -> Proposal:
    try:
        return Proposal.model_validate(document)
    except ValidationError as err:
        raise invalid("the proposal", err) from err


async def start_new_service(
    client: Client, proposal: Proposal, proposer: str, task_queue: str = TASK_QUEUE
) -> str:
    """Start a case. The worker checks the demand (E1) against the directory it serves; see
    ``wait_until_open`` for its verdict."""
    workflow_id = new_service_id(proposal.id)
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
                raise _domain_error(failed.cause) from failed
        if execution in (
            WorkflowExecutionStatus.TERMINATED,
            WorkflowExecutionStatus.CANCELED,
            WorkflowExecutionStatus.TIMED_OUT,
        ):
            raise CaseClosed(f"{workflow_id} was {execution.name.lower()} by an operator")
        current: CaseStatus | None
        try:
            current = await handle.query(
                NewServiceWorkflow.status, rpc_timeout=timedelta(seconds=2)
            )
        except (RPCError, WorkflowQueryFailedError):
            current = None  # no worker has answered yet
        if current is not None and current.state != "STARTING":
            return current
        await asyncio.sleep(0.2)
    return None


async def decide(client: Client, workflow_id: str, decision: Decision) -> CommandResult:
    return await _command(client, workflow_id, "decide", decision)


async def submit(client: Client, workflow_id: str, submission: ArtefactSubmission) -> CommandResult:
    return await _command(client, workflow_id, "submit", submission)


async def _command(
    client: Client, workflow_id: str, update: str, command: Decision | ArtefactSubmission
) -> CommandResult:
    """Send a command as an update and wait for its answer. If no worker accepts it in time, the
    same command goes as a signal, which the server keeps (an update that waits for a worker is
    only admitted, and a server restart forgets it). A repeat of a decision that finished the
    case gets the first answer back, like any other repeat, instead of 'case closed'."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    try:
        return await _call(handle, _accepted_then_answered(handle, update, command))
    except _NotAccepted:
        await _call(handle, handle.signal(f"{update}_signal", command.model_dump(mode="json")))
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
        earlier = await _call(
            handle,
            handle.query(
                NewServiceWorkflow.decision_result,
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
    handle: WorkflowHandle[Any, Any], update: str, command: Decision | ArtefactSubmission
) -> CommandResult:
    try:
        started = await asyncio.wait_for(
            handle.start_update(
                update,
                command,
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                result_type=CommandResult,
            ),
            ACCEPT_WAIT.total_seconds(),
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        raise _NotAccepted from err
    result: CommandResult = await started.result()
    return result


async def execute_update(
    client: Client, workflow_id: str, update: str, payload: Any
) -> CommandResult:
    """Send any command update and wait for its answer (a refusal raises its domain error)."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    return await _call(handle, handle.execute_update(update, payload, result_type=CommandResult))


async def reload_directory(
    client: Client, workflow_id: str, command: DirectoryReload
) -> CommandResult:
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    return await _call(
        handle, handle.execute_update("reload_directory", command, result_type=CommandResult)
    )


async def running_cases(client: Client) -> list[str]:
    """Workflow ids of every open case, found through our search attributes."""
    processes = ", ".join(f"'{w.DEFINITION.name}'" for w in WORKFLOWS)
    query = f"ExecutionStatus = 'Running' AND {PROCESS.name} IN ({processes})"
    return [execution.id async for execution in client.list_workflows(query)]


async def send_decision_signal(client: Client, workflow_id: str, decision: Decision) -> None:
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    await _call(handle, handle.signal("decide_signal", decision.model_dump(mode="json")))


async def status(client: Client, workflow_id: str) -> CaseStatus:
    result: CaseStatus = await _query(client, workflow_id, NewServiceWorkflow.status)
    return result


async def audit_log(client: Client, workflow_id: str) -> list[AuditEntry]:
    result: list[AuditEntry] = await _query(client, workflow_id, NewServiceWorkflow.audit_log)
    return result


async def diagram(client: Client, workflow_id: str) -> str:
    result: str = await _query(client, workflow_id, NewServiceWorkflow.diagram)
    return result


async def _query(client: Client, workflow_id: str, query: Any) -> Any:
    """Ask a case a question. A long-lived case that is just continuing as new cannot answer
    for a moment ("workflow task is not scheduled yet"): ask again."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    for attempt in range(QUERY_ATTEMPTS):
        try:
            return await _call(handle, handle.query(query), QUERY_WAIT)
        except RPCError as err:
            if err.status != RPCStatusCode.FAILED_PRECONDITION or attempt == QUERY_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")


async def _call(
    handle: WorkflowHandle[Any, Any], call: Awaitable[T], wait: timedelta = COMMAND_WAIT
) -> T:
    """Await a call to a case, translating what Temporal says by its types and status codes."""
    workflow_id = handle.id
    try:
        return await asyncio.wait_for(call, wait.total_seconds())
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        raise NoAnswer(
            f"{workflow_id}: no worker answered within {wait.total_seconds():.0f} s — is "
            "`osom worker` (or `make dev`) running? Send the command again with the same --id "
            "to get its answer (it is applied once)",
            workflow_id=workflow_id,
        ) from err
    except WorkflowUpdateFailedError as err:
        raise _domain_error(err.cause) from err
    except WorkflowQueryFailedError as err:
        raise OsomError(f"{workflow_id} could not answer: {err.message}") from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise await _closed_or_unknown(handle) from err
        raise


async def _closed_or_unknown(handle: WorkflowHandle[Any, Any]) -> OsomError:
    """What a NOT_FOUND means: the case has closed (an update is aborted when its workflow
    closes), or there is no such case. Asked of the server, not read from the message."""
    try:
        execution = (await handle.describe()).status
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return UnknownCase(f"no case with workflow id {handle.id}", workflow_id=handle.id)
        raise
    if execution == WorkflowExecutionStatus.RUNNING:  # it moved to a new run meanwhile
        return NoAnswer(
            f"{handle.id} was continuing as new while answering: send the command again with "
            "the same --id (it is applied once)",
            workflow_id=handle.id,
        )
    return CaseClosed(f"{handle.id} has finished and takes no more commands", workflow_id=handle.id)


def _domain_error(cause: BaseException | None) -> OsomError:
    """Rebuild the domain error a workflow raised, looking down the chain of causes for it."""
    error = cause
    while error is not None:
        if isinstance(error, ApplicationError) and error.type in ALL_ERRORS:
            details = (
                error.details[0] if error.details and isinstance(error.details[0], dict) else {}
            )
            return ALL_ERRORS[error.type](error.message, **details)
        error = error.__cause__ or getattr(error, "cause", None)
    return OsomError(str(cause))

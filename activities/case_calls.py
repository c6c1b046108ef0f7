"""Calls to a case, and what Temporal's answers mean in the domain's vocabulary.

Every call to a running case through the Temporal client (the front doors', and the activity
that sends one case's message to another) goes through ``call``: an update rejected by a
validator, an unknown workflow id or a finished case become the domain errors of
``models.errors``, decided by the answer's types and status codes (and by asking the server),
never by reading its messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.types import MethodSyncOrAsyncNoParam

from models.commands import CommandResult
from models.errors import ALL_ERRORS, CaseClosed, NoAnswer, OsomError, UnknownCase

T = TypeVar("T")
# The workflow class a query handler or a handle belongs to.
W = TypeVar("W")

# How long a person waits for a worker's answer before being told none came.
QUERY_WAIT = timedelta(seconds=10)
COMMAND_WAIT = timedelta(seconds=60)
QUERY_ATTEMPTS = 25


async def query(client: Client, workflow_id: str, handler: MethodSyncOrAsyncNoParam[W, T]) -> T:
    """Ask a case a question. A long-lived case that is just continuing as new cannot answer
    for a moment ("workflow task is not scheduled yet"): ask again."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    for attempt in range(QUERY_ATTEMPTS):
        try:
            return await call(handle, handle.query(handler), QUERY_WAIT)
        except RPCError as err:
            if err.status != RPCStatusCode.FAILED_PRECONDITION or attempt == QUERY_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")


async def execute_update(
    client: Client, workflow_id: str, update: str, payload: object
) -> CommandResult:
    """Send a command update and wait for its answer (a refusal raises its domain error)."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    return await call(handle, handle.execute_update(update, payload, result_type=CommandResult))


async def call(
    handle: WorkflowHandle[W, object], answer: Awaitable[T], wait: timedelta = COMMAND_WAIT
) -> T:
    """Await a call to a case, translating what Temporal says by its types and status codes."""
    workflow_id = handle.id
    try:
        return await asyncio.wait_for(answer, wait.total_seconds())
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        raise NoAnswer(
            f"{workflow_id}: no worker answered within {wait.total_seconds():.0f} s — is "
            "`osom worker` (or `make dev`) running? Send the command again with the same --id "
            "to get its answer (it is applied once)",
            workflow_id=workflow_id,
        ) from err
    except WorkflowUpdateFailedError as err:
        raise domain_error(err.cause) from err
    except WorkflowQueryFailedError as err:
        raise OsomError(f"{workflow_id} could not answer: {err.message}") from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise await _closed_or_unknown(handle) from err
        raise


async def _closed_or_unknown(handle: WorkflowHandle[W, object]) -> OsomError:
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


def domain_error(cause: BaseException | None) -> OsomError:
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

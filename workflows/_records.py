"""A case's artefacts in the store: writing a version, reading one back and checking it.

Runs only inside a workflow (each call is an activity). Other cases' messages name a stored
version; the case trusts what the store holds under that version's sha256, never the message.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from models.activity_io import StoreRequest
    from models.commands import ArtefactRef
    from models.contract import ServiceContract
    from models.errors import ArtefactConflict, OsomError, RecordUnavailable
    from models.ids import lifecycle_workflow_id
    from workflows._activity import call
    from workflows.activity_contracts import StoreActivities

M = TypeVar("M", bound=BaseModel)

# A store writes two small files: one that takes longer is on a broken disk or a dead worker,
# and the case's next command waits for it, so it is tried again soon.
STORE_TIMEOUT = timedelta(seconds=10)


async def store(
    case_id: str, kind: str, version: int, artefact: BaseModel, submitted_by: str | None = None
) -> ArtefactRef:
    """Store one version; an ArtefactConflict if that version holds other content."""
    request = StoreRequest(
        case_id=case_id,
        kind=kind,
        version=version,
        content=artefact.model_dump(mode="json"),
        submitted_by=submitted_by,
        submitted_at=workflow.now(),
    )
    try:
        return await call(
            StoreActivities.store_artefact,
            request,
            summary=f"store {kind} v{version}",
            start_to_close=STORE_TIMEOUT,
        )
    except ActivityError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == ArtefactConflict.__name__:
            raise ArtefactConflict(cause.message) from err
        if isinstance(cause, ApplicationError) and cause.type == RecordUnavailable.__name__:
            raise RecordUnavailable(f"could not store {kind} v{version}: {cause.message}") from err
        raise OsomError(f"could not store {kind} v{version}: {cause}") from err


async def read_stored(ref: ArtefactRef, model: type[M], summary: str) -> M | None:
    """A stored version read back (its sha256 checked) as ``model``; None if it cannot be read
    or is not one."""
    try:
        content = await call(StoreActivities.read_artefact, ref, summary=summary)
        return model.model_validate(content)
    except (ActivityError, ValidationError) as err:
        workflow.logger.warning(
            "artefact.unreadable",
            extra={"case_id": ref.case_id, "artefact": ref.label, "error": str(err)},
        )
        return None


async def stored_contract(ref: ArtefactRef, service_id: str) -> ServiceContract | None:
    """A service's contract version as its lifecycle stored it (for the cases that follow the
    service: its open assessments and Corrections of Error)."""
    if ref.kind != "service_contract" or not ref.stored_under(lifecycle_workflow_id(service_id)):
        return None
    summary = f"read {service_id}'s contract v{ref.version}"
    contract = await read_stored(ref, ServiceContract, summary)
    if contract is None or contract.service_id != service_id or contract.version != ref.version:
        return None
    return contract

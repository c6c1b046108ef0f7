"""A service's long life in bounded runs: each hands its case to the next (continue-as-new).

Once a run's history is long, at a quiet moment, the audit entries the next run will not carry
are archived in the artefact store and the case continues as new. Runs only inside the
lifecycle workflow.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from models.errors import OsomError
    from models.ids import lifecycle_workflow_id
    from models.lifecycle import LifecycleCase, LifecycleInput
    from workflows import _records
    from workflows._case import CaseEngine

# A run hands over to the next once its history reaches this many events (or the server
# suggests it): well under Temporal's limits, and quick to replay.
MAX_RUN_EVENTS = 1_000
# The audit entries a run carries over; older ones are archived in the artefact store.
CARRIED_AUDIT = 50


class AuditArchive(BaseModel):
    run: int
    entries: list[dict[str, object]]


async def hand_over_when_long(engine: CaseEngine[LifecycleCase], started_by: str) -> None:
    """Continue as new once the history is long, at a quiet moment, carrying the case."""
    await workflow.wait_condition(
        lambda: (
            engine.final()
            or workflow.info().get_current_history_length() > MAX_RUN_EVENTS
            or workflow.info().is_continue_as_new_suggested()
        )
    )
    if engine.final():
        return
    try:
        archived = await archive_audit(engine)
    except OsomError as err:  # the next run carries the whole log instead
        workflow.logger.warning("audit.archive_failed", extra={"error": err.message})
        archived = 0

    def quiet() -> bool:
        # No command or deadline half way, no notification or audit entry waiting to go out.
        return (
            workflow.all_handlers_finished()
            and not engine.busy
            and not engine.has_queued_notifications()
            and not engine.recorder.busy
        )

    # Checked again right before handing over: nothing may run between the check and it.
    while not quiet():
        await workflow.wait_condition(quiet)
    case = engine.case
    case.audit = case.audit[archived:]
    case.audit_offset += archived
    case.runs += 1
    workflow.continue_as_new(
        LifecycleInput(contract=case.contract, started_by=started_by, carried=case)
    )


async def archive_audit(engine: CaseEngine[LifecycleCase]) -> int:
    """Store the audit entries this run will not carry; return how many they are."""
    case = engine.case
    older = case.audit[:-CARRIED_AUDIT]
    if not older:
        return 0
    archive = AuditArchive(run=case.runs, entries=[e.model_dump(mode="json") for e in older])
    folder = f"{lifecycle_workflow_id(case.contract.service_id)}/audit"
    await _records.store(folder, "audit_log", case.runs, archive)
    return len(older)

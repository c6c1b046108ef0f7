"""The assessments a service's lifecycle starts, hears from and closes (DOMAIN §9.1).

Each is a child workflow that outlives the run that started it (ABANDON): the lifecycle requests
one at each gate, when someone asks and on the live cadence, cancels those a new round or the
end of the service leaves behind, and takes in the report or closure record each one publishes,
as the artefact store holds it. Runs only inside the lifecycle workflow.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from models.assessment import (
        GATE_FOR_STAGE,
        AssessmentClosure,
        AssessmentInput,
        AssessmentOutcome,
        AssessmentReport,
        ReportSummary,
        assessment_id_for,
    )
    from models.commands import ArtefactRef
    from models.criteria import AssessmentType
    from models.errors import OsomError
    from models.ids import lifecycle_workflow_id
    from models.lifecycle import AssessmentRequest, LifecycleCase, OpenAssessment
    from models.markdown import inline
    from models.signals import DECIDE_SIGNAL
    from models.stages import LifecycleStage
    from workflows import _records
    from workflows._case import SYSTEM, CaseEngine
    from workflows._handlers import let_go
    from workflows.assessment.workflow import AssessmentWorkflow
    from workflows.lifecycle.rules import LIVE_TYPES

# Assessment ids someone else's workflow has taken are skipped, this many at most.
MAX_ID_ATTEMPTS = 5

# -- the steps that start and close them ------------------------------------------------------


async def request_gate(engine: CaseEngine[LifecycleCase], actor: str, data: object) -> None:
    case = engine.case
    kind = GATE_FOR_STAGE.get(case.stage)
    if kind is not None:
        await request(engine, kind, actor, f"{case.state} round began")


async def request_asked(engine: CaseEngine[LifecycleCase], actor: str, data: object) -> None:
    assert isinstance(data, AssessmentRequest)
    await request(engine, data.type, actor, f"requested by {actor}")


async def request_live(engine: CaseEngine[LifecycleCase], actor: str, data: object) -> None:
    if engine.case.stage == LifecycleStage.LIVE:
        await request(engine, AssessmentType.LIVE_PERIODIC, actor, "periodic live assessment due")


async def request(
    engine: CaseEngine[LifecycleCase], kind: AssessmentType, actor: str, reason: str
) -> None:
    """Start an assessment child; it outlives this run if the service continues as new.

    One of the same type left open from an earlier round is cancelled first (its report
    could no longer count). An id someone else has taken is skipped, not fatal.
    """
    case = engine.case
    stale = [
        a
        for a in case.open_assessments.values()
        if a.type == kind and not case.in_this_round(a.assessment_id)
    ]
    await cancel(case, stale, actor, f"a new {case.state} round began")
    if any(a.type == kind for a in case.open_assessments.values()):
        return
    contract = case.artefacts.get("service_contract")
    assert contract is not None
    for _ in range(MAX_ID_ATTEMPTS):
        case.assessments_requested += 1
        assessment_id = assessment_id_for(case.contract.service_id, case.assessments_requested)
        wanted = AssessmentInput(
            assessment_id=assessment_id,
            service_id=case.contract.service_id,
            service_name=case.contract.name,
            type=kind,
            stage=case.stage,
            service_manager=case.service_manager,
            team=case.team,
            contract=contract,
            requested_by=actor,
            reason=reason,
            lifecycle_workflow_id=workflow.info().workflow_id,
            policy=case.policy,
            directory=case.directory,
        )
        try:
            child = await workflow.start_child_workflow(
                AssessmentWorkflow.run,
                wanted,
                id=wanted.workflow_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=f"{kind} assessment of {inline(case.title)}",
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.warning("assessment.id_taken", extra={"id": wanted.workflow_id})
            continue
        let_go(child)
        case.open_assessments[assessment_id] = OpenAssessment(
            assessment_id=assessment_id,
            type=kind,
            workflow_id=wanted.workflow_id,
            requested_at=workflow.now(),
        )
        return
    raise OsomError(f"no free assessment id for {case.contract.service_id}")


async def close_all(engine: CaseEngine[LifecycleCase], actor: str, data: object) -> None:
    case = engine.case
    await cancel(case, list(case.open_assessments.values()), actor, f"{case.title} is {case.state}")


async def cancel(
    case: LifecycleCase, assessments: list[OpenAssessment], actor: str, reason: str
) -> None:
    """Cancel open assessments as ``actor`` (A10, checked and audited in each of them)."""
    for assessment in assessments:
        decision = {
            "decision_id": f"{assessment.assessment_id}-cancelled-by-lifecycle",
            "trigger": "assessment_cancelled",
            "actor": actor if actor != SYSTEM.person else case.directory.executive.id,
            "reason": reason,
        }
        child = workflow.get_external_workflow_handle(assessment.workflow_id)
        try:
            await child.signal(DECIDE_SIGNAL, decision)
        except FailureError:  # an operator ended it already
            workflow.logger.warning(
                "assessment.gone", extra={"assessment_id": assessment.assessment_id}
            )
        case.open_assessments.pop(assessment.assessment_id, None)


# -- what they publish ------------------------------------------------------------------------


async def concluded(engine: CaseEngine[LifecycleCase], outcome: AssessmentOutcome) -> bool:
    """Counts only what the artefact store holds for one of this service's open
    assessments: the signal itself is trusted for nothing else."""
    case = engine.case
    expected = case.open_assessments.get(outcome.assessment_id)
    if expected is None:  # closed by this case already, or not one of its own
        workflow.logger.info("assessment.not_open", extra={"assessment_id": outcome.assessment_id})
        return False
    document = await stored_outcome(case, outcome, expected)
    if document is None:
        workflow.logger.warning(
            "assessment.unverified", extra={"assessment_id": outcome.assessment_id}
        )
        return False
    del case.open_assessments[outcome.assessment_id]
    try:
        return await take_in(engine, expected, outcome.record, document)
    except (OsomError, FailureError) as err:  # the report is kept; L13 is not applied
        workflow.logger.warning("assessment.not_recorded", extra={"error": str(err)})
        return True


async def take_in(
    engine: CaseEngine[LifecycleCase],
    expected: OpenAssessment,
    record: ArtefactRef,
    document: AssessmentReport | AssessmentClosure,
) -> bool:
    """Record a concluded assessment; whether the case is left to bring up to date (a move
    the engine fires brings it up to date itself)."""
    case = engine.case
    if isinstance(document, AssessmentClosure):
        reason = f"{expected.assessment_id} ({expected.type}) closed: {document.reason}"
        engine.audit(SYSTEM, "assessment_cancelled", case.state, case.state, "system", reason)
        return True
    summary = ReportSummary(
        assessment_id=document.assessment_id,
        type=document.assessment_type,
        stage=document.stage,
        result=document.result,
        lifecycle_decision=document.lifecycle_decision,
        published_at=document.published_at,
        report=record,
    )
    case.reports[summary.assessment_id] = summary
    reason = (
        f"{summary.assessment_id} {summary.type} report published: {summary.result}, "
        f"{summary.lifecycle_decision}"
    )
    if case.stage == LifecycleStage.LIVE and summary.type in LIVE_TYPES:
        await engine.fire_automatic("periodic_assessment_recorded", summary, reason)
        return False
    engine.audit(SYSTEM, "assessment_report_published", case.state, case.state, "system", reason)
    engine.notify(
        "info",
        [case.directory.executive.id, case.service_manager],
        f"{case.title}: {summary.type} report published — {summary.lifecycle_decision}",
        f"{reason}\nThe Executive decides the move citing {summary.assessment_id}.",
    )
    return True


async def stored_outcome(
    case: LifecycleCase, outcome: AssessmentOutcome, expected: OpenAssessment
) -> AssessmentReport | AssessmentClosure | None:
    """The report or closure record the store holds where this assessment writes it."""
    kind = "assessment_report" if outcome.state == "PUBLISHED" else "assessment_closure"
    service = lifecycle_workflow_id(case.contract.service_id)
    folder = f"{service}/assessments/{expected.assessment_id}"
    if not outcome.record.stored_under(folder) or outcome.record.kind != kind:
        return None
    model: type[AssessmentReport | AssessmentClosure] = (
        AssessmentReport if kind == "assessment_report" else AssessmentClosure
    )
    summary = f"read the {kind.replace('_', ' ')} of {expected.assessment_id}"
    document = await _records.read_stored(outcome.record, model, summary)
    if document is None:
        return None
    if (
        document.assessment_id != expected.assessment_id
        or document.assessment_type != expected.type
        or document.service_id != case.contract.service_id
    ):
        return None
    return document

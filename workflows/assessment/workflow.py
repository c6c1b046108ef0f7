"""The durable workflow of one assessment, a child of its service's lifecycle (DOMAIN §9.2).

It is requested by the lifecycle (at a gate, on the live cadence, or when someone asks), runs its
own deadlines, and when the report is published (or the assessment cancelled) it tells the
lifecycle, which keeps the report for the Executive's gate decision.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from models.assessment import (
        AssessmentCase,
        AssessmentClosure,
        AssessmentInput,
        AssessmentOutcome,
        AssessmentReport,
        AssessorEntry,
        ReportCriterion,
        ReportPublication,
        ServiceChange,
    )
    from models.commands import ArtefactRef
    from models.criteria import CATALOGUE
    from models.ids import lifecycle_workflow_id
    from models.people import ActingAs
    from models.signals import ASSESSMENT_CONCLUDED, SERVICE_CHANGED
    from workflows import _records
    from workflows._case import CaseEngine, WorkflowEffect
    from workflows._handlers import CaseWorkflow, SignalRoute
    from workflows.assessment.definition import ASSESSMENT
    from workflows.assessment.rules import report_result


@workflow.defn(name="Assessment", failure_exception_types=[ValidationError])
class AssessmentWorkflow(CaseWorkflow[AssessmentCase]):
    """One assessment of one service, from requested to report published (or cancelled)."""

    DEFINITION = ASSESSMENT

    @workflow.init
    def __init__(self, input: AssessmentInput) -> None:
        super().__init__()
        self._input = input
        self._newest_contract = input.contract.version
        case = AssessmentCase(
            request=input,
            contract=input.contract,
            service_manager=input.service_manager,
            directory=input.directory,
            policy=input.policy,
        )
        self._engine = CaseEngine(ASSESSMENT, case, self.steps())
        self._opened = True  # everything it needs came with the request

    def steps(self) -> dict[str, WorkflowEffect]:
        return {"publish_report": self._publish_report}

    @workflow.run
    async def run(self, input: AssessmentInput) -> AssessmentOutcome:
        engine = self._ready()
        case = engine.case
        requester = ActingAs(person=input.requested_by, role="lifecycle")
        engine.started(requester, "assessment_requested", input.reason)
        engine.run_effects(
            ASSESSMENT.start_effects,
            f"Assessment requested: {case.title}",
            f"{input.reason}\nBook a date and a panel (assessment_scheduled).",
        )
        await asyncio.gather(
            engine.keep_deadlines(), engine.deliver_notifications(), engine.keep_record()
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        outcome = await self._outcome()
        try:
            lifecycle = workflow.get_external_workflow_handle(input.lifecycle_workflow_id)
            await lifecycle.signal(ASSESSMENT_CONCLUDED, outcome)
        except FailureError:  # the service's case has ended; the record stays in the store
            workflow.logger.warning(
                "assessment.lifecycle_gone", extra={"lifecycle": input.lifecycle_workflow_id}
            )
        return outcome

    def signal_routes(self, engine: CaseEngine[AssessmentCase]) -> dict[str, SignalRoute]:
        """Besides people's signals: from the lifecycle, where the service's newest contract
        version is stored."""
        return {
            **super().signal_routes(engine),
            SERVICE_CHANGED: SignalRoute(ServiceChange, self.service_changed),
        }

    async def service_changed(self, change: ServiceChange) -> bool:
        """Follow the service: its newest contract until the agenda pins one, and the Service
        Manager that contract names. Only what the store holds for this service counts, and
        only a version newer than any seen before."""
        engine = self._ready()
        case = engine.case
        contract = await _records.stored_contract(change.contract, self._input.service_id)
        if contract is None or change.contract.version <= self._newest_contract:
            return False
        self._newest_contract = change.contract.version
        if case.contract_version is None:
            case.contract = change.contract
        if contract.service_manager:
            case.service_manager = contract.service_manager
        return True

    async def _publish_report(self, actor: str, data: object) -> ArtefactRef:
        """A7: the report with every field of DOMAIN §7.5, written as a readable document."""
        engine = self._ready()
        case = engine.case
        assert isinstance(data, ReportPublication)
        assert case.schedule is not None
        request = case.request
        names = {p.id: p.name for p in case.directory.people}
        result = report_result(case, data)
        report = AssessmentReport(
            assessment_id=request.assessment_id,
            assessment_type=request.type,
            service_id=request.service_id,
            service_name=request.service_name,
            assessment_date=case.held_at or case.schedule.date,
            result=result,
            result_rule=case.policy.assessment.overall_result_rule,
            result_overridden=data.result_override is not None,
            stage=request.stage,
            service_manager=case.service_manager,
            service_contract_ref=f"{request.service_id}@v{case.contract_version} "
            f"(service/{request.service_id}/service_contract/v{case.contract_version}.md)",
            contract_version=case.contract_version or case.contract.version,
            assessors=[
                AssessorEntry(
                    person=p.person,
                    name=names.get(p.person, p.person),
                    role="LEAD_ASSESSOR" if p.lead else "ASSESSOR",
                )
                for p in case.schedule.panel
            ],
            criteria=[
                ReportCriterion(**d.model_dump(), name=CATALOGUE[d.code]) for d in case.decisions
            ],
            lifecycle_decision=data.lifecycle_decision,
            overall_rationale=data.overall_rationale,
            actions=data.actions,
            published_at=workflow.now(),
            published_by=actor,
        )
        ref = await _records.store(self._folder(), "assessment_report", 1, report)
        case.report = report
        case.artefacts["assessment_report"] = ref
        return ref

    async def _outcome(self) -> AssessmentOutcome:
        """Where the report is stored, or (cancelled) a closure record stored now."""
        engine = self._ready()
        case = engine.case
        request = case.request
        report = case.artefacts.get("assessment_report")
        state: Literal["PUBLISHED", "CANCELLED"] = "PUBLISHED"
        if case.state != "PUBLISHED" or report is None:
            closing = next((e for e in reversed(case.audit) if e.to_state == "CANCELLED"), None)
            closure = AssessmentClosure(
                assessment_id=request.assessment_id,
                assessment_type=request.type,
                service_id=request.service_id,
                closed_at=workflow.now(),
                closed_by=closing.actor if closing else "SYSTEM",
                reason=(closing.reason if closing else None) or "cancelled",
            )
            report = await _records.store(self._folder(), "assessment_closure", 1, closure)
            state = "CANCELLED"
        return AssessmentOutcome(
            assessment_id=request.assessment_id,
            service_id=request.service_id,
            state=state,
            record=report,
        )

    def _folder(self) -> str:
        request = self._input
        return f"{lifecycle_workflow_id(request.service_id)}/assessments/{request.assessment_id}"

"""The durable workflow of one service, from discovery to decommissioned (DOMAIN §9.1).

It starts when an establishment case publishes contract v1 (L1) or when the Executive onboards an
existing service (L2). It requests an assessment child at each gate and on the live cadence, keeps
the reports they publish, and moves only on the Executive's decisions. A service lives for years,
so each run hands its state to the next (continue-as-new) before its history grows large.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from models.assessment import (
        GATE_FOR_STAGE,
        AssessmentClosure,
        AssessmentInput,
        AssessmentOutcome,
        AssessmentReport,
        ReportSummary,
        ServiceChange,
        assessment_id_for,
    )
    from models.coe import (
        ActionsRegister,
        CoeActionsNotice,
        CoeSeen,
        ServiceProfile,
    )
    from models.commands import ArtefactRef
    from models.criteria import AssessmentType
    from models.errors import GuardFailed, OsomError
    from models.ids import coe_workflow_id, is_proposal, lifecycle_workflow_id
    from models.lifecycle import (
        AssessmentRequest,
        LifecycleCase,
        LifecycleInput,
        OpenAssessment,
    )
    from models.markdown import inline
    from models.people import ActingAs, Directory
    from models.policy import Policy
    from models.signals import (
        ASSESSMENT_CONCLUDED,
        COE_ACTIONS_CHANGED,
        DECIDE_SIGNAL,
        SERVICE_CHANGED,
    )
    from models.stages import LifecycleStage
    from workflows import _records
    from workflows._case import SYSTEM, CaseEngine, WorkflowEffect
    from workflows._errors import refusal
    from workflows._handlers import CaseWorkflow, SignalRoute, let_go
    from workflows._timers import TimerEvent
    from workflows.assessment.workflow import AssessmentWorkflow
    from workflows.lifecycle.definition import LIFECYCLE
    from workflows.lifecycle.rules import (
        LIVE_TYPES,
        check_onboarding,
        gate_hold_key,
        next_gate_hold,
    )

# A run hands over to the next once its history reaches this many events (or the server
# suggests it): well under Temporal's limits, and quick to replay.
MAX_RUN_EVENTS = 1_000
# The audit entries a run carries over; older ones are archived in the artefact store.
CARRIED_AUDIT = 50
# Assessment ids someone else's workflow has taken are skipped, this many at most.
MAX_ID_ATTEMPTS = 5


class LifecycleOutcome(BaseModel):
    service_id: str
    state: str
    contract: ArtefactRef | None


class AuditArchive(BaseModel):
    run: int
    entries: list[dict[str, object]]


@workflow.defn(name="ServiceLifecycle", failure_exception_types=[ValidationError])
class LifecycleWorkflow(CaseWorkflow[LifecycleCase]):
    """One service's whole life: phases, gates, budgets, contract versions, assessments."""

    DEFINITION = LIFECYCLE

    @workflow.init
    def __init__(self, input: LifecycleInput) -> None:
        super().__init__()
        self._input = input
        if input.carried is not None:
            self._open(input.carried)
        elif input.policy is not None and input.directory is not None:
            self._open(self._new_case(input.directory, input.policy))

    @workflow.run
    async def run(self, input: LifecycleInput) -> LifecycleOutcome:
        expected_id = lifecycle_workflow_id(input.contract.service_id)
        if workflow.info().workflow_id != expected_id:
            raise refusal(
                GuardFailed(
                    f"a service's lifecycle id is {expected_id}, not {workflow.info().workflow_id}",
                    problems=["workflow id must be service/<service id>"],
                )
            )
        if self._engine is None:
            context = await self._load_context()
            self._open(
                self._new_case(input.directory or context.directory, input.policy or context.policy)
            )
        engine = self._ready()
        if input.carried is None:
            await self._begin(engine, input)
        else:
            engine.resumed()
        self._opened = True
        await asyncio.gather(
            engine.keep_deadlines(),
            engine.timers.keep(self._next_gate_hold, self._gate_held, self._gate_hold_summary),
            engine.deliver_notifications(),
            self._hand_over_when_long(),
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        case = engine.case
        return LifecycleOutcome(
            service_id=case.contract.service_id,
            state=case.state,
            contract=case.artefacts.get("service_contract"),
        )

    async def _begin(self, engine: CaseEngine[LifecycleCase], input: LifecycleInput) -> None:
        """L1 (handed over by establishment) or L2 (an existing service onboarded)."""
        case = engine.case
        try:
            acting = self._check_start(case, input)
            if input.contract_ref is None:
                await self._publish_contract(input.started_by, None)
            else:
                case.artefacts["service_contract"] = input.contract_ref
            if case.stage in GATE_FOR_STAGE:
                gate = GATE_FOR_STAGE[case.stage]
                await self._request(gate, SYSTEM.person, f"{case.state} began")
        except (OsomError, FailureError) as err:
            self._refused = err if isinstance(err, OsomError) else OsomError(str(err))
            raise refusal(self._refused) from err
        trigger = "existing_service_onboarded" if input.onboarded else "service_established"
        engine.started(acting, trigger, None)
        engine.notify(
            "info",
            [case.service_manager, case.directory.executive.id],
            f"{case.title} is in {case.state}",
            f"Contract v{case.contract.version} published; the {case.state} phase has begun.",
        )

    def _check_start(self, case: LifecycleCase, input: LifecycleInput) -> ActingAs:
        if not input.onboarded:
            # L1: only an establishment case hands a service over (it checked who published
            # contract v1); anything else must onboard the service (L2) and be checked for it.
            parent = workflow.info().parent
            if parent is None or not is_proposal(parent.workflow_id):
                raise GuardFailed(
                    "L1 service_established comes from an establishment case; to bring in an "
                    "existing service, onboard it (L2, onboarded: true)",
                    problems=["not started by an establishment case"],
                )
            return ActingAs(person=input.started_by, role="EXEC (via establishment)")
        return check_onboarding(case.contract, input.budget, input.started_by, case.directory)

    # -- from the assessments -----------------------------------------------------------------

    def signal_routes(self, engine: CaseEngine[LifecycleCase]) -> dict[str, SignalRoute]:
        """Besides people's signals: from an assessment child, where its report (or closure
        record) is stored; from a CoE of this service, where its newest corrective actions
        register is stored (its open actions count for this service's gates)."""
        return {
            **super().signal_routes(engine),
            ASSESSMENT_CONCLUDED: SignalRoute(AssessmentOutcome, self.assessment_concluded),
            COE_ACTIONS_CHANGED: SignalRoute(CoeActionsNotice, self.coe_actions_changed),
        }

    async def assessment_concluded(self, outcome: AssessmentOutcome) -> bool:
        """Counts only what the artefact store holds for one of this service's open
        assessments: the signal itself is trusted for nothing else."""
        engine = self._ready()
        case = engine.case
        expected = case.open_assessments.get(outcome.assessment_id)
        if expected is None:  # closed by this case already, or not one of its own
            workflow.logger.info(
                "assessment.not_open", extra={"assessment_id": outcome.assessment_id}
            )
            return False
        document = await self._stored_outcome(outcome, expected)
        if document is None:
            workflow.logger.warning(
                "assessment.unverified", extra={"assessment_id": outcome.assessment_id}
            )
            return False
        del case.open_assessments[outcome.assessment_id]
        try:
            return await self._take_in(engine, expected, outcome.record, document)
        except (OsomError, FailureError) as err:  # the report is kept; L13 is not applied
            workflow.logger.warning("assessment.not_recorded", extra={"error": str(err)})
            return True

    async def _take_in(
        self,
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
        engine.audit(
            SYSTEM, "assessment_report_published", case.state, case.state, "system", reason
        )
        engine.notify(
            "info",
            [case.directory.executive.id, case.service_manager],
            f"{case.title}: {summary.type} report published — {summary.lifecycle_decision}",
            f"{reason}\nThe Executive decides the move citing {summary.assessment_id}.",
        )
        return True

    async def _stored_outcome(
        self, outcome: AssessmentOutcome, expected: OpenAssessment
    ) -> AssessmentReport | AssessmentClosure | None:
        """The report or closure record the store holds where this assessment writes it."""
        case = self._ready().case
        kind = "assessment_report" if outcome.state == "PUBLISHED" else "assessment_closure"
        service = lifecycle_workflow_id(case.contract.service_id)
        folder = f"{service}/assessments/{expected.assessment_id}/{kind}/"
        if folder not in outcome.record.json_path or outcome.record.kind != kind:
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

    # -- from the service's Corrections of Error ------------------------------------------------

    @workflow.query(
        name="service_profile",
        description="The service's name, phase, Service Manager and team (for its CoEs).",
    )
    def service_profile(self) -> ServiceProfile:
        case = self._ready().case
        return ServiceProfile(
            service_id=case.contract.service_id,
            name=case.contract.name,
            service_manager=case.service_manager,
            stage=case.state,
            team=case.team,
            in_engine=True,
        )

    async def coe_actions_changed(self, notice: CoeActionsNotice) -> bool:
        """Counts only a register the store holds for that CoE and this service, newer than
        the last one taken in: the signal itself is trusted for nothing else."""
        engine = self._ready()
        case = engine.case
        register = await self._stored_register(notice)
        seen = case.coes.get(notice.coe_id)
        if register is None or (seen is not None and register.version <= seen.register_version):
            workflow.logger.warning("coe.register_ignored", extra={"coe": notice.coe_id})
            return False
        case.coes[notice.coe_id] = CoeSeen(
            register_version=register.version,
            ended=register.ended,
            open_actions=register.open_actions(),
        )
        current = {
            gate_hold_key(coe_id, a)
            for coe_id, seen in case.coes.items()
            for a in seen.open_actions
        }
        case.gate_holds = [key for key in case.gate_holds if key in current]
        return True

    def _next_gate_hold(self) -> TimerEvent | None:
        engine = self._ready()
        return None if engine.final() else next_gate_hold(engine.case)

    async def _gate_held(self, key: str, kind: str) -> None:
        """An action has just become long overdue: progress and go-live wait for it. Say so
        (the case page and who the case waits for change now, not at the next command)."""
        engine = self._ready()
        case = engine.case
        case.gate_holds.append(key)
        coe_id, action_id, due = key.split("/")
        reason = (
            f"{coe_id} {action_id} (due {due}) is more than {case.policy.coe.gate_overdue_wd} "
            "working days overdue: progress and go-live wait until it is done or cancelled"
        )
        engine.audit(SYSTEM, "gate_held_by_action", case.state, case.state, "system", reason)
        engine.notify(
            "escalation",
            [case.service_manager, case.directory.executive.id],
            f"{case.title}: gates held by {coe_id} {action_id}",
            reason,
        )

    def _gate_hold_summary(self, key: str, kind: str) -> str:
        return f"corrective action {key} holds the gates"

    async def _stored_register(self, notice: CoeActionsNotice) -> ActionsRegister | None:
        ref = notice.actions
        if ref.kind != "corrective_actions" or f"coe/{notice.coe_id}/corrective_actions/" not in (
            ref.json_path
        ):
            return None
        engine = self._ready()
        summary = f"read the corrective actions of {notice.coe_id}"
        register = await _records.read_stored(ref, ActionsRegister, summary)
        case = engine.case
        if (
            register is None
            or register.coe_id != notice.coe_id
            or register.service_id != case.contract.service_id
            or register.version != ref.version
        ):
            return None
        return register

    # -- this process's own steps -------------------------------------------------------------

    async def _publish_contract(self, actor: str, data: object) -> ArtefactRef:
        """The next contract version, stamped with the phase the service is now in."""
        engine = self._ready()
        case = engine.case
        published = case.artefacts.get("service_contract")
        version = published.version + 1 if published else max(case.contract.version, 1)
        contract = case.contract.model_copy(
            update={
                "version": version,
                "published_at": workflow.now(),
                "published_by": actor,
                "lifecycle_stage": case.stage,
                "onboarded_existing": case.onboarded_existing,
            }
        )
        ref = await _records.store(
            lifecycle_workflow_id(contract.service_id), "service_contract", version, contract
        )
        case.contract = contract
        case.artefacts["service_contract"] = ref
        await self._tell_followers(ServiceChange(contract=ref))
        return ref

    async def _tell_followers(self, change: ServiceChange) -> None:
        """Open assessments and the service's CoEs follow the service: its newest contract
        (until an assessment's agenda pins one) and its current Service Manager (DOMAIN §9.5
        service_manager_replaced)."""
        case = self._ready().case
        followers = [a.workflow_id for a in case.open_assessments.values()]
        followers += [
            coe_workflow_id(coe_id) for coe_id, seen in sorted(case.coes.items()) if not seen.ended
        ]
        for workflow_id in followers:
            follower = workflow.get_external_workflow_handle(workflow_id)
            try:
                await follower.signal(SERVICE_CHANGED, change)
            except FailureError:  # ended already (a closed CoE, an assessment an operator ended)
                workflow.logger.info("follower.gone", extra={"follower": workflow_id})

    async def _request_gate(self, actor: str, data: object) -> None:
        case = self._ready().case
        kind = GATE_FOR_STAGE.get(case.stage)
        if kind is not None:
            await self._request(kind, actor, f"{case.state} round began")

    async def _request_asked(self, actor: str, data: object) -> None:
        assert isinstance(data, AssessmentRequest)
        await self._request(data.type, actor, f"requested by {actor}")

    async def _request_live(self, actor: str, data: object) -> None:
        case = self._ready().case
        if case.stage == LifecycleStage.LIVE:
            await self._request(AssessmentType.LIVE_PERIODIC, actor, "periodic live assessment due")

    async def _request(self, kind: AssessmentType, actor: str, reason: str) -> None:
        """Start an assessment child; it outlives this run if the service continues as new.

        One of the same type left open from an earlier round is cancelled first (its report
        could no longer count). An id someone else has taken is skipped, not fatal.
        """
        engine = self._ready()
        case = engine.case
        stale = [
            a
            for a in case.open_assessments.values()
            if a.type == kind and not case.in_this_round(a.assessment_id)
        ]
        await self._cancel(stale, actor, f"a new {case.state} round began")
        if any(a.type == kind for a in case.open_assessments.values()):
            return
        contract = case.artefacts.get("service_contract")
        assert contract is not None
        for _ in range(MAX_ID_ATTEMPTS):
            case.assessments_requested += 1
            assessment_id = assessment_id_for(case.contract.service_id, case.assessments_requested)
            request = AssessmentInput(
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
                    request,
                    id=request.workflow_id,
                    parent_close_policy=ParentClosePolicy.ABANDON,
                    static_summary=f"{kind} assessment of {inline(case.title)}",
                )
            except WorkflowAlreadyStartedError:
                workflow.logger.warning("assessment.id_taken", extra={"id": request.workflow_id})
                continue
            let_go(child)
            case.open_assessments[assessment_id] = OpenAssessment(
                assessment_id=assessment_id,
                type=kind,
                workflow_id=request.workflow_id,
                requested_at=workflow.now(),
            )
            return
        raise OsomError(f"no free assessment id for {case.contract.service_id}")

    async def _close_assessments(self, actor: str, data: object) -> None:
        case = self._ready().case
        await self._cancel(
            list(case.open_assessments.values()), actor, f"{case.title} is {case.state}"
        )

    async def _cancel(self, assessments: list[OpenAssessment], actor: str, reason: str) -> None:
        """Cancel open assessments as ``actor`` (A10, checked and audited in each of them)."""
        case = self._ready().case
        for assessment in assessments:
            cancel = {
                "decision_id": f"{assessment.assessment_id}-cancelled-by-lifecycle",
                "trigger": "assessment_cancelled",
                "actor": actor if actor != SYSTEM.person else case.directory.executive.id,
                "reason": reason,
            }
            child = workflow.get_external_workflow_handle(assessment.workflow_id)
            try:
                await child.signal(DECIDE_SIGNAL, cancel)
            except FailureError:  # an operator ended it already
                workflow.logger.warning(
                    "assessment.gone", extra={"assessment_id": assessment.assessment_id}
                )
            case.open_assessments.pop(assessment.assessment_id, None)

    async def _check_metric_reports(self, actor: str, data: object) -> None:
        """The reporting period ended: flag it to the SM if nothing came, escalate repeats."""
        engine = self._ready()
        case = engine.case
        if case.metrics_reported_since_check:
            case.metrics_reported_since_check = False
            return
        case.metric_misses += 1
        escalate = case.metric_misses >= case.policy.lifecycle.metric_misses_before_escalation
        to = [case.service_manager] + ([case.directory.executive.id] if escalate else [])
        engine.notify(
            "escalation" if escalate else "reminder",
            to,
            f"{'ESCALATED: ' if escalate else ''}No contract metric values reported for "
            f"{case.contract.service_id} ({case.metric_misses} period(s) in a row)",
            f"{case.title}: submit a metric_report for the period just ended.",
        )

    # -- a long life in bounded runs ----------------------------------------------------------

    async def _hand_over_when_long(self) -> None:
        """Continue as new once the history is long, at a quiet moment, carrying the case."""
        engine = self._ready()
        await workflow.wait_condition(
            lambda: (
                self._ready().final()
                or workflow.info().get_current_history_length() > MAX_RUN_EVENTS
                or workflow.info().is_continue_as_new_suggested()
            )
        )
        if self._ready().final():
            return
        try:
            archived = await self._archive_audit(engine)
        except OsomError as err:  # the next run carries the whole log instead
            workflow.logger.warning("audit.archive_failed", extra={"error": err.message})
            archived = 0

        def quiet() -> bool:
            # No command or deadline half way, no notification waiting to be sent.
            return (
                workflow.all_handlers_finished()
                and not engine.busy
                and not engine.has_queued_notifications()
            )

        # Checked again right before handing over: nothing may run between the check and it.
        while not quiet():
            await workflow.wait_condition(quiet)
        case = engine.case
        case.audit = case.audit[archived:]
        case.runs += 1
        workflow.continue_as_new(
            LifecycleInput(contract=case.contract, started_by=self._input.started_by, carried=case)
        )

    async def _archive_audit(self, engine: CaseEngine[LifecycleCase]) -> int:
        """Store the audit entries this run will not carry; return how many they are."""
        case = engine.case
        older = case.audit[:-CARRIED_AUDIT]
        if not older:
            return 0
        archive = AuditArchive(run=case.runs, entries=[e.model_dump(mode="json") for e in older])
        folder = f"{lifecycle_workflow_id(case.contract.service_id)}/audit"
        await _records.store(folder, "audit_log", case.runs, archive)
        return len(older)

    # -- opening the case ---------------------------------------------------------------------

    def _new_case(self, directory: Directory, policy: Policy) -> LifecycleCase:
        input = self._input
        stage = input.contract.lifecycle_stage if input.onboarded else LifecycleStage.DISCOVERY
        budgets = {input.budget.phase: input.budget} if input.budget else {}
        return LifecycleCase(
            contract=input.contract,
            state=stage,
            onboarded_existing=input.onboarded,
            team=input.team,
            budgets=budgets,
            discovery_target=input.discovery_target,
            phase_entered_at=workflow.now() - timedelta(seconds=1),
            directory=directory,
            policy=policy,
        )

    def _open(self, case: LifecycleCase) -> None:
        self._engine = CaseEngine(LIFECYCLE, case, self.steps())

    def steps(self) -> dict[str, WorkflowEffect]:
        return {
            "publish_contract": self._publish_contract,
            "request_gate_assessment": self._request_gate,
            "request_assessment": self._request_asked,
            "close_assessments": self._close_assessments,
            "request_live_assessment": self._request_live,
            "check_metric_reports": self._check_metric_reports,
        }

    def _starting_identity(self) -> tuple[str, str]:
        contract = self._input.contract
        return contract.service_id, f"{contract.service_id} {contract.name}"

"""The durable workflow of one service, from discovery to decommissioned (DOMAIN §9.1).

It starts when an establishment case publishes contract v1 (L1) or when the Executive onboards an
existing service (L2). It requests an assessment child at each gate and on the live cadence, keeps
the reports they publish, and moves only on the Executive's decisions. A service lives for years,
so each run hands its state to the next (continue-as-new) before its history grows large.

This class holds the Temporal handlers; what they do lives beside it: the assessments
(``assessments``), the service's CoEs (``coes``), the contract and its followers (``contract``)
and the hand-over between runs (``handover``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from models.assessment import GATE_FOR_STAGE, AssessmentOutcome
    from models.coe import ServiceProfile
    from models.coe_actions import CoeActionsNotice
    from models.commands import ArtefactRef
    from models.errors import GuardFailed, OsomError
    from models.ids import is_proposal, lifecycle_workflow_id
    from models.lifecycle import LifecycleCase, LifecycleInput
    from models.people import ActingAs, Directory
    from models.policy import Policy
    from models.signals import ASSESSMENT_CONCLUDED, COE_ACTIONS_CHANGED
    from models.stages import LifecycleStage
    from workflows._case import SYSTEM, CaseEngine, WorkflowEffect
    from workflows._errors import refusal
    from workflows._handlers import CaseWorkflow, SignalRoute
    from workflows.lifecycle import assessments, coes, contract, handover
    from workflows.lifecycle.definition import LIFECYCLE
    from workflows.lifecycle.rules import check_onboarding

# A step of the workflow's own, given the engine it runs for.
Step = Callable[[CaseEngine[LifecycleCase], str, Any], Awaitable[ArtefactRef | None]]


class LifecycleOutcome(BaseModel):
    service_id: str
    state: str
    contract: ArtefactRef | None


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
        self._require_id(
            lifecycle_workflow_id(input.contract.service_id),
            "a service's lifecycle id",
            "service/<service id>",
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
        holds = coes.GateHolds(engine)
        await asyncio.gather(
            engine.keep_deadlines(),
            engine.timers.keep(holds.next_hold, holds.held, holds.summary),
            engine.deliver_notifications(),
            engine.keep_record(),
            handover.hand_over_when_long(engine, self._input.started_by),
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
                await contract.publish(engine, input.started_by, None)
            else:
                case.artefacts["service_contract"] = input.contract_ref
            if case.stage in GATE_FOR_STAGE:
                gate = GATE_FOR_STAGE[case.stage]
                await assessments.request(engine, gate, SYSTEM.person, f"{case.state} began")
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

    # -- from the assessments and the service's Corrections of Error --------------------------

    def signal_routes(self, engine: CaseEngine[LifecycleCase]) -> dict[str, SignalRoute]:
        """Besides people's signals: from an assessment child, where its report (or closure
        record) is stored; from a CoE of this service, where its newest corrective actions
        register is stored (its open actions count for this service's gates)."""

        async def concluded(outcome: AssessmentOutcome) -> bool:
            return await assessments.concluded(engine, outcome)

        async def actions_changed(notice: CoeActionsNotice) -> bool:
            return await coes.actions_changed(engine, notice)

        return {
            **super().signal_routes(engine),
            ASSESSMENT_CONCLUDED: SignalRoute(AssessmentOutcome, concluded),
            COE_ACTIONS_CHANGED: SignalRoute(CoeActionsNotice, actions_changed),
        }

    @workflow.query(
        name="service_profile",
        description="The service's name, phase, Service Manager and team (for its CoEs).",
    )
    def service_profile(self) -> ServiceProfile:
        return coes.profile(self._ready().case)

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
            "publish_contract": self._on_engine(contract.publish),
            "request_gate_assessment": self._on_engine(assessments.request_gate),
            "request_assessment": self._on_engine(assessments.request_asked),
            "close_assessments": self._on_engine(assessments.close_all),
            "request_live_assessment": self._on_engine(assessments.request_live),
            "check_metric_reports": self._on_engine(contract.check_metric_reports),
        }

    def _on_engine(self, step: Step) -> WorkflowEffect:
        """A step as the engine calls it (the actor, the data), run for this case's engine."""

        async def perform(actor: str, data: Any) -> ArtefactRef | None:
            return await step(self._ready(), actor, data)

        return perform

    def _starting_identity(self) -> tuple[str, str]:
        given = self._input.contract
        return given.service_id, f"{given.service_id} {given.name}"

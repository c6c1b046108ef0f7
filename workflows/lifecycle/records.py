"""Where the lifecycle's accepted data lands in the case: one function per row's ``record``."""

from __future__ import annotations

from collections.abc import Callable

from models.assessment import ReportSummary
from models.case_state import Context
from models.contract import BudgetAllocation, Decommission, MetricValue
from models.establishment import ServiceManagerAppointment
from models.lifecycle import (
    KEPT_METRIC_VALUES,
    ContractAlteration,
    ContractChangeProposal,
    DecommissionCompletion,
    DecommissionDecision,
    GateDecision,
    LifecycleCase,
    Mandate,
    MandateAcknowledgement,
    MandateIssued,
    MetricReport,
)
from models.stages import LifecycleStage
from workflows.lifecycle.rules import NEXT_PHASE, RoundDecision

Case = LifecycleCase
Stage = LifecycleStage


def new_round(phase: Stage) -> Callable[[Case, RoundDecision, Context], None]:
    def record(case: Case, data: RoundDecision, ctx: Context) -> None:
        budget = data.budget
        assert budget is not None  # the row's budget guard saw to it
        case.budgets[phase] = budget
        if phase == Stage.DISCOVERY:
            # Back in discovery: budgets for later phases belong to a plan that changed.
            for later in (Stage.ALPHA, Stage.BETA, Stage.LIVE):
                case.budgets.pop(later, None)
            case.discovery_round += 1
            case.discovery_target = None  # later rounds use the policy's working days
        else:
            case.alpha_round += 1
        case.begin_round(ctx.now)

    return record


def progress(case: Case, data: GateDecision, ctx: Context) -> None:
    target = NEXT_PHASE[case.stage]
    if data.budget is not None:
        case.budgets[target] = data.budget
    if target == Stage.ALPHA:
        case.alpha_round = 1
    case.begin_round(ctx.now)


def reassessment(case: Case, data: GateDecision, ctx: Context) -> None:
    """Reports count from now on: the reassessment's, not the NOT_MET one just decided."""
    case.begin_round(ctx.now)


def periodic(case: Case, data: ReportSummary, ctx: Context) -> None:
    case.last_assessed_at = data.published_at
    case.last_live_result = data.result


def decommission(case: Case, data: DecommissionDecision, ctx: Context) -> None:
    case.contract = case.contract.model_copy(
        update={
            "decommission": Decommission(
                reason_codes=[str(r) for r in data.reason_codes],
                narrative=data.narrative,
                lessons=data.lessons,
            ),
            "migration_guidance": data.migration_guidance or case.contract.migration_guidance,
        }
    )
    case.begin_round(ctx.now)


def guidance(case: Case, data: DecommissionCompletion, ctx: Context) -> None:
    if data.migration_guidance:
        case.contract = case.contract.model_copy(
            update={"migration_guidance": data.migration_guidance}
        )


def alteration(case: Case, data: ContractAlteration, ctx: Context) -> None:
    """The new content; what the lifecycle itself recorded (the SM, the phase, why and how the
    service is being retired) carries over."""
    case.contract = data.contract.model_copy(
        update={
            "service_manager": case.service_manager,
            "lifecycle_stage": case.stage,
            "decommission": case.contract.decommission,
            "migration_guidance": data.contract.migration_guidance
            or case.contract.migration_guidance,
        }
    )


def manager(case: Case, data: ServiceManagerAppointment, ctx: Context) -> None:
    case.contract = case.contract.model_copy(update={"service_manager": data.person})


def budget(case: Case, data: BudgetAllocation, ctx: Context) -> None:
    case.budgets[data.phase] = data


def mandate(case: Case, data: MandateIssued, ctx: Context) -> None:
    case.mandates.append(
        Mandate(id=data.id, statement=data.statement, issued_by=ctx.actor, issued_at=ctx.now)
    )


def acknowledgement(case: Case, data: MandateAcknowledgement, ctx: Context) -> None:
    case.mandates = [
        m.model_copy(update={"acknowledged_at": ctx.now}) if m.id == data.id else m
        for m in case.mandates
    ]


def metrics(case: Case, data: MetricReport, ctx: Context) -> None:
    for reading in data.values:
        values = case.metric_values.setdefault(reading.measure_id, [])
        values.append(
            MetricValue(
                period=data.period, value=reading.value, reported_at=ctx.now, reported_by=ctx.actor
            )
        )
        del values[:-KEPT_METRIC_VALUES]
    case.metrics_reported_since_check = True
    case.metric_misses = 0


def nothing(case: Case, data: ContractChangeProposal, ctx: Context) -> None:
    """Proposals are kept as artefacts only."""

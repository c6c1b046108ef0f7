"""The service lifecycle (DOMAIN §3, §9.1) as data: phases, L3-L20, guards, clocks, artefacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models.assessment import (
    GATE_FOR_STAGE,
    LifecycleDecision,
    Verdict,
    assessed_service,
)
from models.calendar import add_months, add_working_days
from models.coe import CorrectiveAction, long_overdue
from models.contract import (
    BudgetAllocation,
    ContractCheckpoint,
    Decommission,
    MetricValue,
    ServiceContract,
)
from models.criteria import AssessmentType
from models.errors import GuardFailed
from models.establishment import ServiceManagerAppointment
from models.lifecycle import (
    KEPT_METRIC_VALUES,
    AssessmentRequest,
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
    ReturnToDiscovery,
)
from models.people import ActingAs, CaseRole, Delegation, Directory, Permit, Role
from models.stages import CLOSING_STAGES, LifecycleStage
from workflows._definition import (
    ArtefactSpec,
    ClockSpec,
    Effect,
    Guard,
    ProcessDefinition,
    Requirement,
    StateSpec,
    TransitionSpec,
)

Case = LifecycleCase
Stage = LifecycleStage

EXEC = Permit(role=Role.EXEC)
SERVICE_MANAGER = Permit(role=CaseRole.SERVICE_MANAGER)


def etm(delegation: Delegation) -> Permit:
    return Permit(role=Role.ETM, delegation=delegation)


DECIDERS = (EXEC, etm(Delegation.DECIDE_LIFECYCLE))
FUNDERS = (EXEC, etm(Delegation.ALLOCATE_BUDGET))
PUBLISHERS = (EXEC, etm(Delegation.PUBLISH_CONTRACT))
APPOINTERS = (EXEC, etm(Delegation.APPOINT_SERVICE_MANAGER))
ASSESSMENT_ORGANISERS = (EXEC, etm(Delegation.ASSESSMENT_PANEL), SERVICE_MANAGER)
NEXT_PHASE = {Stage.DISCOVERY: Stage.ALPHA, Stage.ALPHA: Stage.BETA, Stage.BETA: Stage.LIVE}
OPEN_PHASES = (Stage.DISCOVERY, Stage.ALPHA, Stage.BETA, Stage.LIVE, Stage.DECOMMISSIONING)
LIVE_TYPES = frozenset(
    {AssessmentType.LIVE_PERIODIC, AssessmentType.REASSESSMENT, AssessmentType.AD_HOC}
)


# -- guards on the cited report ------------------------------------------------------------------


def report_guard(
    kind: AssessmentType, decisions: frozenset[LifecycleDecision], *, needs_met: bool = False
) -> Guard[Case]:
    """The decision cites a published report of this service, of ``kind``, from this phase,
    whose lifecycle decision is one of ``decisions`` (and whose result is MET, if needed)."""

    def check(case: Case, data: Any) -> list[str]:
        cited = getattr(data, "report", None)
        if cited is None:
            return [f"cite the published {kind} report (data.report)"]
        owner = assessed_service(cited)
        if owner != case.contract.service_id:
            return [f"report {cited} is about {owner}, not {case.contract.service_id}"]
        report = case.reports.get(cited)
        if report is None:
            return [f"no published report {cited} for {case.contract.service_id}"]
        problems = []
        if report.type != kind:
            problems.append(f"report {cited} is a {report.type} report; this needs {kind}")
        elif not case.in_this_round(cited):
            problems.append(f"report {cited} is from an earlier phase or round")
        if report.lifecycle_decision not in decisions:
            wanted = " or ".join(sorted(decisions))
            problems.append(
                f"report {cited} decided {report.lifecycle_decision}; this needs {wanted}"
            )
        if needs_met and report.result != Verdict.MET:
            problems.append(f"report {cited} is {report.result}; moving on needs MET")
        return problems

    names = "/".join(sorted(decisions))
    return Guard[Case](f"report_{kind.lower()}", f"{kind} report: {names}", check)


def _corrective_actions_on_time(case: Case) -> list[str]:
    """A service does not pass a gate while it ignores its own overdue corrective actions
    (policy switch ``coe.gate_on_overdue_actions``)."""
    policy = case.policy.coe
    if not policy.gate_on_overdue_actions:
        return []
    return [
        f"{coe_id} {action.label()} is more than {policy.gate_overdue_wd} working days overdue"
        for coe_id, seen in sorted(case.coes.items())
        for action in long_overdue(seen.open_actions, case.now(), policy.gate_overdue_wd)
    ]


def gate_hold_key(coe_id: str, action: CorrectiveAction) -> str:
    return f"{coe_id}/{action.id}/{action.due}"


def next_gate_hold(case: Case) -> tuple[str, datetime, str] | None:
    """The next moment an open corrective action starts holding the gates (not yet told)."""
    policy = case.policy.coe
    if not policy.gate_on_overdue_actions:
        return None
    moments = [
        (action.escalation_at(policy.gate_overdue_wd), gate_hold_key(coe_id, action))
        for coe_id, seen in case.coes.items()
        for action in seen.open_actions
        if gate_hold_key(coe_id, action) not in case.gate_holds
    ]
    if not moments:
        return None
    at, key = min(moments)
    return key, at, "gate_hold"


# Cleared by the actions' owners in the CoE cases, not by anyone in this one.
ACTIONS_ON_TIME = Requirement[Case](
    "actions_on_time",
    "no corrective action long overdue",
    _corrective_actions_on_time,
    "",
    condition=True,
)


def _gate_report_published(kind: AssessmentType) -> Requirement[Case]:
    def check(case: Case) -> list[str]:
        if case.gate_reports(kind):
            return []
        open_ = [a.assessment_id for a in case.open_assessments.values() if a.type == kind]
        where = f" (assessment {', '.join(open_)} is under way)" if open_ else ""
        return [f"no {kind} report published in this phase yet{where}"]

    # Supplied by the assessment's panel, in the assessment's own case: nobody here.
    return Requirement[Case](f"{kind.lower()}_report", f"{kind} report", check, "")


def _budget_in_decision(phase: Stage) -> Guard[Case]:
    def check(case: Case, data: Any) -> list[str]:
        budget = getattr(data, "budget", None)
        if budget is None:
            return [f"a new {phase} round needs its budget in the decision (data.budget)"]
        if budget.phase != phase:
            return [f"the budget is for {budget.phase}; this round needs a {phase} budget"]
        return []

    return Guard[Case](f"{phase.lower()}_budget", f"new {phase} budget", check)


def _next_budget_phase_matches(case: Case, data: Any) -> list[str]:
    budget = getattr(data, "budget", None)
    target = NEXT_PHASE.get(case.stage)
    if budget is not None and budget.phase != target:
        return [f"the budget in this decision is for {budget.phase}, not {target}"]
    return []


def _await_next_budget(case: Case, data: Any) -> str | None:
    """Progress waits for the next phase's budget (the funding gap, DOMAIN §3.4)."""
    target = NEXT_PHASE[case.stage]
    if target in case.budgets or getattr(data, "budget", None) is not None:
        return None
    return f"the {target} budget (budget_changed)"


def _contract_ready(checkpoint: ContractCheckpoint) -> Requirement[Case]:
    def check(case: Case) -> list[str]:
        return [
            f"contract v{case.contract.version} lacks {m}"
            for m in case.contract.missing_for(checkpoint)
        ]

    return Requirement[Case](
        f"contract_{checkpoint.lower()}",
        f"contract ready for {checkpoint}",
        check,
        "contract_altered",
    )


def _metrics_reported(case: Case) -> list[str]:
    missing = [m for m in case.contract_metric_ids() if not case.metric_values.get(m)]
    return [f"no reported value for contract measure {m}" for m in missing]


METRICS_REPORTED = Requirement[Case](
    "metrics_reported", "contract metric values", _metrics_reported, "metric_report"
)


def _return_allowed(case: Case, data: Any) -> list[str]:
    if not case.policy.lifecycle.allow_return_to_discovery:
        return ["the policy does not allow a return to discovery (allow_return_to_discovery)"]
    return []


def _no_dependants(case: Case, data: Any) -> list[str]:
    assert isinstance(data, DecommissionCompletion)
    if data.override_dependants:
        return []
    me = case.contract.service_id
    dependants = [
        s.id
        for s in case.directory.services
        if me in s.dependencies and s.takes_new_needs and s.id != me
    ]
    if dependants:
        return [
            f"{', '.join(dependants)} still depend on {me}; move them off it first, or the "
            "Executive overrides with a reason (override_dependants)"
        ]
    return []


def _migration_guidance(case: Case, data: Any) -> list[str]:
    if case.contract.migration_guidance or data.migration_guidance:
        return []
    return ["no migration guidance for users (send migration_guidance with the decision)"]


def _record_guidance(case: Case, data: Any, actor: str) -> None:
    if data.migration_guidance:
        case.contract = case.contract.model_copy(
            update={"migration_guidance": data.migration_guidance}
        )


def _alteration_fits(case: Case, data: Any) -> list[str]:
    assert isinstance(data, ContractAlteration)
    new, current = data.contract, case.contract
    problems = []
    if new.service_id != current.service_id:
        problems.append(f"the contract is {current.service_id}'s, not {new.service_id}'s")
    if new.service_manager not in (None, current.service_manager):
        problems.append("replace the Service Manager with service_manager_replaced")
    if new.decommission is not None:
        problems.append("decommissioning is decided with decommission_decided")
    if _content(new) == _content(current):
        problems.append("the new contract does not differ from the current version")
    return problems


def _content(contract: ServiceContract) -> dict[str, Any]:
    stamped = {"version", "published_at", "published_by", "service_manager", "lifecycle_stage"}
    return contract.model_dump(mode="json", exclude=stamped)


def _new_manager(case: Case, data: Any) -> list[str]:
    if data.person == case.service_manager:
        return [f"{data.person} already manages {case.contract.service_id}"]
    return case.directory.manager_conflicts(data.person)


def _budget_phase_current_or_next(case: Case, data: Any) -> list[str]:
    assert isinstance(data, BudgetAllocation)
    allowed = {case.stage, NEXT_PHASE.get(case.stage, case.stage)}
    if data.phase not in allowed:
        return [f"a budget for {data.phase} while {case.stage}: only {', '.join(sorted(allowed))}"]
    return []


def _mandate_new(case: Case, data: Any) -> list[str]:
    if any(m.id == data.id for m in case.mandates):
        return [f"mandate {data.id} was already issued"]
    return []


def _mandate_open(case: Case, data: Any) -> list[str]:
    mandate = next((m for m in case.mandates if m.id == data.id), None)
    if mandate is None:
        return [f"no mandate {data.id} for this service"]
    if mandate.acknowledged_at:
        return [f"mandate {data.id} was acknowledged on {mandate.acknowledged_at:%Y-%m-%d}"]
    return []


def _assessment_wanted(case: Case, data: Any) -> list[str]:
    assert isinstance(data, AssessmentRequest)
    gate = GATE_FOR_STAGE.get(case.stage)
    if data.type not in LIVE_TYPES and data.type != gate:
        return [f"a {case.stage} service is assessed with {gate or 'a live type'}, not {data.type}"]
    if case.stage == Stage.DECOMMISSIONING:
        return ["a service being decommissioned is not assessed"]
    if any(a.type == data.type for a in case.open_assessments.values()):
        return [f"a {data.type} assessment is already open"]
    return []


def _metrics_known(case: Case, data: Any) -> list[str]:
    assert isinstance(data, MetricReport)
    known = set(case.contract_metric_ids())
    unknown = [v.measure_id for v in data.values if v.measure_id not in known]
    if unknown:
        return [f"not contract measures of v{case.contract.version}: {', '.join(unknown)}"]
    return []


# -- where accepted data lands ---------------------------------------------------------------------


def _new_round(phase: Stage) -> Any:
    def record(case: Case, data: Any, actor: str) -> None:
        case.budgets[phase] = data.budget
        if phase == Stage.DISCOVERY:
            # Back in discovery: budgets for later phases belong to a plan that changed.
            for later in (Stage.ALPHA, Stage.BETA, Stage.LIVE):
                case.budgets.pop(later, None)
            case.discovery_round += 1
            case.discovery_target = None  # later rounds use the policy's working days
        else:
            case.alpha_round += 1
        case.begin_round(case.now())

    return record


def _record_progress(case: Case, data: Any, actor: str) -> None:
    target = NEXT_PHASE[case.stage]
    if data.budget is not None:
        case.budgets[target] = data.budget
    if target == Stage.ALPHA:
        case.alpha_round = 1
    case.begin_round(case.now())


def _record_decommission(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, DecommissionDecision)
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
    case.begin_round(case.now())


def _record_alteration(case: Case, data: Any, actor: str) -> None:
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


def _record_manager(case: Case, data: Any, actor: str) -> None:
    case.contract = case.contract.model_copy(update={"service_manager": data.person})


def _record_budget(case: Case, data: Any, actor: str) -> None:
    case.budgets[data.phase] = data


def _record_mandate(case: Case, data: Any, actor: str) -> None:
    case.mandates.append(
        Mandate(id=data.id, statement=data.statement, issued_by=actor, issued_at=case.now())
    )


def _record_acknowledgement(case: Case, data: Any, actor: str) -> None:
    case.mandates = [
        m.model_copy(update={"acknowledged_at": case.now()}) if m.id == data.id else m
        for m in case.mandates
    ]


def _record_metrics(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, MetricReport)
    for reading in data.values:
        values = case.metric_values.setdefault(reading.measure_id, [])
        values.append(
            MetricValue(
                period=data.period, value=reading.value, reported_at=case.now(), reported_by=actor
            )
        )
        del values[:-KEPT_METRIC_VALUES]
    case.metrics_reported_since_check = True
    case.metric_misses = 0


def _record_reassessment(case: Case, data: Any, actor: str) -> None:
    """Reports count from now on: the reassessment's, not the NOT_MET one just decided."""
    case.begin_round(case.now())


def _record_periodic(case: Case, data: Any, actor: str) -> None:
    case.last_assessed_at = data.published_at
    case.last_live_result = data.result


def _record_nothing(case: Case, data: Any, actor: str) -> None:
    """Proposals are kept as artefacts only."""
    assert isinstance(data, ContractChangeProposal)


# -- clocks ----------------------------------------------------------------------------------------


def _discovery_due(case: Case, now: datetime) -> datetime:
    target = case.discovery_target
    if target is not None:
        return datetime(
            target.year, target.month, target.day, now.hour, now.minute, tzinfo=now.tzinfo
        )
    return add_working_days(now, case.policy.lifecycle.discovery_target.due_wd)


def _live_due(case: Case, now: datetime) -> datetime:
    due = case.next_assessment_due
    assert due is not None
    return due


def _metric_due(case: Case, now: datetime) -> datetime:
    return add_months(now, case.policy.lifecycle.metric_reporting_months)


def _awaiting_funding(case: Case) -> bool:
    return case.pending is not None


def _no_live_assessment_open(case: Case) -> bool:
    return not any(a.type in LIVE_TYPES for a in case.open_assessments.values())


def _round(case: Case) -> str:
    return f"{case.discovery_round}.{case.alpha_round}"


def _last_assessed(case: Case) -> str:
    return f"{case.last_assessed_at}:{case.last_live_result}"


# -- L2: onboarding starts the case, so it is checked before the workflow is open ----------------

ONBOARDERS = (EXEC, etm(Delegation.ONBOARD_SERVICE))


def check_onboarding(
    contract: ServiceContract, budget: BudgetAllocation | None, actor: str, directory: Directory
) -> ActingAs:
    """L2 existing_service_onboarded: the Executive brings in a running service at the stage
    its contract names, with its Service Manager and budget."""
    acting = directory.authorise(actor, ONBOARDERS, {}, "onboard an existing service (L2)")
    problems = contract.missing_for(ContractCheckpoint.ESTABLISHMENT)
    if contract.lifecycle_stage in CLOSING_STAGES:
        problems.append(
            f"a stage to run in (not {contract.lifecycle_stage}): DISCOVERY, ALPHA, BETA or LIVE"
        )
    if contract.service_manager is None:
        problems.append("service_manager")
    else:
        problems += directory.manager_conflicts(contract.service_manager)
    if budget is None:
        problems.append("budget (the service's current budget)")
    if problems:
        raise GuardFailed(
            "L2 existing_service_onboarded needs: " + "; ".join(problems), problems=problems
        )
    return acting


# -- the process ---------------------------------------------------------------------------------

NEXT_BUDGET_PHASE = Guard[Case](
    "next_budget_phase", "budget for the next phase", _next_budget_phase_matches
)
BUDGET_PHASE = Guard[Case]("budget_phase", "this or the next phase", _budget_phase_current_or_next)
ASSESSMENT_WANTED = Guard[Case]("assessment_wanted", "no such assessment open", _assessment_wanted)

D = LifecycleDecision
CHECKPOINT = {
    Stage.ALPHA: ContractCheckpoint.ALPHA,
    Stage.BETA: ContractCheckpoint.BETA,
    Stage.LIVE: ContractCheckpoint.LIVE,
}


def _progress(
    id: str,
    trigger: str,
    phase: Stage,
    decision: LifecycleDecision,
    also: tuple[Requirement[Case], ...] = (),
) -> TransitionSpec[Case]:
    """L4, L7, L11: on to the next phase on a MET gate report, a contract ready for it, and
    (held until then) the next phase's budget."""
    target = NEXT_PHASE[phase]
    gate = GATE_FOR_STAGE[phase]
    return TransitionSpec[Case](
        id,
        trigger,
        (phase,),
        target,
        DECIDERS,
        f"Move to {target.lower()} ({gate} MET, {decision}) once its budget is there",
        requires=(
            _gate_report_published(gate),
            _contract_ready(CHECKPOINT[target]),
            *also,
            ACTIONS_ON_TIME,
        ),
        guards=(report_guard(gate, frozenset({decision}), needs_met=True), NEXT_BUDGET_PHASE),
        data=GateDecision,
        record=_record_progress,
        defer=_await_next_budget,
        effects=(
            "publish_contract",
            *(("request_gate_assessment",) if target in GATE_FOR_STAGE else ()),
            "notify_service_manager",
        ),
    )


def _another_round(
    id: str, trigger: str, phase: Stage, decision: LifecycleDecision
) -> TransitionSpec[Case]:
    """L3, L6: the gate asks for another round of the same phase, with its own budget."""
    gate = GATE_FOR_STAGE[phase]
    return TransitionSpec[Case](
        id,
        trigger,
        (phase,),
        phase,
        DECIDERS,
        f"Another {phase.lower()} round ({decision}) with its budget",
        requires=(_gate_report_published(gate),),
        guards=(report_guard(gate, frozenset({decision})), _budget_in_decision(phase)),
        data=GateDecision,
        record=_new_round(phase),
        effects=("request_gate_assessment", "notify_service_manager"),
        progress=False,
    )


def _closed_at_gate(
    id: str, trigger: str, phase: Stage, decision: LifecycleDecision
) -> TransitionSpec[Case]:
    """L5, L8: the gate found the service not needed, or no way to build it."""
    return TransitionSpec[Case](
        id,
        trigger,
        (phase,),
        Stage.DECOMMISSIONED,
        DECIDERS,
        f"Stop at the {phase.lower()} gate ({decision}); reasons recorded in the contract",
        guards=(report_guard(GATE_FOR_STAGE[phase], frozenset({decision})),),
        data=DecommissionDecision,
        record=_record_decommission,
        effects=("publish_contract", "close_assessments", "notify_service_manager"),
        progress=False,
    )


LIFECYCLE = ProcessDefinition[Case](
    name="lifecycle",
    title="Service lifecycle",
    version=2,
    initial=Stage.DISCOVERY,
    start=("L1", "service_established"),
    states=(
        StateSpec(
            Stage.DISCOVERY,
            "Testing the hypothetical needs with users; no need is met yet",
            clocks=("discovery_target", "funding_gap"),
        ),
        StateSpec(
            Stage.ALPHA,
            "Trying ways to solve the problem; settling the interface",
            clocks=("alpha_target", "funding_gap"),
        ),
        StateSpec(
            Stage.BETA,
            "Building the chosen approach for real; reporting its metrics",
            clocks=("metric_reporting", "funding_gap"),
        ),
        StateSpec(
            Stage.LIVE,
            "In real use: meets all its needs, reassessed regularly",
            clocks=("live_reassessment", "metric_reporting"),
        ),
        StateSpec(
            Stage.DECOMMISSIONING,
            "Being retired: users and dependent services migrate away",
            clocks=("migration",),
        ),
        StateSpec(
            Stage.DECOMMISSIONED, "No longer operating; reasons kept in the contract", terminal=True
        ),
    ),
    clocks=(
        ClockSpec[Case](
            "discovery_target",
            "Discovery target date",
            remind=(SERVICE_MANAGER, EXEC),
            escalate_to=(EXEC,),
            due=_discovery_due,
            epoch=_round,
        ),
        ClockSpec[Case](
            "alpha_target",
            "Alpha target date",
            remind=(SERVICE_MANAGER, EXEC),
            escalate_to=(EXEC,),
            epoch=_round,
        ),
        ClockSpec[Case](
            "funding_gap",
            "Next phase's budget due (funding gap)",
            remind=FUNDERS,
            escalate_to=(EXEC,),
            active=_awaiting_funding,
        ),
        ClockSpec[Case](
            "live_reassessment",
            "Periodic live assessment due",
            remind=(),
            escalate_to=(),
            active=_no_live_assessment_open,
            due=_live_due,
            on_due="request_live_assessment",
            epoch=_last_assessed,
        ),
        ClockSpec[Case](
            "metric_reporting",
            "Contract metric values due",
            remind=(),
            escalate_to=(),
            due=_metric_due,
            on_due="check_metric_reports",
        ),
        ClockSpec[Case](
            "migration",
            "Migration away from the service due",
            remind=(SERVICE_MANAGER, EXEC),
            escalate_to=(EXEC,),
        ),
    ),
    artefacts=(
        ArtefactSpec[Case](
            "metric_report",
            "Contract metric values for a period",
            MetricReport,
            states=(Stage.ALPHA, Stage.BETA, Stage.LIVE),
            permits=(SERVICE_MANAGER,),
            record=_record_metrics,
            guards=(Guard[Case]("metrics_known", "contract measures", _metrics_known),),
        ),
        ArtefactSpec[Case](
            "contract_change_proposal",
            "A Service Manager's proposal to change the contract",
            ContractChangeProposal,
            states=OPEN_PHASES,
            permits=(SERVICE_MANAGER,),
            record=_record_nothing,
        ),
    ),
    effects={
        "publish_contract": Effect[Case]("publish the next contract version", after_move=True),
        "request_gate_assessment": Effect[Case](
            "request the assessment at the end of the new phase", after_move=True
        ),
        "request_assessment": Effect[Case]("request the assessment asked for", after_move=True),
        "close_assessments": Effect[Case]("close the service's open assessments", after_move=True),
        "notify_service_manager": Effect[Case](
            "tell the Service Manager", lambda case: [case.service_manager]
        ),
        "notify_dependants": Effect[Case](
            "tell the Service Managers of services that depend on this one",
            lambda case: [
                s.service_manager
                for s in case.directory.services
                if case.contract.service_id in s.dependencies
            ],
        ),
        "request_live_assessment": Effect[Case]("request the periodic live assessment"),
        "check_metric_reports": Effect[Case]("flag contract metrics not reported this period"),
    },
    transitions=(
        _another_round("L3", "further_discovery_approved", Stage.DISCOVERY, D.MORE_RESEARCH),
        _progress("L4", "progress_to_alpha", Stage.DISCOVERY, D.PROGRESS_TO_ALPHA),
        _closed_at_gate("L5", "not_required_confirmed", Stage.DISCOVERY, D.NOT_REQUIRED),
        _another_round("L6", "alpha_extended", Stage.ALPHA, D.UNDETERMINED),
        _progress("L7", "progress_to_beta", Stage.ALPHA, D.PROGRESS_TO_BETA),
        _closed_at_gate("L8", "no_viable_solution_confirmed", Stage.ALPHA, D.NO_SUITABLE_WAY),
        TransitionSpec[Case](
            "L9",
            "returned_to_discovery",
            (Stage.ALPHA,),
            Stage.DISCOVERY,
            (EXEC,),
            "Back to discovery (only if the policy allows it)",
            guards=(
                Guard[Case]("return_allowed", "policy allows returning", _return_allowed),
                _budget_in_decision(Stage.DISCOVERY),
            ),
            data=ReturnToDiscovery,
            record=_new_round(Stage.DISCOVERY),
            reason_required=True,
            effects=(
                "publish_contract",
                "close_assessments",
                "request_gate_assessment",
                "notify_service_manager",
            ),
            progress=False,
        ),
        _progress("L11", "go_live_approved", Stage.BETA, D.GO_LIVE, (METRICS_REPORTED,)),
        TransitionSpec[Case](
            "L12",
            "beta_continued",
            (Stage.BETA,),
            Stage.BETA,
            DECIDERS,
            "Stay in beta after NOT_MET; a reassessment is requested",
            requires=(_gate_report_published(AssessmentType.BETA_EXIT),),
            guards=(report_guard(AssessmentType.BETA_EXIT, frozenset({D.CONTINUE_BETA})),),
            data=GateDecision,
            record=_record_reassessment,
            effects=("request_gate_assessment", "notify_service_manager"),
            progress=False,
        ),
        TransitionSpec[Case](
            "L13",
            "periodic_assessment_recorded",
            (Stage.LIVE,),
            Stage.LIVE,
            (),
            "A live assessment's report arrived; the next one is planned from it",
            record=_record_periodic,
            effects=("notify_service_manager",),
            progress=False,
            automatic=True,
        ),
        TransitionSpec[Case](
            "L14",
            "decommission_decided",
            (Stage.DISCOVERY, Stage.ALPHA),
            Stage.DECOMMISSIONED,
            DECIDERS,
            "Stop the service (reasons recorded in the contract)",
            data=DecommissionDecision,
            record=_record_decommission,
            effects=("publish_contract", "close_assessments", "notify_service_manager"),
            progress=False,
        ),
        TransitionSpec[Case](
            "L15",
            "decommissioning_started",
            (Stage.BETA, Stage.LIVE),
            Stage.DECOMMISSIONING,
            DECIDERS,
            "Start retiring the service (reasons recorded; users migrate away)",
            data=DecommissionDecision,
            record=_record_decommission,
            effects=(
                "publish_contract",
                "close_assessments",
                "notify_service_manager",
                "notify_dependants",
            ),
            progress=False,
        ),
        TransitionSpec[Case](
            "L16",
            "decommission_completed",
            (Stage.DECOMMISSIONING,),
            Stage.DECOMMISSIONED,
            DECIDERS,
            "Finish: guidance published, no service still depends on it",
            guards=(
                Guard[Case]("migration_guidance", "migration guidance", _migration_guidance),
                Guard[Case]("no_dependants", "no live dependants", _no_dependants),
            ),
            data=DecommissionCompletion,
            record=_record_guidance,
            effects=("publish_contract", "notify_service_manager", "notify_dependants"),
        ),
        TransitionSpec[Case](
            "L17",
            "contract_altered",
            OPEN_PHASES,
            None,
            PUBLISHERS,
            "Publish a new contract version (sparingly)",
            guards=(Guard[Case]("alteration_fits", "a real change", _alteration_fits),),
            data=ContractAlteration,
            record=_record_alteration,
            effects=("publish_contract", "notify_service_manager", "notify_dependants"),
            progress=False,
        ),
        TransitionSpec[Case](
            "L18",
            "service_manager_replaced",
            OPEN_PHASES,
            None,
            APPOINTERS,
            "Replace the Service Manager",
            guards=(Guard[Case]("new_manager", "a new, unconflicted SM", _new_manager),),
            data=ServiceManagerAppointment,
            record=_record_manager,
            reason_required=True,
            effects=("publish_contract", "notify_service_manager"),
            progress=False,
        ),
        TransitionSpec[Case](
            "L19",
            "budget_changed",
            OPEN_PHASES,
            None,
            FUNDERS,
            "Allocate or change a phase's budget",
            guards=(BUDGET_PHASE,),
            data=BudgetAllocation,
            record=_record_budget,
            progress=False,
        ),
        TransitionSpec[Case](
            "L20",
            "mandate_issued",
            OPEN_PHASES,
            None,
            DECIDERS,
            "Issue a mandate (the contract stays as it is)",
            guards=(Guard[Case]("mandate_new", "a new mandate id", _mandate_new),),
            data=MandateIssued,
            record=_record_mandate,
            effects=("notify_service_manager",),
            progress=False,
        ),
        TransitionSpec[Case](
            "L20a",
            "mandate_acknowledged",
            OPEN_PHASES,
            None,
            (SERVICE_MANAGER,),
            "The Service Manager acknowledges a mandate",
            guards=(Guard[Case]("mandate_open", "an unacknowledged mandate", _mandate_open),),
            data=MandateAcknowledgement,
            record=_record_acknowledgement,
            progress=False,
        ),
        TransitionSpec[Case](
            "L21",
            "assessment_requested",
            OPEN_PHASES,
            None,
            ASSESSMENT_ORGANISERS,
            "Ask for an assessment (an ad hoc one, or the gate again after a cancellation)",
            guards=(ASSESSMENT_WANTED,),
            data=AssessmentRequest,
            reason_required=True,
            effects=("request_assessment",),
            progress=False,
        ),
    ),
)

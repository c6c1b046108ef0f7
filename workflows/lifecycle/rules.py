"""The lifecycle's rules (DOMAIN §3, §9.1): what its guards and requirements check, the clocks'
dates, and L2 onboarding, which is checked before the case exists. Where accepted data lands is
in ``records.py``; the table that names all of these is ``definition.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from models.assessment import GATE_FOR_STAGE, LifecycleDecision, Verdict, assessed_service
from models.calendar import add_months, add_working_days
from models.case_state import Context
from models.coe_actions import CorrectiveAction, long_overdue
from models.contract import BudgetAllocation, ContractCheckpoint, ServiceContract
from models.criteria import AssessmentType
from models.errors import GuardFailed
from models.establishment import ServiceManagerAppointment
from models.lifecycle import (
    AssessmentRequest,
    ContractAlteration,
    DecommissionCompletion,
    GateDecision,
    LifecycleCase,
    MandateAcknowledgement,
    MandateIssued,
    MetricReport,
    ReturnToDiscovery,
)
from models.people import ActingAs, Directory
from models.permits import ONBOARDERS
from models.stages import CLOSING_STAGES, LifecycleStage
from workflows._definition import Guard, Requirement

Case = LifecycleCase
Stage = LifecycleStage

NEXT_PHASE = {Stage.DISCOVERY: Stage.ALPHA, Stage.ALPHA: Stage.BETA, Stage.BETA: Stage.LIVE}
LIVE_TYPES = frozenset(
    {AssessmentType.LIVE_PERIODIC, AssessmentType.REASSESSMENT, AssessmentType.AD_HOC}
)


class CitesReport(Protocol):
    """A decision resting on a published report (``GateDecision``, ``DecommissionDecision``,
    ``ReturnToDiscovery``)."""

    @property
    def report(self) -> str | None: ...


class RoundDecision(CitesReport, Protocol):
    """A decision that may start a round with its budget (``GateDecision``,
    ``ReturnToDiscovery``). It is a ``CitesReport`` too, so that mypy can put its guard and a
    report guard on one row."""

    @property
    def budget(self) -> BudgetAllocation | None: ...


# -- the cited report --------------------------------------------------------------------------


def report_guard(
    kind: AssessmentType, *decisions: LifecycleDecision, needs_met: bool = False
) -> Guard[Case, CitesReport]:
    """The decision cites a published report of this service, of ``kind``, from this phase,
    whose lifecycle decision is one of ``decisions`` (and whose result is MET, if needed)."""

    def check(case: Case, data: CitesReport, ctx: Context) -> list[str]:
        cited = data.report
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
    return Guard(f"report_{kind.lower()}", f"{kind} report: {names}", check)


def gate_report_published(kind: AssessmentType) -> Requirement[Case]:
    def check(case: Case, ctx: Context) -> list[str]:
        if case.gate_reports(kind):
            return []
        open_ = [a.assessment_id for a in case.open_assessments.values() if a.type == kind]
        where = f" (assessment {', '.join(open_)} is under way)" if open_ else ""
        return [f"no {kind} report published in this phase yet{where}"]

    # Supplied by the assessment's panel, in the assessment's own case: nobody here.
    return Requirement[Case](f"{kind.lower()}_report", f"{kind} report", check, "")


# -- corrective actions hold the gates ---------------------------------------------------------


def corrective_actions_on_time(case: Case, ctx: Context) -> list[str]:
    """A service does not pass a gate while it ignores its own overdue corrective actions
    (policy switch ``coe.gate_on_overdue_actions``)."""
    policy = case.policy.coe
    if not policy.gate_on_overdue_actions:
        return []
    return [
        f"{coe_id} {action.label()} is more than {policy.gate_overdue_wd} working days overdue"
        for coe_id, seen in sorted(case.coes.items())
        for action in long_overdue(seen.open_actions, ctx.now, policy.gate_overdue_wd)
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


# -- budgets -----------------------------------------------------------------------------------


def budget_in_decision(phase: Stage) -> Guard[Case, RoundDecision]:
    def check(case: Case, data: RoundDecision, ctx: Context) -> list[str]:
        budget = data.budget
        if budget is None:
            return [f"a new {phase} round needs its budget in the decision (data.budget)"]
        if budget.phase != phase:
            return [f"the budget is for {budget.phase}; this round needs a {phase} budget"]
        return []

    return Guard(f"{phase.lower()}_budget", f"new {phase} budget", check)


def next_budget_phase_matches(case: Case, data: GateDecision, ctx: Context) -> list[str]:
    budget = data.budget
    target = NEXT_PHASE.get(case.stage)
    if budget is not None and budget.phase != target:
        return [f"the budget in this decision is for {budget.phase}, not {target}"]
    return []


def await_next_budget(case: Case, data: GateDecision) -> str | None:
    """Progress waits for the next phase's budget (the funding gap, DOMAIN §3.4)."""
    target = NEXT_PHASE[case.stage]
    if target in case.budgets or data.budget is not None:
        return None
    return f"the {target} budget (budget_changed)"


def budget_phase_current_or_next(case: Case, data: BudgetAllocation, ctx: Context) -> list[str]:
    allowed = {case.stage, NEXT_PHASE.get(case.stage, case.stage)}
    if data.phase not in allowed:
        return [f"a budget for {data.phase} while {case.stage}: only {', '.join(sorted(allowed))}"]
    return []


# -- the contract and its metrics --------------------------------------------------------------


def contract_ready(checkpoint: ContractCheckpoint) -> Requirement[Case]:
    def check(case: Case, ctx: Context) -> list[str]:
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


def metrics_reported(case: Case, ctx: Context) -> list[str]:
    missing = [m for m in case.contract_metric_ids() if not case.metric_values.get(m)]
    return [f"no reported value for contract measure {m}" for m in missing]


def metrics_known(case: Case, data: MetricReport, ctx: Context) -> list[str]:
    known = set(case.contract_metric_ids())
    unknown = [v.measure_id for v in data.values if v.measure_id not in known]
    if unknown:
        return [f"not contract measures of v{case.contract.version}: {', '.join(unknown)}"]
    return []


def alteration_fits(case: Case, data: ContractAlteration, ctx: Context) -> list[str]:
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


def _content(contract: ServiceContract) -> dict[str, object]:
    stamped = {"version", "published_at", "published_by", "service_manager", "lifecycle_stage"}
    return contract.model_dump(mode="json", exclude=stamped)


def new_manager(case: Case, data: ServiceManagerAppointment, ctx: Context) -> list[str]:
    if data.person == case.service_manager:
        return [f"{data.person} already manages {case.contract.service_id}"]
    return case.directory.manager_conflicts(data.person)


# -- returning and retiring --------------------------------------------------------------------


def return_allowed(case: Case, data: ReturnToDiscovery, ctx: Context) -> list[str]:
    if not case.policy.lifecycle.allow_return_to_discovery:
        return ["the policy does not allow a return to discovery (allow_return_to_discovery)"]
    return []


def migration_guidance(case: Case, data: DecommissionCompletion, ctx: Context) -> list[str]:
    if case.contract.migration_guidance or data.migration_guidance:
        return []
    return ["no migration guidance for users (send migration_guidance with the decision)"]


def no_dependants(case: Case, data: DecommissionCompletion, ctx: Context) -> list[str]:
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


def dependants_managers(case: Case) -> list[str]:
    """Who hears of a change: the Service Managers of services depending on this one."""
    return [
        s.service_manager
        for s in case.directory.services
        if case.contract.service_id in s.dependencies
    ]


# -- mandates and assessments ------------------------------------------------------------------


def mandate_new(case: Case, data: MandateIssued, ctx: Context) -> list[str]:
    if any(m.id == data.id for m in case.mandates):
        return [f"mandate {data.id} was already issued"]
    return []


def mandate_open(case: Case, data: MandateAcknowledgement, ctx: Context) -> list[str]:
    mandate = next((m for m in case.mandates if m.id == data.id), None)
    if mandate is None:
        return [f"no mandate {data.id} for this service"]
    if mandate.acknowledged_at:
        return [f"mandate {data.id} was acknowledged on {mandate.acknowledged_at:%Y-%m-%d}"]
    return []


def assessment_wanted(case: Case, data: AssessmentRequest, ctx: Context) -> list[str]:
    gate = GATE_FOR_STAGE.get(case.stage)
    if data.type not in LIVE_TYPES and data.type != gate:
        return [f"a {case.stage} service is assessed with {gate or 'a live type'}, not {data.type}"]
    if case.stage == Stage.DECOMMISSIONING:
        return ["a service being decommissioned is not assessed"]
    if any(a.type == data.type for a in case.open_assessments.values()):
        return [f"a {data.type} assessment is already open"]
    return []


# -- clocks ------------------------------------------------------------------------------------


def discovery_due(case: Case, now: datetime) -> datetime:
    target = case.discovery_target
    if target is not None:
        return datetime(
            target.year, target.month, target.day, now.hour, now.minute, tzinfo=now.tzinfo
        )
    return add_working_days(now, case.policy.lifecycle.discovery_target.due_wd)


def live_due(case: Case, now: datetime) -> datetime:
    due = case.next_assessment_due
    assert due is not None
    return due


def metric_due(case: Case, now: datetime) -> datetime:
    return add_months(now, case.policy.lifecycle.metric_reporting_months)


def awaiting_funding(case: Case) -> bool:
    return case.pending is not None


def no_live_assessment_open(case: Case) -> bool:
    return not any(a.type in LIVE_TYPES for a in case.open_assessments.values())


def this_round(case: Case) -> str:
    return f"{case.discovery_round}.{case.alpha_round}"


def last_assessed(case: Case) -> str:
    return f"{case.last_assessed_at}:{case.last_live_result}"


# -- L2: onboarding starts the case, so it is checked before the workflow is open --------------


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

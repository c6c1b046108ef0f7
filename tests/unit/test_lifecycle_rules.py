"""The lifecycle process's rules (DOMAIN §3, §9.1): gate reports, budgets and the funding gap,
contract readiness, decommissioning, the cross-cutting commands and the clocks, checked directly
on a case for SVC-007 built from the example organisation (no Temporal)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from activities.directory import load_directory
from models.assessment import LifecycleDecision, ReportSummary, Verdict
from models.case_state import Context, PendingMove
from models.commands import ArtefactRef
from models.contract import BudgetAllocation, Decommission, ServiceContract
from models.criteria import AssessmentType
from models.errors import GuardFailed, NotAuthorised
from models.establishment import ServiceManagerAppointment
from models.lifecycle import (
    AssessmentRequest,
    ContractAlteration,
    DecommissionCompletion,
    DecommissionDecision,
    GateDecision,
    LifecycleCase,
    MandateAcknowledgement,
    MandateIssued,
    MetricReading,
    MetricReport,
    OpenAssessment,
    ReturnToDiscovery,
)
from models.policy import LifecyclePolicy, Policy
from models.stages import LifecycleStage
from tests.examples import EXAMPLES, artefact
from tests.unit.helpers import directory_with, example_budget
from workflows._definition import Guard, Requirement, TransitionSpec
from workflows.lifecycle.definition import LIFECYCLE, METRICS_REPORTED
from workflows.lifecycle.rules import check_onboarding

DIRECTORY = load_directory(EXAMPLES / "directory.yaml")
ENTERED = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # the phase began (a Monday)
PUBLISHED = datetime(2027, 2, 12, 15, 0, tzinfo=UTC)  # the gate report came out
NOW = datetime(2027, 2, 17, 9, 0, tzinfo=UTC)  # the decision is checked
CTX = Context(now=NOW)  # a view of the case at NOW
Stage = LifecycleStage
Type = AssessmentType
D = LifecycleDecision
MET, NOT_MET = Verdict.MET, Verdict.NOT_MET
STAGE_OF = {
    Type.DISCOVERY_EXIT: Stage.DISCOVERY,
    Type.ALPHA_EXIT: Stage.ALPHA,
    Type.BETA_EXIT: Stage.BETA,
}


# -- builders -----------------------------------------------------------------------------------


def contract_data(**changes: Any) -> dict[str, Any]:
    """The example contract (service-contract.yaml) published as v1 with SM P-013, changed."""
    data = artefact("service-contract.yaml")
    data.update(service_manager="P-013", version=1)
    data.update(changes)
    return data


def contract(**changes: Any) -> ServiceContract:
    return ServiceContract.model_validate(contract_data(**changes))


def ready_for_alpha(**changes: Any) -> ServiceContract:
    data = contract_data(**changes)
    data["description"]["business_benefit"] = "no more manual proof-of-address checks"
    data["user_needs"][0]["status"] = "VALIDATED"
    return ServiceContract.model_validate(data)


def ready_for_beta(**changes: Any) -> ServiceContract:
    data = ready_for_alpha(**changes).model_dump(mode="json")
    data["description"].update(how_used="an HTTPS API", customer_engagement="pairing")
    data.update(cost_reporting="monthly cost per check", consumption_measure="checks a month")
    return ServiceContract.model_validate(data)


def ready_for_live(**changes: Any) -> ServiceContract:
    data = ready_for_beta(**changes).model_dump(mode="json")
    data["description"].update(
        success_failure_expectations="answers within 2 seconds", help_route="#svc-identity"
    )
    return ServiceContract.model_validate(data)


def make_case(
    stage: Stage = Stage.DISCOVERY, policy: Policy | None = None, **fields: Any
) -> LifecycleCase:
    """SVC-007 in ``stage`` since ENTERED, with any case fields set (checked at NOW: CTX)."""
    case = LifecycleCase(
        contract=contract(),
        state=stage,
        phase_entered_at=ENTERED,
        directory=DIRECTORY,
        policy=policy or Policy(),
    )
    for name, value in fields.items():
        setattr(case, name, value)
    return case


def budget(phase: Stage) -> BudgetAllocation:
    return example_budget(phase=phase)


def summary(
    number: int,
    kind: AssessmentType,
    decision: LifecycleDecision,
    result: Verdict = MET,
    published_at: datetime = PUBLISHED,
) -> ReportSummary:
    assessment_id = f"SVC-007-A{number:02d}"
    return ReportSummary(
        assessment_id=assessment_id,
        type=kind,
        stage=STAGE_OF.get(kind, Stage.LIVE),
        result=result,
        lifecycle_decision=decision,
        published_at=published_at,
        report=ArtefactRef(
            kind="assessment_report",
            version=1,
            sha256="0" * 64,
            case_id=f"service/SVC-007/assessments/{assessment_id}",
            url=f"http://127.0.0.1:8000/v1/cases/service/SVC-007/assessments/{assessment_id}"
            "/artefacts/assessment_report/v1",
        ),
    )


def with_reports(case: LifecycleCase, *reports: ReportSummary) -> LifecycleCase:
    """The case after these reports' assessments were requested and published."""
    for report in reports:
        case.reports[report.assessment_id] = report
        number = int(report.assessment_id.rsplit("-A", 1)[1])
        case.assessments_requested = max(case.assessments_requested, number)
    return case


def gate(report: str = "SVC-007-A01", phase: Stage | None = None) -> GateDecision:
    return GateDecision(report=report, budget=budget(phase) if phase else None)


def open_assessment(number: int, kind: AssessmentType) -> dict[str, OpenAssessment]:
    assessment_id = f"SVC-007-A{number:02d}"
    return {
        assessment_id: OpenAssessment(
            assessment_id=assessment_id,
            type=kind,
            workflow_id=f"assessment/{assessment_id}",
            requested_at=ENTERED,
        )
    }


def spec_of(trigger: str) -> TransitionSpec[LifecycleCase, Any]:
    spec = LIFECYCLE.transition(trigger)
    assert spec is not None, trigger
    return spec


def guard(trigger: str, name: str) -> Guard[LifecycleCase, Any]:
    """The guard ``name`` as attached to ``trigger`` (fails if it is not attached)."""
    found = [g for g in spec_of(trigger).guards if g.name == name]
    assert len(found) == 1, f"{trigger} has no guard {name}"
    return found[0]


def requirement(trigger: str, name: str) -> Requirement[LifecycleCase]:
    found = [r for r in spec_of(trigger).needs if r.name == name]
    assert len(found) == 1, f"{trigger} has no requirement {name}"
    return found[0]


def record(
    trigger: str, case: LifecycleCase, data: Any, actor: str = "P-001", role: str = "EXEC"
) -> None:
    """Apply ``trigger``'s record as ``actor`` acting as ``role``, at NOW."""
    recorder = spec_of(trigger).record
    assert recorder is not None
    recorder(case, data, Context(now=NOW, actor=actor, role=role))


def defer_of(trigger: str) -> Callable[[LifecycleCase, Any], str | None]:
    defer = spec_of(trigger).defer
    assert defer is not None, f"{trigger} never waits"
    return defer


def all_problems(trigger: str, case: LifecycleCase, data: Any) -> list[str]:
    return [p for g in spec_of(trigger).guards for p in g.check(case, data, CTX)]


def test_gate_moves_need_their_report_and_a_ready_contract() -> None:
    def names(trigger: str) -> list[str]:
        return [r.name for r in spec_of(trigger).needs]

    assert names("further_discovery_approved") == ["discovery_exit_report"]
    on_time = "actions_on_time"
    assert names("progress_to_alpha") == ["discovery_exit_report", "contract_alpha", on_time]
    assert names("alpha_extended") == ["alpha_exit_report"]
    assert names("progress_to_beta") == ["alpha_exit_report", "contract_beta", on_time]
    assert names("go_live_approved") == [
        "beta_exit_report",
        "contract_live",
        "metrics_reported",
        on_time,
    ]
    assert names("beta_continued") == ["beta_exit_report"]


# -- the cited report ---------------------------------------------------------------------------

L4_REPORT = ("progress_to_alpha", "report_discovery_exit")


def discovery_case(*reports: ReportSummary, **fields: Any) -> LifecycleCase:
    return with_reports(make_case(Stage.DISCOVERY, **fields), *reports)


def test_report_guard_passes_for_this_rounds_met_progress_report() -> None:
    case = discovery_case(summary(1, Type.DISCOVERY_EXIT, D.PROGRESS_TO_ALPHA))
    assert guard(*L4_REPORT).check(case, gate(), CTX) == []


def test_report_guard_refuses_a_decision_citing_no_report() -> None:
    case = discovery_case(summary(1, Type.DISCOVERY_EXIT, D.NOT_REQUIRED))
    decision = DecommissionDecision(
        reason_codes=["DISCOVERY_NOT_REQUIRED"], narrative="not needed", lessons="ask earlier"
    )
    assert guard("not_required_confirmed", "report_discovery_exit").check(case, decision, CTX) == [
        "cite the published DISCOVERY_EXIT report (data.report)"
    ]


def test_report_guard_refuses_a_report_that_was_not_published() -> None:
    case = discovery_case(summary(1, Type.DISCOVERY_EXIT, D.PROGRESS_TO_ALPHA))
    assert guard(*L4_REPORT).check(case, gate("SVC-007-A02"), CTX) == [
        "no published report SVC-007-A02 for SVC-007"
    ]


def test_report_guard_refuses_another_services_report() -> None:
    case = discovery_case(summary(1, Type.DISCOVERY_EXIT, D.PROGRESS_TO_ALPHA))
    assert guard(*L4_REPORT).check(case, gate("SVC-001-A01"), CTX) == [
        "report SVC-001-A01 is about SVC-001, not SVC-007"
    ]


def test_report_guard_refuses_a_report_of_the_wrong_type() -> None:
    case = discovery_case(summary(1, Type.ALPHA_EXIT, D.PROGRESS_TO_ALPHA))
    assert guard(*L4_REPORT).check(case, gate(), CTX) == [
        "report SVC-007-A01 is a ALPHA_EXIT report; this needs DISCOVERY_EXIT"
    ]


def test_report_guard_refuses_a_wrong_lifecycle_decision() -> None:
    case = discovery_case(summary(1, Type.DISCOVERY_EXIT, D.MORE_RESEARCH))
    assert guard(*L4_REPORT).check(case, gate(), CTX) == [
        "report SVC-007-A01 decided MORE_RESEARCH; this needs PROGRESS_TO_ALPHA"
    ]


@pytest.mark.parametrize(
    ("stage", "trigger", "name", "kind", "decided"),
    [
        (Stage.DISCOVERY, *L4_REPORT, Type.DISCOVERY_EXIT, D.PROGRESS_TO_ALPHA),
        (Stage.ALPHA, "progress_to_beta", "report_alpha_exit", Type.ALPHA_EXIT, D.PROGRESS_TO_BETA),
        (Stage.BETA, "go_live_approved", "report_beta_exit", Type.BETA_EXIT, D.GO_LIVE),
    ],
)
def test_report_guard_refuses_a_not_met_report_for_moving_on(
    stage: Stage, trigger: str, name: str, kind: AssessmentType, decided: LifecycleDecision
) -> None:
    case = with_reports(make_case(stage), summary(1, kind, decided, NOT_MET))
    assert guard(trigger, name).check(case, gate(), CTX) == [
        "report SVC-007-A01 is NOT_MET; moving on needs MET"
    ]


@pytest.mark.parametrize(
    ("stage", "trigger", "name", "kind", "decided"),
    [
        (
            Stage.DISCOVERY,
            "further_discovery_approved",
            "report_discovery_exit",
            Type.DISCOVERY_EXIT,
            D.MORE_RESEARCH,
        ),
        (Stage.ALPHA, "alpha_extended", "report_alpha_exit", Type.ALPHA_EXIT, D.UNDETERMINED),
        (Stage.BETA, "beta_continued", "report_beta_exit", Type.BETA_EXIT, D.CONTINUE_BETA),
    ],
)
def test_report_guard_takes_a_not_met_report_for_staying(
    stage: Stage, trigger: str, name: str, kind: AssessmentType, decided: LifecycleDecision
) -> None:
    case = with_reports(make_case(stage), summary(1, kind, decided, NOT_MET))
    assert guard(trigger, name).check(case, gate(), CTX) == []


def test_report_guard_refuses_a_report_from_before_the_round_began() -> None:
    case = discovery_case(summary(1, Type.DISCOVERY_EXIT, D.MORE_RESEARCH))
    l3 = guard("further_discovery_approved", "report_discovery_exit")
    assert l3.check(case, gate(), CTX) == []
    record("further_discovery_approved", case, gate(phase=Stage.DISCOVERY))
    assert case.discovery_round == 2
    assert l3.check(case, gate(), CTX) == ["report SVC-007-A01 is from an earlier phase or round"]
    # the new round's own gate report counts again
    with_reports(case, summary(2, Type.DISCOVERY_EXIT, D.MORE_RESEARCH, published_at=NOW))
    assert l3.check(case, gate("SVC-007-A02"), CTX) == []


def test_report_guard_refuses_the_previous_phases_report_after_progress() -> None:
    case = discovery_case(summary(1, Type.DISCOVERY_EXIT, D.PROGRESS_TO_ALPHA))
    record("progress_to_alpha", case, gate(phase=Stage.ALPHA))
    case.state = Stage.ALPHA
    # an (inconsistent) ALPHA_EXIT summary under the old number is still from the old phase
    case.reports["SVC-007-A01"] = summary(1, Type.ALPHA_EXIT, D.PROGRESS_TO_BETA)
    assert guard("progress_to_beta", "report_alpha_exit").check(case, gate(), CTX) == [
        "report SVC-007-A01 is from an earlier phase or round"
    ]


def test_gate_report_requirement_names_the_open_assessment() -> None:
    need = requirement("progress_to_alpha", "discovery_exit_report")
    case = make_case(open_assessments=open_assessment(1, Type.DISCOVERY_EXIT))
    assert need.check(case, CTX) == [
        "no DISCOVERY_EXIT report published in this phase yet (assessment SVC-007-A01 is under way)"
    ]
    with_reports(case, summary(1, Type.DISCOVERY_EXIT, D.PROGRESS_TO_ALPHA))
    case.open_assessments = {}
    assert need.check(case, CTX) == []


# -- budgets and the funding gap ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "trigger", "waits_for"),
    [
        (Stage.DISCOVERY, "progress_to_alpha", "the ALPHA budget (budget_changed)"),
        (Stage.ALPHA, "progress_to_beta", "the BETA budget (budget_changed)"),
        (Stage.BETA, "go_live_approved", "the LIVE budget (budget_changed)"),
    ],
)
def test_progress_waits_for_the_next_phases_budget(
    stage: Stage, trigger: str, waits_for: str
) -> None:
    defer = defer_of(trigger)
    case = make_case(stage, budgets={stage: budget(stage)})
    assert defer(case, gate()) == waits_for


@pytest.mark.parametrize(
    ("stage", "trigger", "target"),
    [
        (Stage.DISCOVERY, "progress_to_alpha", Stage.ALPHA),
        (Stage.ALPHA, "progress_to_beta", Stage.BETA),
    ],
)
def test_progress_does_not_wait_when_the_budget_is_there(
    stage: Stage, trigger: str, target: Stage
) -> None:
    defer = defer_of(trigger)
    assert defer(make_case(stage, budgets={target: budget(target)}), gate()) is None
    assert defer(make_case(stage), gate(phase=target)) is None


def test_a_budget_in_a_progress_decision_must_be_for_the_next_phase() -> None:
    next_phase = guard("progress_to_alpha", "next_budget_phase")
    assert next_phase.check(make_case(), gate(phase=Stage.ALPHA), CTX) == []
    assert next_phase.check(make_case(), gate(), CTX) == []
    assert next_phase.check(make_case(), gate(phase=Stage.BETA), CTX) == [
        "the budget in this decision is for BETA, not ALPHA"
    ]


def test_progress_records_the_budget_and_begins_the_phase() -> None:
    case = discovery_case(summary(1, Type.DISCOVERY_EXIT, D.PROGRESS_TO_ALPHA))
    record("progress_to_alpha", case, gate(phase=Stage.ALPHA))
    assert case.budgets[Stage.ALPHA] == budget(Stage.ALPHA)
    assert case.alpha_round == 1
    assert case.phase_entered_at == NOW


@pytest.mark.parametrize(
    ("trigger", "name", "phase"),
    [
        ("further_discovery_approved", "discovery_budget", Stage.DISCOVERY),
        ("alpha_extended", "alpha_budget", Stage.ALPHA),
        ("returned_to_discovery", "discovery_budget", Stage.DISCOVERY),
    ],
)
def test_a_new_round_needs_its_budget_in_the_decision(
    trigger: str, name: str, phase: Stage
) -> None:
    check = guard(trigger, name).check
    case = make_case(Stage.ALPHA if phase == Stage.ALPHA else Stage.DISCOVERY)
    assert check(case, gate(), CTX) == [
        f"a new {phase} round needs its budget in the decision (data.budget)"
    ]
    assert check(case, gate(phase=Stage.BETA), CTX) == [
        f"the budget is for BETA; this round needs a {phase} budget"
    ]
    assert check(case, gate(phase=phase), CTX) == []


def test_a_new_alpha_round_records_its_budget_and_round() -> None:
    case = make_case(Stage.ALPHA, alpha_round=1)
    record("alpha_extended", case, gate(phase=Stage.ALPHA))
    assert case.alpha_round == 2
    assert case.budgets[Stage.ALPHA] == budget(Stage.ALPHA)


def test_a_return_to_discovery_drops_the_budgets_of_later_phases() -> None:
    earlier = {Stage.DISCOVERY: budget(Stage.DISCOVERY), Stage.ALPHA: budget(Stage.ALPHA)}
    case = make_case(Stage.ALPHA, budgets=dict(earlier), discovery_round=1)
    record("returned_to_discovery", case, ReturnToDiscovery(budget=budget(Stage.DISCOVERY)))
    assert case.discovery_round == 2
    assert set(case.budgets) == {Stage.DISCOVERY}
    case.state = Stage.DISCOVERY
    assert defer_of("progress_to_alpha")(case, gate()) == "the ALPHA budget (budget_changed)"


@pytest.mark.parametrize(
    ("stage", "allowed"),
    [
        (Stage.DISCOVERY, {Stage.DISCOVERY, Stage.ALPHA}),
        (Stage.ALPHA, {Stage.ALPHA, Stage.BETA}),
        (Stage.BETA, {Stage.BETA, Stage.LIVE}),
        (Stage.LIVE, {Stage.LIVE}),
    ],
)
def test_l19_budget_is_for_the_current_or_the_next_phase(stage: Stage, allowed: set[Stage]) -> None:
    check = guard("budget_changed", "budget_phase").check
    case = make_case(stage)
    for phase in (Stage.DISCOVERY, Stage.ALPHA, Stage.BETA, Stage.LIVE):
        problems = check(case, budget(phase), CTX)
        assert (problems == []) == (phase in allowed), (stage, phase, problems)


def test_l19_names_the_phases_a_budget_may_be_for() -> None:
    assert guard("budget_changed", "budget_phase").check(make_case(), budget(Stage.BETA), CTX) == [
        "a budget for BETA while DISCOVERY: only ALPHA, DISCOVERY"
    ]


# -- contract readiness and metrics -------------------------------------------------------------


def test_alpha_needs_a_validated_need_and_the_business_benefit() -> None:
    need = requirement("progress_to_alpha", "contract_alpha")
    assert need.check(make_case(), CTX) == [
        "contract v1 lacks description.business_benefit",
        "contract v1 lacks user_needs (at least one VALIDATED need)",
    ]
    assert need.check(make_case(contract=ready_for_alpha()), CTX) == []


def test_beta_needs_how_the_service_is_used() -> None:
    need = requirement("progress_to_beta", "contract_beta")
    assert need.check(make_case(Stage.ALPHA, contract=ready_for_alpha()), CTX) == [
        "contract v1 lacks description.how_used",
        "contract v1 lacks description.customer_engagement",
        "contract v1 lacks cost_reporting",
        "contract v1 lacks consumption_measure",
    ]
    assert need.check(make_case(Stage.ALPHA, contract=ready_for_beta()), CTX) == []


def test_live_needs_the_help_route_and_expectations() -> None:
    need = requirement("go_live_approved", "contract_live")
    assert need.check(make_case(Stage.BETA, contract=ready_for_beta(version=4)), CTX) == [
        "contract v4 lacks description.success_failure_expectations",
        "contract v4 lacks description.help_route",
    ]
    assert need.check(make_case(Stage.BETA, contract=ready_for_live()), CTX) == []


def test_live_readiness_includes_every_earlier_checkpoint() -> None:
    problems = requirement("go_live_approved", "contract_live").check(make_case(Stage.BETA), CTX)
    assert "contract v1 lacks description.business_benefit" in problems
    assert "contract v1 lacks description.how_used" in problems
    assert "contract v1 lacks description.help_route" in problems


def metric_report(*measures: str, period: str = "2027-01") -> MetricReport:
    return MetricReport(
        period=period, values=[MetricReading(measure_id=m, value=1.0) for m in measures]
    )


def submit_metrics(case: LifecycleCase, report: MetricReport) -> None:
    spec = LIFECYCLE.artefact("metric_report")
    assert spec is not None
    spec.record(case, report, Context(now=NOW, actor="P-013", role="SERVICE_MANAGER"))


def test_go_live_needs_a_reported_value_for_every_contract_measure() -> None:
    case = make_case(Stage.BETA)
    assert METRICS_REPORTED in spec_of("go_live_approved").needs
    assert METRICS_REPORTED.check(case, CTX) == [
        "no reported value for contract measure M-007-1",
        "no reported value for contract measure M-007-2",
    ]
    submit_metrics(case, metric_report("M-007-2"))
    assert METRICS_REPORTED.check(case, CTX) == ["no reported value for contract measure M-007-1"]
    submit_metrics(case, metric_report("M-007-1", period="2027-02"))
    assert METRICS_REPORTED.check(case, CTX) == []


def with_operational_measure() -> ServiceContract:
    data = contract_data()
    data["metrics"].append(
        {
            "id": "M-007-9",
            "name": "Uptime",
            "kind": "OPERATIONAL",
            "definition": "Share of minutes the API answered",
            "unit": "%",
            "direction": "higher",
            "data_source": "monitoring",
        }
    )
    return ServiceContract.model_validate(data)


def metrics_known() -> Guard[LifecycleCase, Any]:
    spec = LIFECYCLE.artefact("metric_report")
    assert spec is not None
    (only,) = spec.guards
    return only


def test_metric_report_takes_the_current_contracts_measures() -> None:
    case = make_case(Stage.BETA, contract=with_operational_measure())
    assert metrics_known().check(case, metric_report("M-007-1", "M-007-2"), CTX) == []


def test_metric_report_refuses_measures_that_are_not_contract_measures() -> None:
    case = make_case(Stage.BETA, contract=with_operational_measure())
    assert metrics_known().check(case, metric_report("M-007-1", "M-007-9", "M-008-1"), CTX) == [
        "not contract measures of v1: M-007-9, M-008-1"
    ]


@pytest.mark.parametrize("period", ["2027-00", "2027-13", "2027-1", "27-01", "2027/01", ""])
def test_metric_report_period_is_a_month(period: str) -> None:
    with pytest.raises(ValidationError, match="period"):
        metric_report("M-007-1", period=period)


def test_metric_report_names_each_measure_once_and_at_least_one() -> None:
    assert metric_report("M-007-1", period="2027-12").period == "2027-12"
    with pytest.raises(ValidationError, match="once per period"):
        metric_report("M-007-1", "M-007-1")
    with pytest.raises(ValidationError):
        MetricReport(period="2027-01", values=[])


# -- L9: back to discovery ----------------------------------------------------------------------


def return_to_discovery() -> ReturnToDiscovery:
    return ReturnToDiscovery(budget=budget(Stage.DISCOVERY))


def test_l9_return_to_discovery_is_refused_by_default() -> None:
    case = make_case(Stage.ALPHA)
    assert Policy().lifecycle.allow_return_to_discovery is False
    assert all_problems("returned_to_discovery", case, return_to_discovery()) == [
        "the policy does not allow a return to discovery (allow_return_to_discovery)"
    ]


def test_l9_return_to_discovery_is_allowed_when_the_policy_says_so() -> None:
    policy = Policy(lifecycle=LifecyclePolicy(allow_return_to_discovery=True))
    case = make_case(Stage.ALPHA, policy=policy)
    assert all_problems("returned_to_discovery", case, return_to_discovery()) == []


# -- L16: decommission completed ----------------------------------------------------------------


def hosting_platform(directory: Any = DIRECTORY) -> LifecycleCase:
    """SVC-002 being decommissioned (SVC-001, SVC-005 and SVC-006 depend on it)."""
    return make_case(
        Stage.DECOMMISSIONING,
        directory=directory,
        contract=contract(
            service_id="SVC-002",
            name="Hosting Platform",
            service_manager="P-011",
            dependencies=[],
            migration_guidance="move to the cloud platform",
        ),
    )


def test_l16_refuses_while_other_services_depend_on_it() -> None:
    check = guard("decommission_completed", "no_dependants").check
    assert check(hosting_platform(), DecommissionCompletion(), CTX) == [
        "SVC-001, SVC-005, SVC-006 still depend on SVC-002; move them off it first, or the "
        "Executive overrides with a reason (override_dependants)"
    ]


def test_l16_passes_with_an_executive_override() -> None:
    check = guard("decommission_completed", "no_dependants").check
    completion = DecommissionCompletion(override_dependants="they move within the month")
    assert check(hosting_platform(), completion, CTX) == []


def test_l16_override_needs_a_reason() -> None:
    with pytest.raises(ValidationError, match="override_dependants"):
        DecommissionCompletion(override_dependants="")


def test_l16_passes_for_a_service_nothing_depends_on() -> None:
    case = make_case(Stage.DECOMMISSIONING)
    assert all_problems("decommission_completed", case, DecommissionCompletion()) == [
        "no migration guidance for users (send migration_guidance with the decision)"
    ]
    completion = DecommissionCompletion(migration_guidance="use the paper form")
    assert all_problems("decommission_completed", case, completion) == []


def test_l16_ignores_dependants_that_are_themselves_closing() -> None:
    services = [s.model_dump(mode="json") for s in DIRECTORY.services]
    for entry in services:
        if entry["id"] in ("SVC-001", "SVC-006"):
            entry["lifecycle_stage"] = "DECOMMISSIONING"
    case = hosting_platform(directory_with(DIRECTORY, services=services))
    assert guard("decommission_completed", "no_dependants").check(
        case, DecommissionCompletion(), CTX
    ) == [
        "SVC-005 still depend on SVC-002; move them off it first, or the "
        "Executive overrides with a reason (override_dependants)"
    ]


# -- L17: contract altered ----------------------------------------------------------------------


def alteration(new: ServiceContract) -> ContractAlteration:
    return ContractAlteration(contract=new, rationale="needs refined after research")


def alteration_fits(case: LifecycleCase, new: ServiceContract) -> list[str]:
    return guard("contract_altered", "alteration_fits").check(case, alteration(new), CTX)


def test_l17_passes_for_a_real_change() -> None:
    changed = contract(expected_support="24/7 support", service_manager=None)
    assert alteration_fits(make_case(), changed) == []
    assert alteration_fits(make_case(), contract(expected_support="24/7 support")) == []


def test_l17_refuses_another_services_contract() -> None:
    other = contract(service_id="SVC-008")
    assert alteration_fits(make_case(), other) == ["the contract is SVC-007's, not SVC-008's"]


def test_l17_refuses_a_contract_that_does_not_differ() -> None:
    restamped = contract(
        version=2,
        published_at="2027-02-01T10:00:00Z",
        published_by="P-001",
        lifecycle_stage="ALPHA",
    )
    assert alteration_fits(make_case(), restamped) == [
        "the new contract does not differ from the current version"
    ]


def test_l17_refuses_a_change_of_service_manager() -> None:
    changed = contract(service_manager="P-020", expected_support="24/7 support")
    assert alteration_fits(make_case(), changed) == [
        "replace the Service Manager with service_manager_replaced"
    ]


def test_l17_refuses_decommissioning_by_alteration() -> None:
    changed = contract(
        decommission=Decommission(reason_codes=["OTHER"], narrative="n", lessons="l").model_dump()
    )
    assert alteration_fits(make_case(), changed) == [
        "decommissioning is decided with decommission_decided"
    ]


def test_l17_record_keeps_the_cases_service_manager_and_stage() -> None:
    case = make_case(Stage.ALPHA)
    record("contract_altered", case, alteration(contract(expected_support="24/7 support")))
    assert case.contract.expected_support == "24/7 support"
    assert case.contract.service_manager == "P-013"
    assert case.contract.lifecycle_stage == Stage.ALPHA


# -- L18: service manager replaced --------------------------------------------------------------


def new_manager(person: str) -> list[str]:
    check = guard("service_manager_replaced", "new_manager").check
    return check(make_case(), ServiceManagerAppointment(person=person), CTX)


def test_l18_passes_for_another_person_off_the_executive() -> None:
    assert new_manager("P-020") == []
    assert new_manager("P-010") == []


def test_l18_refuses_the_current_service_manager() -> None:
    assert new_manager("P-013") == ["P-013 already manages SVC-007"]


@pytest.mark.parametrize(
    ("person", "label"),
    [("P-001", "P-001 (Alison Reed)"), ("P-002", "P-002 (Marcus Bell)")],
    ids=["exec", "etm"],
)
def test_l18_refuses_a_member_of_the_executive(person: str, label: str) -> None:
    assert new_manager(person) == [
        f"{label} is on the Executive, which holds Service Managers to account"
    ]


def test_l18_names_an_unknown_person_as_a_problem() -> None:
    assert new_manager("P-999") == ["P-999 is not in the directory of people"]


# -- L20: mandates ------------------------------------------------------------------------------


def mandate(mandate_id: str = "MAN-001") -> MandateIssued:
    return MandateIssued(id=mandate_id, statement="Use the Performance Platform (SVC-005)")


def test_l20_mandate_is_issued_once_and_acknowledged_once() -> None:
    issued = guard("mandate_issued", "mandate_new").check
    open_ = guard("mandate_acknowledged", "mandate_open").check
    case = make_case(Stage.BETA)
    ack = MandateAcknowledgement(id="MAN-001")
    assert open_(case, ack, CTX) == ["no mandate MAN-001 for this service"]
    assert issued(case, mandate(), CTX) == []
    record("mandate_issued", case, mandate())
    assert [(m.id, m.issued_by, m.acknowledged_at) for m in case.mandates] == [
        ("MAN-001", "P-001", None)
    ]
    assert issued(case, mandate(), CTX) == ["mandate MAN-001 was already issued"]
    assert issued(case, mandate("MAN-002"), CTX) == []
    assert open_(case, ack, CTX) == []
    record("mandate_acknowledged", case, ack, actor="P-013", role="SERVICE_MANAGER")
    assert open_(case, ack, CTX) == ["mandate MAN-001 was acknowledged on 2027-02-17"]


def test_l20_mandate_ids_have_a_form() -> None:
    with pytest.raises(ValidationError):
        MandateIssued(id="M-1", statement="something")


# -- L21: assessment requested ------------------------------------------------------------------


def wanted(case: LifecycleCase, kind: AssessmentType) -> list[str]:
    return guard("assessment_requested", "assessment_wanted").check(
        case, AssessmentRequest(type=kind), CTX
    )


@pytest.mark.parametrize(
    ("stage", "kind"),
    [
        (Stage.DISCOVERY, Type.DISCOVERY_EXIT),
        (Stage.ALPHA, Type.ALPHA_EXIT),
        (Stage.BETA, Type.BETA_EXIT),
        (Stage.ALPHA, Type.AD_HOC),
        (Stage.BETA, Type.REASSESSMENT),
        (Stage.LIVE, Type.LIVE_PERIODIC),
        (Stage.LIVE, Type.AD_HOC),
    ],
)
def test_l21_passes_for_the_phases_gate_or_a_live_type(stage: Stage, kind: AssessmentType) -> None:
    assert wanted(make_case(stage), kind) == []


@pytest.mark.parametrize(
    ("stage", "kind", "problem"),
    [
        (
            Stage.DISCOVERY,
            Type.ALPHA_EXIT,
            "a DISCOVERY service is assessed with DISCOVERY_EXIT, not ALPHA_EXIT",
        ),
        (
            Stage.BETA,
            Type.DISCOVERY_EXIT,
            "a BETA service is assessed with BETA_EXIT, not DISCOVERY_EXIT",
        ),
        (Stage.LIVE, Type.BETA_EXIT, "a LIVE service is assessed with a live type, not BETA_EXIT"),
        (Stage.DECOMMISSIONING, Type.AD_HOC, "a service being decommissioned is not assessed"),
    ],
)
def test_l21_refuses_a_type_that_does_not_fit_the_phase(
    stage: Stage, kind: AssessmentType, problem: str
) -> None:
    assert wanted(make_case(stage), kind) == [problem]


def test_l21_refuses_a_second_open_assessment_of_the_same_type() -> None:
    case = make_case(Stage.LIVE, open_assessments=open_assessment(3, Type.AD_HOC))
    assert wanted(case, Type.AD_HOC) == ["a AD_HOC assessment is already open"]
    assert wanted(case, Type.LIVE_PERIODIC) == []


# -- the next live assessment and the clocks ----------------------------------------------------


def test_next_assessment_due_six_months_after_going_live() -> None:
    case = make_case(Stage.LIVE)
    assert case.next_assessment_due == datetime(2027, 7, 4, 9, 0, tzinfo=UTC)


def test_next_assessment_due_six_months_after_the_last_met_assessment() -> None:
    last = datetime(2027, 3, 31, 12, 0, tzinfo=UTC)
    case = make_case(Stage.LIVE, last_assessed_at=last, last_live_result=MET)
    assert case.next_assessment_due == datetime(2027, 9, 30, 12, 0, tzinfo=UTC)


def test_next_assessment_due_three_months_after_a_not_met() -> None:
    last = datetime(2027, 3, 31, 12, 0, tzinfo=UTC)
    case = make_case(Stage.LIVE, last_assessed_at=last, last_live_result=NOT_MET)
    assert case.next_assessment_due == datetime(2027, 6, 30, 12, 0, tzinfo=UTC)


def test_next_assessment_due_follows_the_policy() -> None:
    policy = Policy(lifecycle=LifecyclePolicy(live_reassessment_months=12))
    assert make_case(Stage.LIVE, policy=policy).next_assessment_due == datetime(
        2028, 1, 4, 9, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "stage", [Stage.DISCOVERY, Stage.ALPHA, Stage.BETA, Stage.DECOMMISSIONING, Stage.DECOMMISSIONED]
)
def test_next_assessment_due_only_while_live(stage: Stage) -> None:
    case = make_case(stage, last_assessed_at=PUBLISHED, last_live_result=MET)
    assert case.next_assessment_due is None


def test_l13_a_live_report_moves_the_next_assessment() -> None:
    case = make_case(Stage.LIVE)
    report = summary(4, Type.LIVE_PERIODIC, D.NONE, NOT_MET, published_at=PUBLISHED)
    record("periodic_assessment_recorded", case, report, actor="SYSTEM", role="SYSTEM")
    assert case.last_assessed_at == PUBLISHED
    assert case.next_assessment_due == datetime(2027, 5, 12, 15, 0, tzinfo=UTC)


def test_live_reassessment_clock_is_due_at_the_next_assessment_and_pauses_while_one_is_open() -> (
    None
):
    clock = LIFECYCLE.clock("live_reassessment")
    assert clock.due is not None
    assert clock.active is not None
    case = make_case(Stage.LIVE)
    assert clock.due(case, NOW) == case.next_assessment_due
    assert clock.active(case)
    case.open_assessments = open_assessment(2, Type.LIVE_PERIODIC)
    assert not clock.active(case)


def test_funding_gap_clock_runs_only_while_a_progress_decision_waits() -> None:
    clock = LIFECYCLE.clock("funding_gap")
    assert clock.active is not None
    case = make_case()
    assert not clock.active(case)
    case.pending = PendingMove(
        trigger="progress_to_alpha",
        decision_id="d-1",
        actor="P-001",
        role="EXEC",
        data={"report": "SVC-007-A01"},
        accepted_at=NOW,
        waiting_for="the ALPHA budget (budget_changed)",
    )
    assert clock.active(case)


def test_discovery_target_clock_uses_the_agreed_date_then_the_policys_working_days() -> None:
    clock = LIFECYCLE.clock("discovery_target")
    assert clock.due is not None
    assert clock.epoch is not None
    case = make_case(discovery_target=date(2027, 2, 26))
    assert clock.due(case, ENTERED) == datetime(2027, 2, 26, 9, 0, tzinfo=UTC)
    first = clock.epoch(case)
    with_reports(case, summary(1, Type.DISCOVERY_EXIT, D.MORE_RESEARCH))
    record("further_discovery_approved", case, gate(phase=Stage.DISCOVERY))
    assert clock.epoch(case) != first
    assert case.discovery_target is None
    # 30 working days (six weeks) from the Wednesday the new round began
    assert clock.due(case, NOW) == datetime(2027, 3, 31, 9, 0, tzinfo=UTC)


def test_metric_reporting_clock_is_monthly() -> None:
    clock = LIFECYCLE.clock("metric_reporting")
    assert clock.due is not None
    assert clock.due(make_case(Stage.BETA), NOW) == datetime(2027, 3, 17, 9, 0, tzinfo=UTC)


DECOMMISSION = DecommissionDecision.model_validate(artefact("decommission.yaml"))


def test_altering_the_contract_while_decommissioning_keeps_the_recorded_reasons() -> None:
    case = make_case(Stage.LIVE)
    record("decommissioning_started", case, DECOMMISSION)
    case.state = Stage.DECOMMISSIONING
    altered = ContractAlteration(contract=ready_for_live(), rationale="help route moved")
    record("contract_altered", case, altered)
    assert case.contract.decommission is not None
    assert case.contract.decommission.reason_codes == ["BETTER_SERVICE_EXISTS"]
    assert case.contract.migration_guidance == DECOMMISSION.migration_guidance


# -- L2: onboarding ------------------------------------------------------------------------------


def test_onboarding_by_the_executive_with_a_complete_contract_is_accepted() -> None:
    acting = check_onboarding(contract(), budget(Stage.LIVE), "P-001", DIRECTORY)
    assert acting.role == "EXEC"


@pytest.mark.parametrize(
    ("changes", "has_budget", "problem"),
    [
        ({"lifecycle_stage": Stage.DECOMMISSIONED}, True, "a stage to run in"),
        ({"service_manager": None}, True, "service_manager"),
        ({"service_manager": "P-004"}, True, "is on the Executive"),
        ({}, False, "budget (the service's current budget)"),
        ({"expected_support": None}, True, "expected_support"),
    ],
)
def test_onboarding_names_what_it_lacks(
    changes: dict[str, Any], has_budget: bool, problem: str
) -> None:
    onboarded = contract(**changes)
    with pytest.raises(GuardFailed) as refused:
        check_onboarding(onboarded, budget(Stage.LIVE) if has_budget else None, "P-001", DIRECTORY)
    assert problem in refused.value.message


def test_onboarding_needs_the_executive_or_a_delegated_etm() -> None:
    with pytest.raises(NotAuthorised):
        check_onboarding(contract(), budget(Stage.LIVE), "P-002", DIRECTORY)

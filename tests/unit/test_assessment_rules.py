"""The assessment process's rules (DOMAIN §4, §9.2): guards, models, the result rule and clocks,
checked directly on cases built from the example organisation (no Temporal)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from activities.directory import load_directory
from models.assessment import (
    Agenda,
    AssessmentCase,
    AssessmentHeld,
    AssessmentInput,
    AssessmentSchedule,
    CriteriaDecisions,
    CriterionDecision,
    LifecycleDecision,
    Panelist,
    ReportPublication,
    Reschedule,
    Verdict,
    overall_result,
)
from models.case_state import Context
from models.commands import ArtefactRef
from models.criteria import AssessmentType
from models.policy import AssessmentPolicy, LifecyclePolicy, OverallResultRule, Policy
from models.stages import LifecycleStage
from tests.examples import EXAMPLES
from workflows._definition import Guard
from workflows.assessment.definition import ASSESSMENT
from workflows.assessment.rules import (
    AGENDA_IN_TIME,
    CRITERIA_FROM_EXEC,
    DATE_AHEAD,
    DATE_REACHED,
    DECISION_FITS,
    EVERY_CRITERION,
    PANEL_INDEPENDENT,
    SM_ATTENDED,
    report_result,
)

DIRECTORY = load_directory(EXAMPLES / "directory.yaml")
NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)  # a Monday
DATE = datetime(2027, 3, 8, 10, 0, tzinfo=UTC)  # a Monday, five weeks later
AGENDA_LATEST = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # 5 working days before DATE
CTX = Context(now=NOW)  # what a check is made at unless a test says otherwise
Type = AssessmentType
D = LifecycleDecision


def contract_ref(version: int = 3) -> ArtefactRef:
    return ArtefactRef(
        kind="service_contract",
        version=version,
        sha256="0" * 64,
        case_id="service/SVC-003",
        url=f"http://127.0.0.1:8000/v1/cases/service/SVC-003/artefacts/service_contract/v{version}",
    )


def make_case(
    kind: AssessmentType = Type.ALPHA_EXIT,
    policy: Policy | None = None,
    team: tuple[str, ...] | None = None,
    **fields: Any,
) -> AssessmentCase:
    """An assessment of SVC-003 (SM P-012, team [P-021] in the directory)."""
    policy = policy or Policy()
    entry = DIRECTORY.service("SVC-003")
    assert entry is not None
    request = AssessmentInput(
        assessment_id="SVC-003-A01",
        service_id="SVC-003",
        service_name=entry.name,
        type=kind,
        stage=LifecycleStage.ALPHA,
        service_manager=entry.service_manager,
        team=entry.team if team is None else team,
        contract=contract_ref(),
        requested_by="P-001",
        reason="end of alpha",
        lifecycle_workflow_id="lifecycle/SVC-003",
        policy=policy,
        directory=DIRECTORY,
    )
    case = AssessmentCase(
        request=request,
        contract=request.contract,
        service_manager=request.service_manager,
        directory=DIRECTORY,
        policy=policy,
    )
    for name, value in fields.items():
        setattr(case, name, value)
    return case


def schedule(*people: str, date: datetime = DATE, lead: str | None = None) -> AssessmentSchedule:
    """A panel of ``people`` (the first leads unless ``lead`` says otherwise)."""
    lead = lead or people[0]
    return AssessmentSchedule(date=date, panel=[Panelist(person=p, lead=p == lead) for p in people])


def scheduled_case(**fields: Any) -> AssessmentCase:
    return make_case(schedule=schedule("P-004", "P-003"), **fields)


def decision(code: str, verdict: Verdict = Verdict.MET) -> CriterionDecision:
    return CriterionDecision(
        code=code, decision=verdict, done_well="clear research", to_improve="test with more users"
    )


def decided_case(
    *verdicts: Verdict, kind: AssessmentType = Type.ALPHA_EXIT, **fields: Any
) -> AssessmentCase:
    """A case in REPORT_DRAFT whose criteria C1.. got ``verdicts``."""
    codes = [f"C{i}" for i in range(1, len(verdicts) + 1)]
    return make_case(
        kind,
        state="REPORT_DRAFT",
        criteria=codes,
        decisions=[decision(c, v) for c, v in zip(codes, verdicts, strict=True)],
        **fields,
    )


def guards_of(trigger: str) -> tuple[Guard[AssessmentCase, Any], ...]:
    spec = ASSESSMENT.transition(trigger)
    assert spec is not None
    return spec.guards


def record(
    trigger: str, case: AssessmentCase, data: Any, now: datetime = NOW, actor: str = "P-001"
) -> None:
    spec = ASSESSMENT.transition(trigger)
    assert spec is not None
    assert spec.record is not None
    spec.record(case, data, Context(now=now, actor=actor))


MET, NOT_MET = Verdict.MET, Verdict.NOT_MET


def test_rules_are_attached_to_the_transitions_domain_names() -> None:
    assert guards_of("assessment_scheduled") == (DATE_AHEAD, PANEL_INDEPENDENT)
    assert guards_of("agenda_published") == (AGENDA_IN_TIME, CRITERIA_FROM_EXEC)
    assert guards_of("assessment_rescheduled") == (DATE_AHEAD,)
    assert guards_of("assessment_held") == (SM_ATTENDED,)
    held = ASSESSMENT.transition("assessment_held")
    assert held is not None
    assert held.needs == (DATE_REACHED,)
    assert guards_of("decisions_recorded") == (EVERY_CRITERION,)
    assert guards_of("report_published") == (DECISION_FITS,)


# -- A2: the panel ------------------------------------------------------------------------------


def test_a2_passes_for_a_panel_of_executive_team_members() -> None:
    assert PANEL_INDEPENDENT.check(make_case(), schedule("P-004", "P-003"), CTX) == []


def test_a2_refuses_a_member_of_the_service_team() -> None:
    case = make_case()
    assert case.request.team == ("P-021",)  # from SVC-003's entry in the directory
    assert PANEL_INDEPENDENT.check(case, schedule("P-004", "P-021"), CTX) == [
        "P-021 (Jo Mensah) is on SVC-003's own team and cannot assess it"
    ]


def test_a2_refuses_the_service_manager_even_without_a_team() -> None:
    case = make_case(team=())
    assert PANEL_INDEPENDENT.check(case, schedule("P-012", "P-004"), CTX) == [
        "P-012 (Grace Lindqvist) is on SVC-003's own team and cannot assess it"
    ]


def test_a2_refuses_a_team_member_the_directory_names_when_the_request_lists_no_team() -> None:
    case = make_case(team=())  # what the lifecycle sends: LifecycleInput.team defaults to ()
    assert PANEL_INDEPENDENT.check(case, schedule("P-004", "P-021"), CTX) != []


def test_a2_names_an_unknown_panel_member_as_a_problem() -> None:
    assert PANEL_INDEPENDENT.check(make_case(), schedule("P-004", "P-999"), CTX) == [
        "P-999 is not in the directory of people"
    ]


def test_a2_lists_every_problem_with_the_panel() -> None:
    assert PANEL_INDEPENDENT.check(make_case(), schedule("P-999", "P-021", "P-004"), CTX) == [
        "P-999 is not in the directory of people",
        "P-021 (Jo Mensah) is on SVC-003's own team and cannot assess it",
    ]


def test_a2_panel_has_exactly_one_lead() -> None:
    assert schedule("P-004", "P-003", lead="P-003").lead == "P-003"
    with pytest.raises(ValidationError, match="exactly one lead"):
        AssessmentSchedule(date=DATE, panel=[Panelist(person="P-004"), Panelist(person="P-003")])
    with pytest.raises(ValidationError, match="exactly one lead"):
        AssessmentSchedule(
            date=DATE,
            panel=[Panelist(person="P-004", lead=True), Panelist(person="P-003", lead=True)],
        )


def test_a2_panel_lists_each_person_once_and_is_not_empty() -> None:
    with pytest.raises(ValidationError, match="listed once"):
        AssessmentSchedule(
            date=DATE, panel=[Panelist(person="P-004", lead=True), Panelist(person="P-004")]
        )
    with pytest.raises(ValidationError):
        AssessmentSchedule(date=DATE, panel=[])


# -- A2/A4: the date ----------------------------------------------------------------------------


def test_a2_passes_for_a_date_in_the_future() -> None:
    assert (
        DATE_AHEAD.check(make_case(), schedule("P-004", date=NOW + timedelta(minutes=1)), CTX) == []
    )


@pytest.mark.parametrize("date", [NOW, NOW - timedelta(days=1)], ids=["now", "yesterday"])
def test_a2_refuses_a_date_that_is_not_in_the_future(date: datetime) -> None:
    assert DATE_AHEAD.check(make_case(), schedule("P-004", date=date), CTX) == [
        f"the date {date:%Y-%m-%d %H:%M} is not in the future"
    ]


def test_a4_reschedule_refuses_a_past_date_and_takes_a_future_one() -> None:
    case = scheduled_case(state="AGENDA_PUBLISHED")
    assert DATE_AHEAD.check(case, Reschedule(date=NOW - timedelta(hours=1)), CTX) != []
    assert DATE_AHEAD.check(case, Reschedule(date=DATE + timedelta(days=7)), CTX) == []


def test_a2_a_date_without_a_time_zone_is_refused_not_a_crash() -> None:
    try:
        data = AssessmentSchedule.model_validate(
            {"date": "2027-03-08T10:00:00", "panel": [{"person": "P-004", "lead": True}]}
        )
    except ValidationError:
        return  # refusing it in the model is fine too
    assert isinstance(DATE_AHEAD.check(make_case(), data, CTX), list)


def test_a4_record_moves_the_date_and_keeps_the_panel() -> None:
    case = scheduled_case()
    panel = case.schedule.panel if case.schedule else None
    record("assessment_rescheduled", case, Reschedule(date=DATE + timedelta(days=7)))
    assert case.schedule is not None
    assert case.schedule.date == DATE + timedelta(days=7)
    assert case.schedule.panel == panel


# -- A3: the agenda -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now", [NOW, AGENDA_LATEST], ids=["five-weeks-ahead", "exactly-five-working-days"]
)
def test_a3_passes_up_to_agenda_lead_working_days_before_the_date(now: datetime) -> None:
    assert AGENDA_IN_TIME.check(scheduled_case(), Agenda(), Context(now=now)) == []


@pytest.mark.parametrize(
    "now",
    [AGENDA_LATEST + timedelta(minutes=1), datetime(2027, 3, 5, 9, tzinfo=UTC)],
    ids=["a-minute-late", "the-friday-before"],
)
def test_a3_refuses_an_agenda_later_than_the_lead_time(now: datetime) -> None:
    assert AGENDA_IN_TIME.check(scheduled_case(), Agenda(), Context(now=now)) == [
        "the agenda must go out at least 5 working days before the assessment (2027-03-08); "
        "reschedule first (assessment_rescheduled)"
    ]


def test_a3_lead_time_follows_the_policy() -> None:
    policy = Policy(assessment=AssessmentPolicy(agenda_lead_wd=10))
    case = scheduled_case(policy=policy)
    on_time = Context(now=datetime(2027, 2, 22, 10, tzinfo=UTC))
    late = Context(now=AGENDA_LATEST)
    assert AGENDA_IN_TIME.check(case, Agenda(), on_time) == []
    assert AGENDA_IN_TIME.check(case, Agenda(), late) == [
        "the agenda must go out at least 10 working days before the assessment (2027-03-08); "
        "reschedule first (assessment_rescheduled)"
    ]


# The default criteria per type (DOMAIN §4.4).
DEFAULT_CRITERIA = {
    Type.DISCOVERY_EXIT: ["C1", "C2", "C6", "C10"],
    Type.ALPHA_EXIT: ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "T1"],
    Type.BETA_EXIT: [f"C{i}" for i in range(1, 11)] + ["T1", "T2", "T3"],
    Type.LIVE_PERIODIC: ["C1", "C3", "C5", "C9", "C10", "T1"],
}


@pytest.mark.parametrize("kind", list(DEFAULT_CRITERIA))
def test_a3_agenda_without_criteria_records_the_policys_default_for_the_type(
    kind: AssessmentType,
) -> None:
    case = make_case(kind, schedule=schedule("P-004"))
    record("agenda_published", case, Agenda())
    assert case.criteria == DEFAULT_CRITERIA[kind]


def test_a3_agenda_pins_the_contract_version() -> None:
    case = scheduled_case()
    assert case.contract_version is None
    record("agenda_published", case, Agenda())
    assert case.contract_version == 3


def test_a3_agenda_records_the_criteria_it_names_in_its_order() -> None:
    case = scheduled_case()
    record("agenda_published", case, Agenda(criteria=["T1", "C1", "C9"]))
    assert case.criteria == ["T1", "C1", "C9"]


def test_a3_default_criteria_come_from_the_cases_policy() -> None:
    criteria = AssessmentPolicy().criteria | {Type.ALPHA_EXIT: ("C3", "T2")}
    case = scheduled_case(policy=Policy(assessment=AssessmentPolicy(criteria=criteria)))
    record("agenda_published", case, Agenda())
    assert case.criteria == ["C3", "T2"]


@pytest.mark.parametrize(
    "criteria",
    [["C11"], ["C1", "C1"], [], ["X1"]],
    ids=["not-in-catalogue", "twice", "empty", "bad-code"],
)
def test_a3_agenda_refuses_unknown_repeated_or_no_criteria(criteria: list[str]) -> None:
    with pytest.raises(ValidationError):
        Agenda(criteria=criteria)


# -- the agenda clock ---------------------------------------------------------------------------


def agenda_due(case: AssessmentCase) -> datetime:
    due = ASSESSMENT.clock("agenda").due
    assert due is not None
    return due(case, NOW)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (DATE, AGENDA_LATEST),
        (datetime(2027, 3, 10, 14, tzinfo=UTC), datetime(2027, 3, 3, 14, tzinfo=UTC)),
        (datetime(2027, 3, 4, 10, tzinfo=UTC), datetime(2027, 2, 25, 10, tzinfo=UTC)),
    ],
    ids=["monday", "wednesday", "thursday"],
)
def test_agenda_clock_is_due_agenda_lead_working_days_before_the_date(
    date: datetime, expected: datetime
) -> None:
    assert agenda_due(make_case(schedule=schedule("P-004", date=date))) == expected


def test_agenda_clock_follows_the_policys_lead_time() -> None:
    policy = Policy(assessment=AssessmentPolicy(agenda_lead_wd=10))
    case = make_case(policy=policy, schedule=schedule("P-004"))
    assert agenda_due(case) == datetime(2027, 2, 22, 10, tzinfo=UTC)


def test_agenda_clock_starts_over_when_the_assessment_is_rescheduled() -> None:
    epoch = ASSESSMENT.clock("agenda").epoch
    assert epoch is not None
    case = scheduled_case()
    before = epoch(case)
    record("assessment_rescheduled", case, Reschedule(date=DATE + timedelta(days=7)))
    assert epoch(case) != before
    assert agenda_due(case) == AGENDA_LATEST + timedelta(days=7)


# -- A5: held -----------------------------------------------------------------------------------


def test_a5_refuses_before_the_date() -> None:
    case = scheduled_case()
    before = Context(now=DATE - timedelta(minutes=1))
    assert DATE_REACHED.check(case, before) == [
        "the assessment is scheduled for 2027-03-08 10:00:00 UTC"
    ]


@pytest.mark.parametrize("now", [DATE, DATE + timedelta(hours=3)], ids=["at", "after"])
def test_a5_passes_once_the_date_is_reached(now: datetime) -> None:
    case = scheduled_case()
    assert DATE_REACHED.check(case, Context(now=now)) == []


def test_a5_needs_the_service_manager_to_have_attended() -> None:
    case = scheduled_case()
    at = Context(now=DATE)
    assert SM_ATTENDED.check(case, AssessmentHeld(service_manager_attended=True), at) == []
    assert SM_ATTENDED.check(case, AssessmentHeld(service_manager_attended=False), at) == [
        "the Service Manager presents the service: reschedule if they could not attend"
    ]


def test_a5_records_when_it_was_held() -> None:
    case = scheduled_case()
    held = AssessmentHeld(service_manager_attended=True)
    record("assessment_held", case, held, now=DATE + timedelta(minutes=5))
    assert case.held_at == DATE + timedelta(minutes=5)


# -- A6: decisions ------------------------------------------------------------------------------


def decisions(*codes: str) -> CriteriaDecisions:
    return CriteriaDecisions(criteria=[decision(c) for c in codes])


def held_case() -> AssessmentCase:
    return make_case(state="HELD", criteria=["C1", "C2", "C6"])


def test_a6_passes_with_a_decision_on_exactly_the_agendas_criteria() -> None:
    assert EVERY_CRITERION.check(held_case(), decisions("C6", "C1", "C2"), CTX) == []


def test_a6_refuses_a_missing_criterion() -> None:
    assert EVERY_CRITERION.check(held_case(), decisions("C1", "C6"), CTX) == [
        "no decision on agenda criteria: C2"
    ]


def test_a6_refuses_a_criterion_not_on_the_agenda() -> None:
    assert EVERY_CRITERION.check(held_case(), decisions("C1", "C2", "C6", "T1"), CTX) == [
        "not on the agenda: T1"
    ]


def test_a6_names_both_missing_and_extra_criteria() -> None:
    assert EVERY_CRITERION.check(held_case(), decisions("C1", "C9"), CTX) == [
        "no decision on agenda criteria: C2, C6",
        "not on the agenda: C9",
    ]


def test_a6_records_the_decisions() -> None:
    case = held_case()
    record("decisions_recorded", case, decisions("C1", "C2", "C6"))
    assert [d.code for d in case.decisions] == ["C1", "C2", "C6"]


@pytest.mark.parametrize("missing", ["done_well", "to_improve"])
def test_a6_a_criterion_without_done_well_or_to_improve_is_invalid(missing: str) -> None:
    data = {"code": "C1", "decision": "MET", "done_well": "x", "to_improve": "y"}
    del data[missing]
    with pytest.raises(ValidationError, match=missing):
        CriterionDecision.model_validate(data)


@pytest.mark.parametrize("blank", ["", "   "], ids=["empty", "spaces"])
def test_a6_a_blank_comment_is_invalid(blank: str) -> None:
    with pytest.raises(ValidationError, match="to_improve"):
        CriterionDecision(code="C1", decision=MET, done_well="x", to_improve=blank)


def test_a6_each_criterion_is_decided_once() -> None:
    with pytest.raises(ValidationError, match="more than once: C1"):
        decisions("C1", "C2", "C1")


# -- the overall result -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "verdicts", "expected"),
    [
        (OverallResultRule.ALL_MET, [MET, MET, MET], MET),
        (OverallResultRule.ALL_MET, [MET, MET, NOT_MET], NOT_MET),
        (OverallResultRule.MAJORITY_MET, [MET, MET, NOT_MET], MET),
        (OverallResultRule.MAJORITY_MET, [MET, NOT_MET], NOT_MET),
        (OverallResultRule.MAJORITY_MET, [MET, NOT_MET, NOT_MET], NOT_MET),
    ],
    ids=["all-met", "all-met-one-not", "majority", "majority-tie", "majority-minority"],
)
def test_overall_result_rule(
    rule: OverallResultRule, verdicts: list[Verdict], expected: Verdict
) -> None:
    codes = [f"C{i}" for i in range(1, len(verdicts) + 1)]
    given = [decision(c, v) for c, v in zip(codes, verdicts, strict=True)]
    assert overall_result(rule, given) == expected


def test_report_result_follows_the_cases_policy_rule() -> None:
    publication = ReportPublication(lifecycle_decision=D.UNDETERMINED)
    majority = Policy(
        assessment=AssessmentPolicy(overall_result_rule=OverallResultRule.MAJORITY_MET)
    )
    assert report_result(decided_case(MET, MET, NOT_MET), publication) == NOT_MET
    assert report_result(decided_case(MET, MET, NOT_MET, policy=majority), publication) == MET


@pytest.mark.parametrize(
    ("verdicts", "override"),
    [([MET, MET], NOT_MET), ([NOT_MET, NOT_MET], MET)],
    ids=["down", "up"],
)
def test_report_result_override_wins_over_the_rule(
    verdicts: list[Verdict], override: Verdict
) -> None:
    publication = ReportPublication(
        lifecycle_decision=D.UNDETERMINED,
        result_override=override,
        overall_rationale="the panel weighed C1 above the rest",
    )
    assert report_result(decided_case(*verdicts), publication) == override


@pytest.mark.parametrize("rationale", [None, "", "  "], ids=["none", "empty", "spaces"])
def test_an_override_without_rationale_is_invalid(rationale: str | None) -> None:
    with pytest.raises(ValidationError):
        ReportPublication(
            lifecycle_decision=D.GO_LIVE, result_override=MET, overall_rationale=rationale
        )


# -- A7: the lifecycle decision fits the type and the result ------------------------------------

# Allowed lifecycle decisions by assessment type (DOMAIN §9.2, with the optional return).
LIVE_DECISIONS = {D.NONE, D.RECOMMEND_DECOMMISSION, D.RECOMMEND_CONTRACT_CHANGE}
ALLOWED = {
    Type.DISCOVERY_EXIT: {D.NOT_REQUIRED, D.MORE_RESEARCH, D.PROGRESS_TO_ALPHA},
    Type.ALPHA_EXIT: {
        D.NO_SUITABLE_WAY,
        D.UNDETERMINED,
        D.PROGRESS_TO_BETA,
        D.RETURN_TO_DISCOVERY,
    },
    Type.BETA_EXIT: {D.GO_LIVE, D.CONTINUE_BETA},
    Type.LIVE_PERIODIC: LIVE_DECISIONS,
    Type.REASSESSMENT: LIVE_DECISIONS,
    Type.AD_HOC: LIVE_DECISIONS,
}


@pytest.mark.parametrize("kind", list(Type))
@pytest.mark.parametrize("lifecycle_decision", list(D))
def test_a7_decision_must_be_allowed_for_the_type(
    kind: AssessmentType, lifecycle_decision: LifecycleDecision
) -> None:
    returning = Policy(lifecycle=LifecyclePolicy(allow_return_to_discovery=True))
    case = decided_case(MET, MET, kind=kind, policy=returning)
    problems = DECISION_FITS.check(
        case, ReportPublication(lifecycle_decision=lifecycle_decision), CTX
    )
    assert (problems == []) == (lifecycle_decision in ALLOWED[kind])


def test_a7_refuses_return_to_discovery_when_the_policy_forbids_the_move() -> None:
    case = decided_case(MET, MET, kind=Type.ALPHA_EXIT)
    problems = DECISION_FITS.check(
        case, ReportPublication(lifecycle_decision=D.RETURN_TO_DISCOVERY), CTX
    )
    assert problems == [
        "the policy does not allow a return to discovery (allow_return_to_discovery)"
    ]


def test_a7_refuses_go_live_on_a_discovery_exit_naming_the_allowed_decisions() -> None:
    case = decided_case(MET, kind=Type.DISCOVERY_EXIT)
    assert DECISION_FITS.check(case, ReportPublication(lifecycle_decision=D.GO_LIVE), CTX) == [
        "a DISCOVERY_EXIT report decides one of MORE_RESEARCH, NOT_REQUIRED, "
        "PROGRESS_TO_ALPHA, not GO_LIVE"
    ]


@pytest.mark.parametrize(
    ("kind", "progress"),
    [
        (Type.DISCOVERY_EXIT, D.PROGRESS_TO_ALPHA),
        (Type.ALPHA_EXIT, D.PROGRESS_TO_BETA),
        (Type.BETA_EXIT, D.GO_LIVE),
    ],
)
def test_a7_progress_needs_a_met_result(kind: AssessmentType, progress: LifecycleDecision) -> None:
    case = decided_case(MET, NOT_MET, kind=kind)
    assert DECISION_FITS.check(case, ReportPublication(lifecycle_decision=progress), CTX) == [
        f"{progress} needs an overall result of MET; this report is NOT_MET"
    ]


@pytest.mark.parametrize(
    ("kind", "decided"),
    [
        (Type.DISCOVERY_EXIT, D.NOT_REQUIRED),
        (Type.DISCOVERY_EXIT, D.MORE_RESEARCH),
        (Type.ALPHA_EXIT, D.NO_SUITABLE_WAY),
        (Type.ALPHA_EXIT, D.UNDETERMINED),
        (Type.BETA_EXIT, D.CONTINUE_BETA),
        (Type.LIVE_PERIODIC, D.NONE),
    ],
)
def test_a7_other_decisions_are_allowed_with_a_not_met_result(
    kind: AssessmentType, decided: LifecycleDecision
) -> None:
    case = decided_case(NOT_MET, kind=kind)
    assert DECISION_FITS.check(case, ReportPublication(lifecycle_decision=decided), CTX) == []


def test_a7_an_override_to_met_lets_progress_through() -> None:
    case = decided_case(MET, NOT_MET)
    publication = ReportPublication(
        lifecycle_decision=D.PROGRESS_TO_BETA,
        result_override=MET,
        overall_rationale="C2 is not met only for a channel out of scope",
    )
    assert DECISION_FITS.check(case, publication, CTX) == []


def test_a7_an_override_to_not_met_stops_progress() -> None:
    case = decided_case(MET, MET)
    publication = ReportPublication(
        lifecycle_decision=D.PROGRESS_TO_BETA,
        result_override=NOT_MET,
        overall_rationale="the team could not show a working prototype",
    )
    assert DECISION_FITS.check(case, publication, CTX) == [
        "PROGRESS_TO_BETA needs an overall result of MET; this report is NOT_MET"
    ]


@pytest.mark.parametrize(
    ("role", "criteria", "refused"),
    [
        ("LEAD_ASSESSOR", ["C1"], True),
        ("LEAD_ASSESSOR", None, False),
        ("EXEC", ["C1"], False),
        ("EXEC (delegated to P-003: assessment_panel)", ["C1", "C5"], False),
    ],
)
def test_a3_only_the_executive_chooses_other_criteria(
    role: str, criteria: list[str] | None, refused: bool
) -> None:
    case = scheduled_case()
    problems = CRITERIA_FROM_EXEC.check(case, Agenda(criteria=criteria), Context(NOW, role=role))
    assert bool(problems) == refused

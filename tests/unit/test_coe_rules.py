"""The Correction of Error and review-session definitions against DOMAIN §5, §7.4 and §9.4, as
pure functions of a case (no Temporal)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.client import ScheduleActionStartWorkflow

from activities.directory import load_directory
from models.case_state import Context
from models.coe import CoeCase, CoeInput, ServiceProfile
from models.coe_actions import CorrectiveAction, long_overdue
from models.coe_document import (
    OSOM_FIELDS,
    ActionPlan,
    CoeDocument,
    empty_osom_fields,
    named_people,
)
from models.coe_review import ItemRecord, Minutes, MinutesRecord, PinnedItem, ReviewSessionCase
from models.errors import GuardFailed, NotAuthorised
from models.policy import CoePolicy, CoeReviewPolicy, Policy
from osom.review_schedule import review_schedule
from tests.examples import EXAMPLES, artefact
from workflows.coe_review.definition import COE_REVIEW
from workflows.correction_of_errors.actions import action_event, next_action_event
from workflows.correction_of_errors.definition import COE
from workflows.correction_of_errors.records import merge_actions
from workflows.correction_of_errors.rules import check_opening

DIRECTORY = load_directory(EXAMPLES / "directory.yaml")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday
AT_NOW = Context(now=NOW)
SERVICE = ServiceProfile(
    service_id="SVC-002",
    name="Hosting Platform",
    service_manager="P-011",
    stage="LIVE",
    team=("P-020",),
    in_engine=False,
)


def opening(**changes: Any) -> CoeInput:
    data: dict[str, Any] = {
        "coe_id": "COE-2026-001",
        "service_id": "SVC-002",
        "problem": "expired certificate",
        "detected_at": NOW - timedelta(hours=2),
        "mitigated_at": NOW - timedelta(hours=1),
        "opened_by": "P-011",
    }
    return CoeInput.model_validate(data | changes)


def document(**changes: Any) -> CoeDocument:
    return CoeDocument.model_validate(artefact("coe-document.yaml") | changes)


def make_case(**fields: Any) -> CoeCase:
    case = CoeCase(request=opening(), service=SERVICE, directory=DIRECTORY, policy=Policy())
    for name, value in fields.items():
        setattr(case, name, value)
    return case


def action(
    action_id: str = "A-1", due: date = date(2026, 12, 1), **fields: Any
) -> CorrectiveAction:
    return CorrectiveAction(
        id=action_id,
        description="alert on expiry",
        owner="P-020",
        due=due,
        created_at=NOW,
        **fields,
    )


def guard_problems(trigger: str, case: CoeCase, data: Any, ctx: Context = AT_NOW) -> list[str]:
    spec = COE.transition(trigger)
    assert spec is not None
    return [p for g in spec.guards for p in g.check(case, data, ctx)]


def requirement_problems(trigger: str, case: CoeCase) -> list[str]:
    spec = COE.transition(trigger)
    assert spec is not None
    return [p for r in spec.needs for p in r.check(case, AT_NOW)]


# -- the document ---------------------------------------------------------------------------


def test_the_nine_osom_fields_are_those_of_domain_7_4() -> None:
    assert empty_osom_fields(CoeDocument()) == list(OSOM_FIELDS)
    assert len(OSOM_FIELDS) == 9
    assert empty_osom_fields(document()) == []
    assert empty_osom_fields(document(lessons_learned=[], impact="")) == [
        "impact",
        "lessons_learned",
    ]


def test_a_near_miss_with_no_user_impact_is_complete() -> None:
    near_miss = CoeDocument.model_validate(artefact("coe-near-miss.yaml"))
    assert near_miss.users_impacted == 0
    assert empty_osom_fields(near_miss) == []


def test_publishing_needs_a_draft_with_every_field() -> None:
    assert requirement_problems("coe_published", make_case()) == [
        "no draft submitted yet (coe_document)"
    ]
    case = make_case(document=document(root_cause=""))
    assert requirement_problems("coe_published", case) == ["root_cause is empty"]


def test_the_blameless_check_finds_full_names_and_surnames_in_the_analysis_only() -> None:
    named = document(
        root_cause="Ravi Mehta missed the alert.",
        five_whys=["Why? Okafor was away."],
        timeline=[{"at": "07:04", "event": "the on-call engineer was paged"}],
    )
    assert named_people(named, DIRECTORY) == [
        "P-020 (Ravi Mehta) in root_cause",
        "P-011 (Tom Okafor) in five_whys",
    ]
    # Roles, ids and lower-case words are not names; action owners are facts, not blame.
    assert named_people(document(problem="the bell rang for P-011"), DIRECTORY) == []


def test_publishing_with_names_needs_an_acknowledgement() -> None:
    case = make_case(document=document(root_cause="Ravi Mehta missed the alert."))
    from models.coe import CoePublication

    problems = guard_problems("coe_published", case, CoePublication())
    assert problems[0] == "the analysis names P-020 (Ravi Mehta) in root_cause"
    assert guard_problems("coe_published", case, CoePublication(names_acknowledged="credit")) == []


def test_document_actions_have_unique_ids_one_owner_and_a_due_date() -> None:
    with pytest.raises(ValidationError, match="unique"):
        document(corrective_actions=[artefact("coe-document.yaml")["corrective_actions"][0]] * 2)
    with pytest.raises(ValidationError, match="owner"):
        ActionPlan.model_validate({"id": "A-1", "description": "x", "due": "2027-01-01"})
    with pytest.raises(ValidationError, match="due"):
        ActionPlan.model_validate({"id": "A-1", "description": "x", "owner": "P-020"})


def test_a_new_draft_keeps_due_dates_and_finished_actions_as_they_are() -> None:
    spec = COE.artefact("coe_document")
    assert spec is not None
    case = make_case(actions={"A-1": action(due=date(2026, 12, 1))})

    def problems(plan: dict[str, Any]) -> list[str]:
        plans = document(corrective_actions=[plan])
        return [p for g in spec.guards for p in g.check(case, plans, AT_NOW)]

    plan = {"id": "A-1", "description": "alert", "owner": "P-020", "due": "2026-12-01"}
    assert problems(plan) == []
    assert problems(plan | {"owner": "P-011"}) == []  # an open action may change hands
    assert "change it with action_due_date_changed" in problems(plan | {"due": "2026-12-09"})[0]
    assert problems(plan | {"id": "A-2", "due": "2026-11-23"}) == [
        "A-2: the due date 2026-11-23 is in the past"
    ]
    case.actions["A-1"] = action(status="DONE")
    assert problems(plan | {"owner": "P-011"}) == ["A-1 is DONE; its owner stays P-020"]


def test_merging_a_document_adds_new_actions_and_never_deletes_one() -> None:
    case = make_case(actions={"A-1": action()})
    merge_actions(
        case,
        [ActionPlan(id="A-2", description="runbook", owner="P-011", due=date(2027, 1, 4))],
        NOW,
    )
    assert list(case.actions) == ["A-1", "A-2"]
    assert case.actions["A-2"].created_at == NOW
    assert not case.actions["A-2"].reminded


def test_an_action_due_too_soon_for_its_reminder_is_not_reminded_late() -> None:
    case = make_case()
    merge_actions(case, [ActionPlan(id="A-1", description="x", owner="P-020", due=NOW.date())], NOW)
    assert case.actions["A-1"].reminded


# -- corrective action timers ----------------------------------------------------------------


def test_an_action_is_reminded_then_overdue_then_escalated() -> None:
    due = date(2026, 12, 4)  # a Friday
    case = make_case(actions={"A-1": action(due=due)})
    events = []
    while (event := next_action_event(case)) is not None:
        action_id, at, kind = event
        notice = action_event(case, action_id, kind)
        events.append((at, kind, notice.to))
    assert events == [
        (datetime(2026, 12, 1, tzinfo=UTC), "remind", ["P-020"]),  # 3 working days before
        (datetime(2026, 12, 5, tzinfo=UTC), "overdue", ["P-020", "P-011"]),  # end of due date
        # 10 whole working days after the due date (Monday 7 to Friday 18)
        (datetime(2026, 12, 21, tzinfo=UTC), "escalate", ["P-001", "P-011", "P-020"]),
    ]


def test_finished_actions_have_no_timers_and_do_not_hold_gates() -> None:
    done = action(status="DONE")
    case = make_case(actions={"A-1": done})
    assert next_action_event(case) is None
    late = NOW + timedelta(days=400)
    assert long_overdue([done], late, 10) == []
    assert long_overdue([action()], late, 10) != []
    assert (
        long_overdue([action(due=date(2026, 12, 1))], datetime(2026, 12, 15, tzinfo=UTC), 10) == []
    )


# -- who does what ---------------------------------------------------------------------------


def test_a_coe_is_opened_by_the_services_manager_or_its_team() -> None:
    assert check_opening(opening(), SERVICE, DIRECTORY, NOW).role == "SERVICE_MANAGER"
    assert check_opening(opening(opened_by="P-020"), SERVICE, DIRECTORY, NOW).role.startswith(
        "TEAM"
    )
    with pytest.raises(NotAuthorised, match="its Service Manager \\(P-011\\) or a member"):
        check_opening(opening(opened_by="P-012"), SERVICE, DIRECTORY, NOW)
    with pytest.raises(GuardFailed, match="mitigated_at in the future"):
        check_opening(opening(mitigated_at=NOW + timedelta(hours=1)), SERVICE, DIRECTORY, NOW)
    with pytest.raises(ValidationError, match="mitigated_at is before detected_at"):
        opening(mitigated_at=NOW - timedelta(hours=3))


def test_only_an_actions_owner_or_the_manager_works_on_it() -> None:
    from models.coe_actions import ActionRef

    case = make_case(actions={"A-1": action()})
    stranger = Context(now=NOW, actor="P-021")
    with pytest.raises(NotAuthorised, match="owned by P-020"):
        guard_problems("action_started", case, ActionRef(action_id="A-1"), stranger)
    manager = Context(now=NOW, actor="P-011")
    assert guard_problems("action_started", case, ActionRef(action_id="A-1"), manager) == []
    assert guard_problems("action_started", case, ActionRef(action_id="A-9"), manager) == [
        "COE-2026-001 has no action A-9; its actions: A-1"
    ]


def test_an_action_the_manager_owns_names_them_once_when_refusing() -> None:
    from models.coe_actions import ActionRef

    owned = action().model_copy(update={"owner": "P-011"})  # P-011 is the Service Manager
    case = make_case(actions={"A-1": owned})
    team_member = Context(now=NOW, actor="P-020")
    with pytest.raises(NotAuthorised) as refused:
        guard_problems("action_started", case, ActionRef(action_id="A-1"), team_member)
    assert refused.value.details["allowed"] == ["P-011"]
    assert refused.value.message == (
        "P-020 may not change A-1: it is owned by P-011; only they may (they are the Service "
        "Manager)"
    )


def test_closing_needs_finished_actions_a_review_and_the_managers_request() -> None:
    case = make_case(actions={"A-1": action()})
    assert len(requirement_problems("coe_closed", case)) == 3
    case.actions["A-1"] = action(status="CANCELLED", cancel_rationale="superseded")
    case.considered_by_exec = True
    assert requirement_problems("coe_closed", case) == [
        "the Service Manager has not asked to close it"
    ]
    case.closure_requested_by = "P-011"
    assert requirement_problems("coe_closed", case) == []


# -- the review session ----------------------------------------------------------------------


def session(**fields: Any) -> ReviewSessionCase:
    return ReviewSessionCase(
        session_id="coe-review-x", meeting_at=NOW, directory=DIRECTORY, policy=Policy(), **fields
    )


def drawn(*coe_ids: str) -> list[dict[str, str]]:
    return [{"coe_id": c, "workflow_id": f"coe/{c}", "service_id": "SVC-002"} for c in coe_ids]


def test_minutes_cover_exactly_the_drawn_coes() -> None:
    spec = COE_REVIEW.transition("minutes_recorded")
    assert spec is not None
    case = session(items=drawn("COE-1", "COE-2"))

    def problems(*items: dict[str, Any]) -> list[str]:
        minutes = Minutes.model_validate({"items": list(items)})
        return [p for g in spec.guards for p in g.check(case, minutes, AT_NOW)]

    reviewed = {"outcome": "reviewed", "outputs": [{"kind": "none"}]}
    assert (
        problems({"coe_id": "COE-1"} | reviewed, {"coe_id": "COE-2", "outcome": "deferred"}) == []
    )
    assert problems({"coe_id": "COE-1"} | reviewed, {"coe_id": "COE-3"} | reviewed) == [
        "COE-3 was not drawn by this session",
        "no minute for COE-2, which is on the agenda",
    ]
    assert problems(
        {"coe_id": "COE-1", "outcome": "reviewed"}, {"coe_id": "COE-2", "outcome": "deferred"}
    ) == ["COE-1: record the review's outputs (kind 'none' if there were none)"]
    with pytest.raises(ValidationError, match="once"):
        Minutes.model_validate({"items": [{"coe_id": "COE-1", "outcome": "deferred"}] * 2})


def test_a_pinned_coe_needs_room_on_the_agenda() -> None:
    spec = COE_REVIEW.transition("item_pinned")
    assert spec is not None
    full = session(items=drawn("COE-1", "COE-2", "COE-3"))
    pinned = PinnedItem(coe_id="COE-1")
    problems = [p for g in spec.guards for p in g.check(full, pinned, AT_NOW)]
    assert problems == ["COE-1 is on the agenda already", "the agenda is full (3 CoEs)"]


def test_the_session_is_held_only_once_its_time_has_come() -> None:
    spec = COE_REVIEW.transition("session_held")
    assert spec is not None
    early = session()
    early.meeting_at = NOW + timedelta(hours=1)
    assert [p for r in spec.needs for p in r.check(early, AT_NOW)] == [
        "the session is at 2026-11-24 11:00 UTC"
    ]
    assert [p for r in spec.needs for p in r.check(session(), AT_NOW)] == []


def test_the_session_says_the_draw_its_pinned_policy_makes() -> None:
    one_to_three = Policy(coe_review=CoeReviewPolicy(items_min=1, items_max=3))
    pinned = session()
    pinned.policy = one_to_three
    assert pinned.facts()["Draw"] == "1-3 published CoEs at random from the pool"
    exactly_one = Policy(coe_review=CoeReviewPolicy(items_min=1, items_max=1))
    assert exactly_one.coe_review.draw_summary() == "1 published CoE"
    schedule = review_schedule(one_to_three.coe_review, "queue")
    assert isinstance(schedule.action, ScheduleActionStartWorkflow)
    assert schedule.action.static_summary == (
        "Regular CoE review: draw 1-3 published CoEs for the session"
    )


def test_the_session_page_says_per_coe_what_its_minute_did() -> None:
    def record(coe_id: str, **answer: Any) -> ItemRecord:
        return ItemRecord(coe_id=coe_id, outcome="reviewed", outputs=[], notes=None, **answer)

    minutes = MinutesRecord(
        session_id="coe-review-x",
        meeting_at=NOW,
        chair="P-004",
        attendees=[],
        items=[
            record("COE-1", applied=True, message="C7 applied"),
            record(
                "COE-2",
                applied=False,
                message="C7 presented_and_discussed is not possible from PUBLISHED",
                error_type="IllegalTransition",
            ),
            record("COE-3", applied=False, message="no answer: timed out"),
        ],
        recorded_at=NOW,
    )
    assert minutes.answers() == [
        "COE-1: applied (reviewed)",
        "COE-2: refused — IllegalTransition: C7 presented_and_discussed is not possible from "
        "PUBLISHED",
        "COE-3: not applied — no answer: timed out",
    ]
    facts = session(minutes=minutes).facts()
    assert facts["Minutes for COE-1"] == "applied (reviewed)"
    assert facts["Minutes for COE-2"].startswith("refused — IllegalTransition: C7")


def test_the_review_policy_defaults_are_weekly_with_two_to_three_items() -> None:
    policy = CoeReviewPolicy()
    assert (policy.cron, policy.items_min, policy.items_max) == ("0 9 * * MON", 2, 3)
    with pytest.raises(ValidationError, match="items_min"):
        CoeReviewPolicy(items_min=4, items_max=3)
    assert CoePolicy().gate_on_overdue_actions


def test_a_draft_is_the_truth_for_actions_nobody_has_started() -> None:
    spec = COE.artefact("coe_document")
    assert spec is not None
    case = make_case(
        actions={"A-1": action(), "A-2": action("A-2"), "A-3": action("A-3", status="IN_PROGRESS")}
    )
    plan = {"id": "A-1", "description": "alert", "owner": "P-020", "due": "2026-12-01"}
    spec.record(case, document(corrective_actions=[plan]), Context(now=NOW, actor="P-011"))
    assert list(case.actions) == ["A-1", "A-3"]  # A-2 dropped, A-3 already worked on


def test_a_revision_leaves_review_actions_alone_and_new_work_voids_a_closure_request() -> None:
    from models.coe import CoeRevision

    spec = COE.transition("coe_revised")
    assert spec is not None
    assert spec.record is not None
    review_action = action("A-3", due=date(2026, 12, 1), from_review=True)
    case = make_case(actions={"A-3": review_action}, closure_requested_by="P-011")
    mine = {"id": "A-3", "description": "n/a", "owner": "P-020", "due": "2026-12-01"}
    revision = CoeRevision(document=document(corrective_actions=[mine]), change_note="tidy")
    problems = guard_problems("coe_revised", case, revision)
    assert any("A-3 came out of a review" in p for p in problems)
    unchanged = mine | {"description": "alert on expiry"}
    new = {"id": "A-4", "description": "runbook", "owner": "P-020", "due": "2026-12-09"}
    revision = CoeRevision(
        document=document(corrective_actions=[unchanged, new]), change_note="more work"
    )
    assert guard_problems("coe_revised", case, revision) == []
    spec.record(case, revision, Context(now=NOW, actor="P-011"))
    assert case.closure_requested_by is None
    assert case.actions["A-4"].status == "OPEN"


def test_a_resolution_date_in_the_draft_moves_the_publication_deadline() -> None:
    from workflows import _deadlines

    case = make_case()
    case.clocks = _deadlines.reconcile(COE, case, NOW)
    before = case.clocks["publishing"].due_at
    case.document = document(resolved_at=NOW + timedelta(days=7))
    case.clocks = _deadlines.reconcile(COE, case, NOW)
    assert case.clocks["publishing"].due_at > before
    assert case.clocks["publishing"].due_at == datetime(2026, 12, 8, 10, tzinfo=UTC)

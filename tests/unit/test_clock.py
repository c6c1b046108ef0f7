"""Deadlines in working days: reminders, escalation at the due date, reminders after it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest

from models.case_state import ClockState
from models.policy import ClockPolicy
from workflows._clock import add_working_days, after_event, next_event, start_clock

MONDAY = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
FRIDAY = datetime(2026, 11, 27, 16, 45, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def working_days_between(start: datetime, end: datetime) -> int:
    """Weekdays in (start, end], counted day by day: the oracle the clock is checked against."""
    count = 0
    day: date = start.date()
    while day < end.date():
        day += timedelta(days=1)
        if day.weekday() < 5:
            count += 1
    return count


# -- add_working_days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday + 1 = Monday
        (date(2026, 11, 26), 1, date(2026, 11, 27)),  # Thursday + 1 = Friday
        (date(2026, 11, 27), 5, date(2026, 12, 4)),  # Friday + 5 = next Friday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Saturday + 1 = Monday
        (date(2026, 11, 29), 1, date(2026, 11, 30)),  # Sunday + 1 = Monday
        (date(2026, 11, 30), 4, date(2026, 12, 4)),  # Monday + 4 = Friday
        (date(2026, 11, 30), 5, date(2026, 12, 7)),  # Monday + 5 = next Monday
        (date(2026, 11, 30), 20, date(2026, 12, 28)),  # 20 WD = four calendar weeks
        (date(2026, 11, 30), 0, date(2026, 11, 30)),
    ],
)
def test_add_working_days_skips_weekends(start: date, days: int, expected: date) -> None:
    moment = datetime.combine(start, MONDAY.timetz())
    assert add_working_days(moment, days).date() == expected


def test_add_working_days_keeps_the_time_of_day_and_zone() -> None:
    later = add_working_days(FRIDAY, 3)
    assert later.timetz() == FRIDAY.timetz()
    assert later.tzinfo is UTC


@pytest.mark.parametrize("start", [MONDAY, FRIDAY, SATURDAY], ids=["mon", "fri", "sat"])
@pytest.mark.parametrize("days", [1, 2, 5, 7, 13, 20])
def test_add_working_days_lands_on_a_weekday_exactly_that_many_working_days_on(
    start: datetime, days: int
) -> None:
    later = add_working_days(start, days)
    assert later.weekday() < 5
    assert working_days_between(start, later) == days
    assert working_days_between(start, later - timedelta(days=1)) == days - 1


# -- the clock ----------------------------------------------------------------------------------


def started(name: str, label: str, at: datetime, policy: ClockPolicy) -> ClockState:
    """A clock timed by the policy's working days, as the engine starts one."""
    return start_clock(name, label, at, add_working_days(at, policy.due_wd), policy.reminder_wd)


def run_clock(
    start: datetime, policy: ClockPolicy, events: int
) -> tuple[ClockState, list[tuple[datetime, str]]]:
    clock = started("triage", "Triage decision due", start, policy)
    seen: list[tuple[datetime, str]] = []
    for _ in range(events):
        at, kind = next_event(clock)
        seen.append((at, kind))
        clock = after_event(clock, kind, policy.reminder_wd, at)
    return clock, seen


def test_start_clock_sets_the_due_date_and_the_first_reminder() -> None:
    clock = started("triage", "Triage decision due", MONDAY, ClockPolicy(due_wd=20, reminder_wd=5))
    assert clock.name == "triage"
    assert clock.label == "Triage decision due"
    assert clock.started_at == MONDAY
    assert clock.due_at == datetime(2026, 12, 28, 9, 30, tzinfo=UTC)
    assert clock.next_reminder_at == datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    assert (clock.reminders_sent, clock.escalated) == (0, False)


def test_default_policy_reminds_weekly_escalates_at_20_wd_then_keeps_reminding() -> None:
    policy = ClockPolicy(due_wd=20, reminder_wd=5)
    clock, seen = run_clock(FRIDAY, policy, 6)
    assert [(working_days_between(FRIDAY, at), kind) for at, kind in seen] == [
        (5, "remind"),
        (10, "remind"),
        (15, "remind"),
        (20, "escalate"),
        (25, "remind"),
        (30, "remind"),
    ]
    assert clock.escalated
    assert clock.reminders_sent == 5


@pytest.mark.parametrize(
    ("due_wd", "reminder_wd"),
    [(20, 5), (7, 5), (3, 5), (5, 5), (1, 1), (10, 3), (2, 7)],
)
@pytest.mark.parametrize("start", [MONDAY, FRIDAY, SATURDAY], ids=["mon", "fri", "sat"])
def test_clock_schedule(start: datetime, due_wd: int, reminder_wd: int) -> None:
    policy = ClockPolicy(due_wd=due_wd, reminder_wd=reminder_wd)
    _, seen = run_clock(start, policy, 8)
    times = [at for at, _ in seen]
    kinds = [kind for _, kind in seen]
    # events move strictly forward: never two at the same instant
    assert all(a < b for a, b in pairwise(times))
    # exactly one escalation, exactly at the due date
    assert kinds.count("escalate") == 1
    escalation = times[kinds.index("escalate")]
    assert escalation == add_working_days(start, due_wd)
    assert working_days_between(start, escalation) == due_wd
    # reminders every reminder_wd from the start until the due date, then every reminder_wd
    # after the due date (overdue reminders), always at the same time of day
    for at, _ in seen:
        assert at.timetz() == start.timetz()
    grid = [working_days_between(start, at) for at, kind in seen if kind == "remind"]
    before = [k * reminder_wd for k in range(1, 20) if k * reminder_wd < due_wd]
    after = [due_wd + k * reminder_wd for k in range(1, 20)]
    assert grid == (before + after)[: len(grid)]


def test_reminders_continue_after_the_due_date() -> None:
    policy = ClockPolicy(due_wd=7, reminder_wd=5)
    clock, seen = run_clock(MONDAY, policy, 4)
    assert [kind for _, kind in seen] == ["remind", "escalate", "remind", "remind"]
    after = [at for at, kind in seen[2:]]
    assert all(at > clock.due_at for at in after)
    assert clock.reminders_sent == 3


def test_escalation_replaces_a_reminder_due_at_the_same_moment() -> None:
    policy = ClockPolicy(due_wd=5, reminder_wd=5)
    clock = started("drafting", "Contract drafting due", MONDAY, policy)
    assert clock.next_reminder_at == clock.due_at
    assert next_event(clock) == (clock.due_at, "escalate")
    escalated = after_event(clock, "escalate", policy.reminder_wd, clock.due_at)
    assert escalated.escalated
    assert escalated.reminders_sent == 0
    assert escalated.next_reminder_at == add_working_days(clock.due_at, 5)
    assert next_event(escalated) == (escalated.next_reminder_at, "remind")


def test_a_reminder_counts_and_moves_the_next_one_on() -> None:
    policy = ClockPolicy(due_wd=20, reminder_wd=5)
    clock = started("triage", "Triage decision due", MONDAY, policy)
    reminded = after_event(clock, "remind", policy.reminder_wd, clock.next_reminder_at)
    assert reminded.reminders_sent == 1
    assert reminded.next_reminder_at == add_working_days(clock.next_reminder_at, 5)
    assert (reminded.due_at, reminded.escalated) == (clock.due_at, False)
    assert clock.reminders_sent == 0  # the clock is a value: after_event returns a copy


def test_reminders_missed_during_an_outage_are_not_sent_in_a_burst() -> None:
    policy = ClockPolicy(due_wd=20, reminder_wd=5)
    clock = started("triage", "Triage decision due", MONDAY, policy)
    back_online = add_working_days(MONDAY, 12)  # the worker was down for reminders 5 and 10
    reminded = after_event(clock, "remind", policy.reminder_wd, back_online)
    assert reminded.next_reminder_at == add_working_days(MONDAY, 15)
    assert reminded.next_reminder_at > back_online


def test_a_clock_without_reminders_shows_no_next_reminder() -> None:
    """Its internal "next reminder" orders its events; people are never shown it."""
    silent = ClockPolicy(due_wd=2)
    clock = started("minutes", "Minutes due", MONDAY, silent)
    assert clock.next_reminder_at > clock.due_at  # the timers' arithmetic is as it was
    assert next_event(clock) == (clock.due_at, "escalate")
    assert clock.reminder_due is None
    assert after_event(clock, "escalate", None, clock.due_at).reminder_due is None
    reminding = started(
        "triage", "Triage decision due", MONDAY, ClockPolicy(due_wd=20, reminder_wd=5)
    )
    assert reminding.reminder_due == add_working_days(MONDAY, 5)

"""Triage and drafting deadlines: reminders and escalation at the right simulated times."""

from __future__ import annotations

from datetime import datetime, timedelta

from models.policy import ClockPolicy, EstablishmentPolicy, Policy
from tests.workflows.conftest import Engine
from tests.workflows.driver import Case
from workflows._clock import add_working_days

TOLERANCE = timedelta(seconds=2)


async def deadline_events(case: Case) -> list[tuple[str, datetime]]:
    return [(e.command, e.at) for e in await case.audit_log() if e.command.startswith("deadline_")]


def expected(
    start: datetime, due_wd: int, reminder_wd: int, until: datetime
) -> list[tuple[str, datetime]]:
    """Reminders every ``reminder_wd`` working days, the escalation at ``due_wd``, then overdue
    reminders, as the policy describes them (computed independently of the workflow's clock)."""
    due = add_working_days(start, due_wd)
    events = []
    step = reminder_wd
    while (at := add_working_days(start, step)) < due:
        events.append(("deadline_remind", at))
        step += reminder_wd
    events.append(("deadline_escalate", due))
    step = due_wd + reminder_wd
    while (at := add_working_days(start, step)) <= until:
        events.append(("deadline_remind", at))
        step += reminder_wd
    return [e for e in events if e[1] <= until]


def assert_same_times(got: list[tuple[str, datetime]], want: list[tuple[str, datetime]]) -> None:
    assert [name for name, _ in got] == [name for name, _ in want]
    for (_, at), (_, should) in zip(got, want, strict=True):
        assert abs(at - should) <= TOLERANCE, (at, should)


async def test_triage_reminds_weekly_then_escalates_at_twenty_working_days(
    engine: Engine, unique: str
) -> None:
    case = await Case.start(engine, unique)
    started = (await case.audit_log())[0].at

    await engine.env.fast_forward(case.handle, timedelta(days=34, hours=12))

    now = started + timedelta(days=34, hours=12)
    assert_same_times(await deadline_events(case), expected(started, 20, 5, now))
    status = await case.status()
    assert status.state == "PROPOSED"
    assert status.deadline is not None
    assert status.deadline.escalated
    notes = await engine.outbox_once(case, lambda ns: any(n.kind == "escalation" for n in ns))
    escalations = [n for n in notes if n.kind == "escalation"]
    assert len(escalations) == 1
    assert escalations[0].to == ["P-001"]
    reminders = [n for n in notes if n.kind == "reminder"]
    assert reminders
    assert all(set(n.to) == {"P-001", "P-002"} for n in reminders)
    assert len({n.id for n in notes}) == len(notes)  # each recorded once, however often sent


async def test_nothing_fires_before_the_first_reminder(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    started = (await case.audit_log())[0].at
    first = add_working_days(started, 5)

    await engine.env.fast_forward(case.handle, first - started - timedelta(minutes=5))

    assert await deadline_events(case) == []


async def test_triage_clock_keeps_running_through_in_triage_and_stops_on_approval(
    engine: Engine, unique: str
) -> None:
    case = await Case.start(engine, unique)
    started = (await case.audit_log())[0].at
    await engine.env.fast_forward(case.handle, timedelta(days=8))
    await case.decide("triage_started", "P-002")

    status = await case.status()
    assert status.deadline is not None
    assert status.deadline.label == "Triage decision due"
    assert abs(status.deadline.due_at - add_working_days(started, 20)) <= TOLERANCE

    await case.decide("proposal_approved", "P-001")
    approved_at = (await case.audit_log())[-1].at
    status = await case.status()
    assert status.deadline is not None
    assert status.deadline.label == "Contract drafting due"
    assert abs(status.deadline.due_at - add_working_days(approved_at, 20)) <= TOLERANCE


async def test_drafting_escalates_to_the_executive_when_late(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.to_drafting()
    began = (await case.audit_log())[-1].at

    await engine.env.fast_forward(case.handle, timedelta(days=29, hours=12))

    want = expected(began, 20, 5, began + timedelta(days=29, hours=12))
    assert_same_times(await deadline_events(case), want)
    notes = await engine.outbox_once(case, lambda ns: any(n.kind == "escalation" for n in ns))
    escalation = [n for n in notes if n.kind == "escalation"]
    assert [n.to for n in escalation] == [["P-001"]]
    assert "Contract drafting due" in escalation[0].subject


async def test_the_policy_pinned_at_start_sets_the_deadlines(engine: Engine, unique: str) -> None:
    quick = Policy(
        name="quick",
        establishment=EstablishmentPolicy(triage=ClockPolicy(due_wd=3, reminder_wd=1)),
    )
    case = await Case.start(engine, unique, policy=quick)
    started = (await case.audit_log())[0].at

    await engine.env.fast_forward(case.handle, timedelta(days=6, hours=12))

    assert_same_times(
        await deadline_events(case),
        expected(started, 3, 1, started + timedelta(days=6, hours=12)),
    )
    pinned = await case.status()
    assert pinned.deadline is not None
    assert abs(pinned.deadline.due_at - add_working_days(started, 3)) <= TOLERANCE

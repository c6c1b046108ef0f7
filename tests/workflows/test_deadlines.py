"""Triage and drafting deadlines: reminders and escalation at the right simulated times."""

from __future__ import annotations

from datetime import timedelta

from tests.workflows.conftest import Engine
from tests.workflows.driver import Case
from workflows._clock import add_working_days


async def deadline_events(case: Case) -> list[tuple[str, object]]:
    log = await case.handle.query("audit_log")
    return [(e["command"], e["at"]) for e in log if e["command"].startswith("deadline_")]


async def test_triage_reminds_weekly_then_escalates_at_twenty_working_days(
    engine: Engine, unique: str
) -> None:
    case = await Case.start(engine, unique)
    start = engine.env
    began = await engine.env.get_current_time(case.handle)

    await engine.env.fast_forward(case.handle, timedelta(days=31))

    status = await case.status()
    assert status.state == "PROPOSED"
    assert status.deadline is not None
    assert status.deadline.escalated
    assert status.deadline.reminders_sent >= 3
    events = await deadline_events(case)
    assert [name for name, _ in events][:4] == [
        "deadline_remind",
        "deadline_remind",
        "deadline_remind",
        "deadline_escalate",
    ]
    del start, began

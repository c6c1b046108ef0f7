"""Deadlines in working days, computed from workflow time (pure: no clock reads here)."""

from __future__ import annotations

from datetime import datetime, timedelta

from models.case_state import ClockState
from models.policy import ClockPolicy


def add_working_days(start: datetime, days: int) -> datetime:
    """``days`` working days (Monday to Friday) after ``start``, at the same time of day.

    Public holidays are not known to the engine; an organisation that needs them sets its
    deadlines in the policy a little longer.
    """
    moment = start
    remaining = days
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment


def start_clock(name: str, label: str, now: datetime, policy: ClockPolicy) -> ClockState:
    return ClockState(
        name=name,
        label=label,
        started_at=now,
        due_at=add_working_days(now, policy.due_wd),
        next_reminder_at=add_working_days(now, policy.reminder_wd),
    )


def next_event(clock: ClockState) -> tuple[datetime, str]:
    """When the clock next needs attention, and what happens then ('remind' or 'escalate')."""
    if not clock.escalated and clock.due_at <= clock.next_reminder_at:
        return clock.due_at, "escalate"
    return clock.next_reminder_at, "remind"


def after_event(clock: ClockState, kind: str, policy: ClockPolicy, now: datetime) -> ClockState:
    """The clock once a reminder or the escalation has been sent at ``now``.

    Reminders missed while no worker ran are not sent in a burst: the next one is the first of
    the schedule still ahead of ``now``.
    """
    if kind == "escalate":
        # Overdue reminders follow the due date: every reminder_wd working days after it.
        following = add_working_days(clock.due_at, policy.reminder_wd)
        return clock.model_copy(update={"escalated": True, "next_reminder_at": following})
    following = add_working_days(clock.next_reminder_at, policy.reminder_wd)
    while following <= now:
        following = add_working_days(following, policy.reminder_wd)
    return clock.model_copy(
        update={"reminders_sent": clock.reminders_sent + 1, "next_reminder_at": following}
    )

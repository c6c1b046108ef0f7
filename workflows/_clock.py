"""Deadlines in working days, computed from workflow time (pure: no clock reads here)."""

from __future__ import annotations

from datetime import datetime

from models.calendar import add_months, add_working_days
from models.case_state import NO_REMINDER, ClockState

__all__ = ["add_months", "add_working_days", "after_event", "next_event", "start_clock"]

# A clock without reminders still needs a "next reminder" to order its events: one past its due
# (ClockState.reminder_due hides it from views).
_NEVER = NO_REMINDER


def start_clock(
    name: str,
    label: str,
    now: datetime,
    due_at: datetime,
    reminder_wd: int | None,
    epoch: str = "",
) -> ClockState:
    return ClockState(
        name=name,
        label=label,
        started_at=now,
        due_at=due_at,
        next_reminder_at=add_working_days(now, reminder_wd) if reminder_wd else due_at + _NEVER,
        epoch=epoch,
    )


def next_event(clock: ClockState) -> tuple[datetime, str]:
    """When the clock next needs attention, and what happens then ('remind' or 'escalate')."""
    if not clock.escalated and clock.due_at <= clock.next_reminder_at:
        return clock.due_at, "escalate"
    return clock.next_reminder_at, "remind"


def after_event(clock: ClockState, kind: str, reminder_wd: int | None, now: datetime) -> ClockState:
    """The clock once a reminder or the escalation has been sent at ``now``.

    Reminders missed while no worker ran are not sent in a burst: the next one is the first of
    the schedule still ahead of ``now``.
    """
    if kind == "escalate":
        # Overdue reminders follow the due date: every reminder_wd working days after it.
        following = (
            add_working_days(clock.due_at, reminder_wd) if reminder_wd else clock.due_at + _NEVER
        )
        return clock.model_copy(update={"escalated": True, "next_reminder_at": following})
    assert reminder_wd, "a clock without reminders only escalates"
    following = add_working_days(clock.next_reminder_at, reminder_wd)
    while following <= now:
        following = add_working_days(following, reminder_wd)
    return clock.model_copy(
        update={"reminders_sent": clock.reminders_sent + 1, "next_reminder_at": following}
    )

"""Date arithmetic for deadlines: working days and calendar months (pure functions)."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta


def add_working_days(start: datetime, days: int) -> datetime:
    """``days`` working days (Monday to Friday) after ``start`` (before it, if negative), at the
    same time of day.

    Public holidays are not known to the engine; an organisation that needs them sets its
    deadlines in the policy a little longer.
    """
    step = timedelta(days=1 if days >= 0 else -1)
    moment = start
    remaining = abs(days)
    while remaining > 0:
        moment += step
        if moment.weekday() < 5:
            remaining -= 1
    return moment


def add_months(start: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)

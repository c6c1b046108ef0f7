"""The CoE review session's rules (DOMAIN §9.4.3): what its rows need, check and record.

``workflows/coe_review/definition.py`` names these on its rows; each check is typed on the case
and the data model of the row it serves.
"""

from __future__ import annotations

from datetime import datetime

from models.calendar import add_working_days
from models.case_state import Context
from models.coe_review import (
    Agenda,
    ItemOutcome,
    Minutes,
    PinnedItem,
    ReviewSessionCase,
    SessionHeld,
)
from models.permits import COE_CHAIR
from workflows._definition import Guard, Requirement

Case = ReviewSessionCase


def _meeting_time_reached(case: Case, ctx: Context) -> list[str]:
    if ctx.now < case.meeting_at:
        return [f"the session is at {case.meeting_at:%Y-%m-%d %H:%M} UTC"]
    return []


def _every_item_once(case: Case, data: Minutes, ctx: Context) -> list[str]:
    """The minutes cover exactly the CoEs this session drew: one not drawn is not reviewed."""
    recorded = [i.coe_id for i in data.items]
    drawn = [i.coe_id for i in case.items]
    problems = [f"{c} was not drawn by this session" for c in recorded if c not in drawn]
    problems += [f"no minute for {c}, which is on the agenda" for c in drawn if c not in recorded]
    return problems


def _outputs_for_reviewed(case: Case, data: Minutes, ctx: Context) -> list[str]:
    return [
        f"{i.coe_id}: record the review's outputs (kind 'none' if there were none)"
        for i in data.items
        if i.outcome == ItemOutcome.REVIEWED and not i.outputs
    ]


def _room_on_agenda(case: Case, data: PinnedItem, ctx: Context) -> list[str]:
    problems = []
    if case.drawn(data.coe_id):
        problems.append(f"{data.coe_id} is on the agenda already")
    if len(case.items) >= case.policy.coe_review.items_max:
        problems.append(f"the agenda is full ({case.policy.coe_review.items_max} CoEs)")
    return problems


MEETING_TIME = Requirement[Case](
    "meeting_time", "the session's time", _meeting_time_reached, "", condition=True
)
EVERY_ITEM_ONCE = Guard("every_item_once", "a minute per drawn CoE", _every_item_once)
OUTPUTS_FOR_REVIEWED = Guard("outputs", "outputs of each review", _outputs_for_reviewed)
ROOM_ON_AGENDA = Guard("room_on_agenda", "a free place on the agenda", _room_on_agenda)


def record_agenda(case: Case, data: Agenda, ctx: Context) -> None:
    case.items = list(data.items)


def record_held(case: Case, data: SessionHeld, ctx: Context) -> None:
    case.attendees = list(data.attendees)


def minutes_due(case: Case, now: datetime) -> datetime:
    return add_working_days(case.meeting_at, case.policy.coe_review.minutes.due_wd)


def chairs(case: Case) -> list[str]:
    """The Executive and every ETM who may chair a CoE review."""
    return [case.directory.executive.id, *case.directory.holders(COE_CHAIR)]

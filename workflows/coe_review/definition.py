"""The regular CoE review session (DOMAIN §9.4.3, PDO variant) as data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from models.calendar import add_working_days
from models.coe_review import (
    DrawnItem,
    ItemOutcome,
    Minutes,
    ReviewSessionCase,
    SessionHeld,
)
from workflows._definition import (
    ClockSpec,
    Effect,
    Guard,
    ProcessDefinition,
    Requirement,
    StateSpec,
    TransitionSpec,
)

# The people who run the review are those who review each CoE.
from workflows.correction_of_errors.definition import CHAIR, EXEC, REVIEWERS

Case = ReviewSessionCase


class Agenda(BaseModel):
    """The CoEs the draw put on the agenda (each accepted by its own case)."""

    items: list[DrawnItem]


class PinnedItem(BaseModel):
    """C5 by the Executive: a CoE added to the agenda by hand (say, a high-severity one)."""

    coe_id: str = Field(pattern=r"^COE-[A-Z0-9][A-Z0-9-]{0,40}$")


def _meeting_time_reached(case: Case) -> list[str]:
    if case.now() < case.meeting_at:
        return [f"the session is at {case.meeting_at:%Y-%m-%d %H:%M} UTC"]
    return []


def _every_item_once(case: Case, data: Any) -> list[str]:
    """The minutes cover exactly the CoEs this session drew: one not drawn is not reviewed."""
    assert isinstance(data, Minutes)
    recorded = [i.coe_id for i in data.items]
    drawn = [i.coe_id for i in case.items]
    problems = [f"{c} was not drawn by this session" for c in recorded if c not in drawn]
    problems += [f"no minute for {c}, which is on the agenda" for c in drawn if c not in recorded]
    return problems


def _outputs_for_reviewed(case: Case, data: Any) -> list[str]:
    assert isinstance(data, Minutes)
    return [
        f"{i.coe_id}: record the review's outputs (kind 'none' if there were none)"
        for i in data.items
        if i.outcome == ItemOutcome.REVIEWED and not i.outputs
    ]


def _room_on_agenda(case: Case, data: Any) -> list[str]:
    assert isinstance(data, PinnedItem)
    problems = []
    if case.drawn(data.coe_id):
        problems.append(f"{data.coe_id} is on the agenda already")
    if len(case.items) >= case.policy.coe_review.items_max:
        problems.append(f"the agenda is full ({case.policy.coe_review.items_max} CoEs)")
    return problems


MEETING_TIME = Requirement[Case](
    "meeting_time", "the session's time", _meeting_time_reached, "", condition=True
)
EVERY_ITEM_ONCE = Guard[Case]("every_item_once", "a minute per drawn CoE", _every_item_once)
OUTPUTS_FOR_REVIEWED = Guard[Case]("outputs", "outputs of each review", _outputs_for_reviewed)
ROOM_ON_AGENDA = Guard[Case]("room_on_agenda", "a free place on the agenda", _room_on_agenda)


def _record_agenda(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, Agenda)
    case.items = list(data.items)


def _record_held(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, SessionHeld)
    case.attendees = list(data.attendees)


def _minutes_due(case: Case, now: datetime) -> datetime:
    return add_working_days(case.meeting_at, case.policy.coe_review.minutes.due_wd)


def _chairs(case: Case) -> list[str]:
    return [case.directory.executive.id, *case.directory.holders(CHAIR)]


COE_REVIEW = ProcessDefinition[Case](
    name="coe_review",
    title="CoE review session",
    version=1,
    initial="PLANNED",
    start=("R1", "session_created"),
    states=(
        StateSpec("PLANNED", "Created by the schedule; drawing CoEs from the pool"),
        StateSpec(
            "AGENDA_SET",
            "CoEs drawn; their Service Managers prepare to present",
            clocks=("minutes",),
        ),
        StateSpec("HELD", "Held; the chair records the minutes", clocks=("minutes",)),
        StateSpec("MINUTED", "Minutes recorded and sent to each CoE", terminal=True),
        StateSpec("CANCELLED", "Cancelled (nothing to review, or by the Executive)", terminal=True),
    ),
    clocks=(
        ClockSpec[Case](
            "minutes",
            "Minutes of the review due",
            remind=REVIEWERS,
            escalate_to=(EXEC,),
            due=_minutes_due,
        ),
    ),
    effects={
        "notify_chairs": Effect[Case]("tell the Executive and the review chairs", _chairs),
        "draw_pinned": Effect[Case]("draw the pinned CoE (C5 in its own case)"),
        "store_minutes": Effect[Case]("store the minutes as recorded"),
        "apply_minutes": Effect[Case](
            "move each CoE as minuted (C6, C7 or C8 in its case), store what each answered",
            after_move=True,
        ),
        "return_items": Effect[Case]("put the drawn CoEs back in the pool (C6 in each case)"),
    },
    transitions=(
        TransitionSpec[Case](
            "R2",
            "items_drawn",
            ("PLANNED",),
            "AGENDA_SET",
            (),
            # How many: the pinned policy's items_min to items_max (the session's "Draw" fact).
            "Published CoEs drawn at random for the agenda",
            data=Agenda,
            record=_record_agenda,
            effects=("notify_chairs",),
            automatic=True,
        ),
        TransitionSpec[Case](
            "R2a",
            "pool_empty",
            ("PLANNED",),
            "CANCELLED",
            (),
            "No published CoE waits for review: the session is cancelled",
            automatic=True,
        ),
        TransitionSpec[Case](
            "R2b",
            "item_pinned",
            ("AGENDA_SET",),
            None,
            REVIEWERS,
            "Add a published CoE to the agenda by hand",
            guards=(ROOM_ON_AGENDA,),
            data=PinnedItem,
            effects=("draw_pinned",),
            progress=False,
        ),
        TransitionSpec[Case](
            "R3",
            "session_held",
            ("AGENDA_SET",),
            "HELD",
            REVIEWERS,
            "The session took place (the Executive and Service Managers invited)",
            requires=(MEETING_TIME,),
            data=SessionHeld,
            record=_record_held,
        ),
        TransitionSpec[Case](
            "R4",
            "minutes_recorded",
            ("HELD",),
            "MINUTED",
            REVIEWERS,
            "Per CoE: reviewed (with outputs), deferred, or further discussion",
            guards=(EVERY_ITEM_ONCE, OUTPUTS_FOR_REVIEWED),
            data=Minutes,
            effects=("store_minutes", "apply_minutes", "notify_chairs"),
        ),
        TransitionSpec[Case](
            "R5",
            "session_cancelled",
            ("PLANNED", "AGENDA_SET"),
            "CANCELLED",
            REVIEWERS,
            "Cancel the session; drawn CoEs go back to the pool",
            reason_required=True,
            effects=("return_items", "notify_chairs"),
            progress=False,
        ),
    ),
)

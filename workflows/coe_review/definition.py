"""The regular CoE review session (DOMAIN §9.4.3, PDO variant) as data.

The rules the rows name (guards, what each accepted command records, the minutes' due date)
are in ``workflows/coe_review/rules.py``.
"""

from __future__ import annotations

from models.coe_review import Agenda, Minutes, PinnedItem, ReviewSessionCase, SessionHeld
from models.permits import COE_REVIEWERS, EXECUTIVE_ONLY
from workflows._definition import ClockSpec, Effect, ProcessDefinition, StateSpec, transition
from workflows.coe_review.rules import (
    EVERY_ITEM_ONCE,
    MEETING_TIME,
    OUTPUTS_FOR_REVIEWED,
    ROOM_ON_AGENDA,
    chairs,
    minutes_due,
    record_agenda,
    record_held,
)

Case = ReviewSessionCase


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
            remind=COE_REVIEWERS,
            escalate_to=EXECUTIVE_ONLY,
            due=minutes_due,
            policy=lambda p: p.coe_review.minutes,
        ),
    ),
    effects={
        "notify_chairs": Effect[Case]("tell the Executive and the review chairs", chairs),
        "draw_pinned": Effect[Case]("draw the pinned CoE (C5 in its own case)"),
        "store_minutes": Effect[Case]("store the minutes as recorded"),
        "apply_minutes": Effect[Case](
            "move each CoE as minuted (C6, C7 or C8 in its case), store what each answered",
            after_move=True,
        ),
        "return_items": Effect[Case]("put the drawn CoEs back in the pool (C6 in each case)"),
    },
    transitions=(
        transition(
            id="R2",
            trigger="items_drawn",
            source="PLANNED",
            dest="AGENDA_SET",
            who=(),
            # How many: the pinned policy's items_min to items_max (the session's "Draw" fact).
            description="Published CoEs drawn at random for the agenda",
            data=Agenda,
            record=record_agenda,
            effects=("notify_chairs",),
            automatic=True,
        ),
        transition(
            id="R2a",
            trigger="pool_empty",
            source="PLANNED",
            dest="CANCELLED",
            who=(),
            description="No published CoE waits for review: the session is cancelled",
            automatic=True,
        ),
        transition(
            id="R2b",
            trigger="item_pinned",
            source="AGENDA_SET",
            dest=None,
            who=COE_REVIEWERS,
            description="Add a published CoE to the agenda by hand",
            guards=(ROOM_ON_AGENDA,),
            data=PinnedItem,
            effects=("draw_pinned",),
            progress=False,
        ),
        transition(
            id="R3",
            trigger="session_held",
            source="AGENDA_SET",
            dest="HELD",
            who=COE_REVIEWERS,
            description="The session took place (the Executive and Service Managers invited)",
            needs=(MEETING_TIME,),
            data=SessionHeld,
            record=record_held,
        ),
        transition(
            id="R4",
            trigger="minutes_recorded",
            source="HELD",
            dest="MINUTED",
            who=COE_REVIEWERS,
            description="Per CoE: reviewed (with outputs), deferred, or further discussion",
            guards=(EVERY_ITEM_ONCE, OUTPUTS_FOR_REVIEWED),
            data=Minutes,
            effects=("store_minutes", "apply_minutes", "notify_chairs"),
        ),
        transition(
            id="R5",
            trigger="session_cancelled",
            source=("PLANNED", "AGENDA_SET"),
            dest="CANCELLED",
            who=COE_REVIEWERS,
            description="Cancel the session; drawn CoEs go back to the pool",
            reason_required=True,
            effects=("return_items", "notify_chairs"),
            progress=False,
        ),
    ),
)

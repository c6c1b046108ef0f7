"""The regular review of published CoEs (DOMAIN §5.3 step 6, §9.4.3): a session, its draw from
the pool, and its minutes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from models.base import Strict
from models.case_state import CaseState
from models.coe import CoeId, ReviewOutput
from models.commands import ArtefactRef
from models.people import Directory, ServiceId
from models.policy import Policy


class ReviewSessionInput(Strict):
    """What the schedule (or a person) starts a session with. ``services`` limits the pool to
    some services (a portfolio's own review); empty means the whole network."""

    services: tuple[ServiceId, ...] = ()
    started_by: str = Field(default="SYSTEM", description="SYSTEM for the schedule")
    policy: Policy | None = None
    directory: Directory | None = None


class PoolQuery(BaseModel):
    services: tuple[str, ...] = ()


class PoolEntry(BaseModel):
    """A published, unreviewed CoE as visibility lists it."""

    coe_id: str
    workflow_id: str
    service_id: str


class CaseMessage(BaseModel):
    """An update one workflow sends another through an activity, to get a definite answer."""

    workflow_id: str
    update: str
    payload: dict[str, Any]


class MessageAnswer(BaseModel):
    accepted: bool
    message: str
    error_type: str | None = None


class DrawnItem(BaseModel):
    coe_id: str
    workflow_id: str
    service_id: str


class ItemOutcome(StrEnum):
    REVIEWED = "reviewed"
    DEFERRED = "deferred"
    FURTHER_DISCUSSION = "further_discussion"


# How the session's minutes move each CoE (C7, C6, C8).
TRIGGER_FOR_OUTCOME = {
    ItemOutcome.REVIEWED: "presented_and_discussed",
    ItemOutcome.DEFERRED: "review_deferred",
    ItemOutcome.FURTHER_DISCUSSION: "further_discussion_required",
}


class ItemMinute(Strict):
    coe_id: CoeId
    outcome: ItemOutcome
    outputs: list[ReviewOutput] = Field(default_factory=list, max_length=20)
    notes: Annotated[str, Field(max_length=10_000)] | None = None


class SessionHeld(Strict):
    """The session took place; who attended (the Executive and Service Managers are invited)."""

    attendees: list[str] = Field(default_factory=list, max_length=200)


class Minutes(Strict):
    """One entry per drawn CoE: reviewed (with its outputs), deferred, or further discussion."""

    items: list[ItemMinute] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _once_each(self) -> Minutes:
        ids = [i.coe_id for i in self.items]
        if len(ids) != len(set(ids)):
            raise ValueError("each CoE appears once in the minutes")
        return self


class ItemRecord(BaseModel):
    coe_id: str
    outcome: str
    outputs: list[ReviewOutput]
    notes: str | None
    applied: bool
    message: str
    error_type: str | None = None  # the CoE's refusal, when it refused the move

    def answer(self) -> str:
        """What became of the minute in its CoE, as the chair and the case page are told."""
        if self.applied:
            return f"applied ({self.outcome})"
        if self.error_type:
            return f"refused — {self.error_type}: {self.message}"
        return f"not applied — {self.message}"


class MinutesRecord(BaseModel):
    """The minutes as stored: readable by every Service Manager."""

    session_id: str
    meeting_at: datetime
    chair: str
    attendees: list[str]
    items: list[ItemRecord]
    recorded_at: datetime

    def answers(self) -> list[str]:
        """One line per CoE: ``COE-2026-001: applied (reviewed)``, or refused and why."""
        return [f"{item.coe_id}: {item.answer()}" for item in self.items]


class ReviewSessionCase(CaseState):
    session_id: str
    state: str = "PLANNED"
    services: tuple[str, ...] = ()
    meeting_at: datetime
    items: list[DrawnItem] = Field(default_factory=list)
    # Draws that got no answer (the CoE may have taken them): put back in the pool at the end.
    unconfirmed: list[DrawnItem] = Field(default_factory=list)
    attendees: list[str] = Field(default_factory=list)
    minutes: MinutesRecord | None = None
    minutes_ref: ArtefactRef | None = None

    @property
    def case_id(self) -> str:
        return self.session_id

    @property
    def title(self) -> str:
        return f"CoE review {self.meeting_at:%Y-%m-%d %H:%M} UTC"

    def facts(self) -> dict[str, str]:
        minutes = self.policy.coe_review.duration_minutes
        facts = {"Meeting": f"{self.meeting_at:%Y-%m-%d %H:%M} UTC ({minutes} minutes)"}
        # From the pinned policy: what this session draws, not what the defaults would.
        facts["Draw"] = f"{self.policy.coe_review.draw_summary()} at random from the pool"
        if self.services:
            facts["Pool"] = "CoEs of " + ", ".join(self.services)
        if self.items:
            facts["Agenda"] = ", ".join(f"{i.coe_id} ({i.service_id})" for i in self.items)
        if self.minutes:
            facts |= {f"Minutes for {i.coe_id}": i.answer() for i in self.minutes.items}
        return facts

    def drawn(self, coe_id: str) -> DrawnItem | None:
        return next((i for i in self.items if i.coe_id == coe_id), None)


class Agenda(BaseModel):
    """The CoEs the draw put on the agenda (each accepted by its own case)."""

    items: list[DrawnItem]


class PinnedItem(BaseModel):
    """C5 by the Executive: a CoE added to the agenda by hand (say, a high-severity one)."""

    coe_id: str = Field(pattern=r"^COE-[A-Z0-9][A-Z0-9-]{0,40}$")

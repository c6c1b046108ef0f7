"""A Correction of Error's corrective actions (DOMAIN §9.4.2): each one as it is tracked, what
people send about one, and the register a service's lifecycle reads them from."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from models.base import Strict
from models.calendar import add_working_days
from models.coe_document import ActionId, ActionPlan, Line
from models.commands import ArtefactRef


class ActionStatus(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


OPEN_STATUSES = frozenset({ActionStatus.OPEN, ActionStatus.IN_PROGRESS})


class DueDateChange(BaseModel):
    before: date
    after: date
    reason: str
    by: str
    at: datetime


class CorrectiveAction(ActionPlan):
    """A tracked action item (DOMAIN §9.4.2) with its status and what its timers have done."""

    model_config = ConfigDict(extra="forbid")

    status: ActionStatus = ActionStatus.OPEN
    created_at: datetime
    from_review: bool = False
    started_at: datetime | None = None
    completed_at: datetime | None = None
    evidence: str | None = None
    cancel_rationale: str | None = None
    due_changes: list[DueDateChange] = Field(default_factory=list)
    reminded: bool = False
    overdue: bool = False
    escalated: bool = False

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def due_end(self) -> datetime:
        """The moment the action is overdue: the end of its due date (UTC)."""
        return datetime.combine(self.due + timedelta(days=1), time(), tzinfo=UTC)

    @property
    def _due_start(self) -> datetime:
        return datetime.combine(self.due, time(), tzinfo=UTC)

    def reminder_at(self, before_wd: int) -> datetime:
        return add_working_days(self._due_start, -before_wd)

    def escalation_at(self, after_wd: int) -> datetime:
        """When ``after_wd`` whole working days have passed since the due date."""
        return add_working_days(self._due_start, after_wd + 1)

    def label(self) -> str:
        return f"{self.id} '{self.description}' (owner {self.owner}, due {self.due})"


class ActionRef(Strict):
    action_id: ActionId


class ActionCompletion(ActionRef):
    evidence: Line = Field(description="a link to, or a note on, what shows it is done")


class ActionCancellation(ActionRef):
    rationale: Line


class DueDateChangeRequest(ActionRef):
    """A new due date and why (changes are counted)."""

    due: date
    reason: Line


class ActionsRegister(BaseModel):
    """Every corrective action of one CoE, stored on each change: what the service's lifecycle
    reads (and trusts, from the store) for its gates, and a readable list for people."""

    coe_id: str
    service_id: str
    coe_state: str
    version: int
    at: datetime
    actions: list[CorrectiveAction]
    counts: bool = Field(description="whether its open actions hold the service (not voided)")
    ended: bool = Field(description="whether the CoE's case has ended (takes no messages)")

    def open_actions(self) -> list[CorrectiveAction]:
        """What holds the service's gates: the open actions, unless the CoE does not count."""
        return [a for a in self.actions if a.is_open] if self.counts else []


class CoeSeen(BaseModel):
    """What a service's lifecycle keeps of one of its CoEs, from its newest stored register."""

    register_version: int
    ended: bool = False
    open_actions: list[CorrectiveAction] = Field(default_factory=list)


class CoeActionsNotice(BaseModel):
    """From a CoE to its service's lifecycle: where its newest actions register is stored."""

    coe_id: str
    actions: ArtefactRef


def long_overdue(
    actions: list[CorrectiveAction], now: datetime, after_wd: int
) -> list[CorrectiveAction]:
    """Open actions overdue for more than ``after_wd`` working days at ``now``."""
    return [a for a in actions if a.is_open and now >= a.escalation_at(after_wd)]

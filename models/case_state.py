"""What every case holds, whatever its process: the base of each process's durable state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from models.audit import AuditEntry
from models.commands import ArtefactRef, CommandResult
from models.people import Directory, Relations
from models.policy import Policy

# Who a move is made by when no person makes it (a timer, a message from another case).
SYSTEM = "SYSTEM"


@dataclass(frozen=True)
class Context:
    """The moment a command is checked or applied at, and who sends it as what: what rules
    about dates and about the sender read. The engine hands one to every check and record; the
    case never holds it. A view of the case (no sender) is made by SYSTEM."""

    now: datetime
    actor: str = SYSTEM
    role: str = SYSTEM


# A clock without reminders still needs a "next reminder" to order its events: one this far past
# its due date, which no view shows.
NO_REMINDER = timedelta(days=365 * 100)


class ClockState(BaseModel):
    """A running deadline: when it is due, the next reminder, whether it was escalated."""

    name: str
    label: str
    started_at: datetime
    due_at: datetime
    next_reminder_at: datetime
    reminders_sent: int = 0
    escalated: bool = False
    epoch: str = ""

    @property
    def reminder_due(self) -> datetime | None:
        """The next reminder people will get; None when the clock sends none."""
        return None if self.next_reminder_at >= self.due_at + NO_REMINDER else self.next_reminder_at


class PendingMove(BaseModel):
    """A decision accepted but held until the case allows it (a progress decision waiting for
    the next phase's budget): the engine applies it as soon as nothing holds it any more."""

    trigger: str
    decision_id: str
    actor: str
    role: str
    data: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None
    accepted_at: datetime
    waiting_for: str


class CaseState(BaseModel):
    """The one copy of a case's truth: the workflow's state, its query result, and (for long
    cases) what continues as new. Each process adds its own artefacts and relations."""

    state: str
    directory: Directory
    policy: Policy
    artefacts: dict[str, ArtefactRef] = Field(default_factory=dict)
    audit: list[AuditEntry] = Field(default_factory=list)
    # Entries before ``audit`` (a long-lived case archived them) and entries in the record:
    # ``audit[i]`` is entry number ``audit_offset + i`` of the case's chain.
    audit_offset: int = 0
    audit_recorded: int = 0
    applied: dict[str, CommandResult] = Field(default_factory=dict)
    fingerprints: dict[str, str] = Field(default_factory=dict, description="by decision id")
    clocks: dict[str, ClockState] = Field(default_factory=dict)
    pending: PendingMove | None = None
    refused_signals: int = 0

    def artefact_versions(self) -> dict[str, int]:
        return {kind: ref.version for kind, ref in self.artefacts.items()}

    # -- what each process says about itself ---------------------------------------------------

    @property
    def case_id(self) -> str:
        """The business key people use (PRO-004, SVC-007, COE-2026-001)."""
        raise NotImplementedError

    @property
    def title(self) -> str:
        raise NotImplementedError

    @property
    def service_id(self) -> str | None:
        return None

    def relations(self) -> Relations:
        """Who holds this case's own roles (the proposer, the appointed SM ...)."""
        return {}

    def facts(self) -> dict[str, str]:
        """Process-specific facts for the case page (phase round, budgets, next assessment)."""
        return {}

    @property
    def next_assessment_due(self) -> datetime | None:
        return None

    @property
    def depends_on(self) -> list[str]:
        return []

    def personal_items(self) -> dict[str, list[str]]:
        """What single people must do in this case apart from its moves (say, the owner of a
        corrective action that is due soon or overdue), by person."""
        return {}

    @property
    def open_action_count(self) -> int | None:
        """Corrective actions still open, for processes that track them."""
        return None

    @property
    def overdue_action_count(self) -> int | None:
        """Open corrective actions past their due date, for processes that track them."""
        return None

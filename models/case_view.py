"""What a case shows to people and tools: its status, blockers and outcome (query results)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, computed_field

from models.audit import AuditEntry
from models.commands import ArtefactRef


class BlockerView(BaseModel):
    id: str
    trigger: str
    description: str
    who: list[str]
    missing: list[str]
    people: list[str] = Field(default_factory=list, description="directory ids who can act")


class DeadlineView(BaseModel):
    label: str
    due_at: datetime
    next_reminder_at: datetime | None = Field(description="None: the clock sends no reminders")
    reminders_sent: int
    escalated: bool


class CaseStatus(BaseModel):
    workflow_id: str
    process: str
    case_id: str
    title: str
    service_id: str | None
    state: str
    state_description: str
    terminal: bool
    awaiting: list[str]
    blockers: list[BlockerView]
    legal_triggers: list[str]
    artefacts: dict[str, ArtefactRef]
    recent: list[AuditEntry]
    deadlines: list[DeadlineView] = Field(default_factory=list, description="soonest first")
    pending: str | None = None
    facts: dict[str, str] = {}
    next_assessment_due: datetime | None = None
    depends_on: list[str] = []
    open_actions: int | None = Field(
        default=None, description="open corrective actions (a CoE's own, or a service's)"
    )
    overdue_actions: int | None = Field(
        default=None, description="open corrective actions past their due date (CoEs only)"
    )
    personal: dict[str, list[str]] = Field(
        default_factory=dict,
        description="what single people must do here apart from its moves (their actions due)",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def deadline(self) -> DeadlineView | None:
        """The soonest deadline (the one the search attribute OsomNextDeadline shows)."""
        return self.deadlines[0] if self.deadlines else None


class EstablishmentOutcome(BaseModel):
    state: str
    service_id: str | None
    contract: ArtefactRef | None

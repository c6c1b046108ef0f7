"""A Correction of Error (DOMAIN §5, §9.4.1): how one is opened, what people send it (C2-C12),
and its durable state. Its document is in models/coe_document.py, its corrective actions in
models/coe_actions.py."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from models.base import Strict
from models.case_state import CaseState
from models.coe_actions import CorrectiveAction
from models.coe_document import CoeContent, CoeDocument, Line, Severity, Text
from models.people import CaseRole, Directory, PersonId, Relations, ServiceId
from models.policy import Policy

CoeId = Annotated[str, Field(pattern=r"^COE-[A-Z0-9][A-Z0-9-]{0,40}$", examples=["COE-2026-001"])]


class CoeReport(Strict):
    """A problem in a service as any system reports it (C1): the service, the problem, when it
    was detected and mitigated. User impact is not required: near misses count. Without a
    ``coe_id`` the next free COE-<year>-<nnn> is taken."""

    coe_id: CoeId | None = None
    service_id: ServiceId
    problem: Annotated[str, Field(min_length=1, max_length=2_000)]
    detected_at: AwareDatetime
    mitigated_at: AwareDatetime
    users_impacted: int | None = Field(default=None, ge=0)
    severity: Severity | None = None
    linked_services: tuple[ServiceId, ...] = ()
    related_items: tuple[Line, ...] = ()

    @model_validator(mode="after")
    def _mitigated_after_detected(self) -> CoeReport:
        if self.mitigated_at < self.detected_at:
            raise ValueError("mitigated_at is before detected_at")
        return self


class CoeInput(CoeReport):
    """What opens a CoE's workflow: the report with its id, and ``opened_by``, the person it
    acts for (the service's Service Manager or a team member on their behalf). Any system that
    can start a Temporal workflow (an incident tool, the CLI) sends this."""

    coe_id: CoeId
    opened_by: PersonId
    # Pinned for a case started without the worker's files (tests, replays).
    policy: Policy | None = None
    directory: Directory | None = None


# -- C2-C12 data ----------------------------------------------------------------------------


class CoePublication(Strict):
    """C2. The blameless check warns when the analysis names people; the Service Manager may
    publish anyway, saying why the names are needed."""

    names_acknowledged: Line | None = None


class CoeRevision(Strict):
    """C3: a new version of a published CoE, with what changed."""

    document: CoeDocument
    change_note: Line
    names_acknowledged: Line | None = None


class ExecConsideration(Strict):
    """C4: the Executive has read the CoE and considered its guidance implications."""

    guidance_candidate: Line | None = None
    note: Line | None = None


class ReviewOutputKind(StrEnum):
    GUIDANCE_CANDIDATE = "guidance_candidate"
    MANDATE = "mandate"
    NETWORK_CHANGE = "network_change"
    NONE = "none"


class ReviewOutput(Strict):
    kind: ReviewOutputKind
    note: Line | None = None


class ReviewDraw(Strict):
    """C5: a review session drew this CoE; its owning Service Manager presents it."""

    session_id: Annotated[str, Field(min_length=1, max_length=255)]
    session_workflow_id: Annotated[str, Field(min_length=1, max_length=255)]
    meeting_at: AwareDatetime


class ReviewOutcome(Strict):
    """C6, C7, C8: what the session that drew the CoE made of it."""

    session_id: Annotated[str, Field(min_length=1, max_length=255)]
    outputs: list[ReviewOutput] = Field(default_factory=list, max_length=20)
    notes: Text | None = None


class FollowUp(Strict):
    """C9: the extra discussion was held; what came out of it."""

    outputs: list[ReviewOutput] = Field(min_length=1, max_length=20)
    notes: Text | None = None


class Voiding(Strict):
    """C12: a CoE opened by mistake, or a duplicate of another."""

    duplicate_of: CoeId | None = None


# -- the stored document and the case ------------------------------------------------------


class CoeRecord(CoeContent):
    """One stored version: the document, who owns it, where it stands, and its actions as they
    are at that version (readable in the artefact store)."""

    model_config = ConfigDict(extra="forbid")

    coe_id: str
    service_id: str
    owner_sm: str
    author: str
    version: int
    status: str
    detected_at: datetime
    mitigated_at: datetime
    published_at: datetime | None = None
    published_by: str | None = None
    version_by: str = Field(description="who made this version (published, revised, closed)")
    change_note: str | None = None
    names_acknowledged: str | None = None
    considered_by_exec: bool = False
    review_outputs: list[ReviewOutput] = Field(default_factory=list)
    corrective_actions: list[CorrectiveAction] = Field(default_factory=list)


class ServiceProfile(BaseModel):
    """What a CoE needs to know about its service: its name and who manages it."""

    service_id: str
    name: str
    service_manager: str
    stage: str
    team: tuple[str, ...] = ()
    in_engine: bool = Field(description="whether a lifecycle workflow runs for it")


class ServiceLookup(BaseModel):
    """A lookup's answer: the profile, or None when no lifecycle runs for the service."""

    profile: ServiceProfile | None = None


class CoeCase(CaseState):
    request: CoeInput
    service: ServiceProfile
    state: str = "DRAFT"
    document: CoeDocument | None = None
    actions: dict[str, CorrectiveAction] = Field(default_factory=dict)
    published_at: datetime | None = None
    published_by: str | None = None
    names_acknowledged: str | None = None
    considered_by_exec: bool = False
    review_outputs: list[ReviewOutput] = Field(default_factory=list)
    times_drawn: int = 0
    drawn_by: ReviewDraw | None = None
    reviewed: bool = False
    closure_requested_by: str | None = None
    closed_at: datetime | None = None
    registers_stored: int = 0
    # The newest contract version of the service taken in (a new SM takes over from it).
    contract_version: int = 0

    @property
    def case_id(self) -> str:
        return self.request.coe_id

    @property
    def title(self) -> str:
        summary = (self.document.title if self.document else None) or self.request.problem
        short = summary if len(summary) <= 80 else summary[:77] + "..."
        return f"{self.request.coe_id} ({self.service.service_id}): {short}"

    @property
    def service_id(self) -> str | None:
        return self.request.service_id

    @property
    def service_manager(self) -> str:
        return self.service.service_manager

    def relations(self) -> Relations:
        owners = tuple(sorted({a.owner for a in self.actions.values()}))
        return {
            CaseRole.SERVICE_MANAGER: self.service_manager,
            CaseRole.TEAM: self.service.team,
            CaseRole.ACTION_OWNER: owners,
        }

    def open_actions(self) -> list[CorrectiveAction]:
        return [a for a in self.actions.values() if a.is_open]

    def overdue_actions(self) -> list[CorrectiveAction]:
        return [a for a in self.open_actions() if a.overdue]

    @property
    def open_action_count(self) -> int | None:
        return len(self.open_actions())

    @property
    def overdue_action_count(self) -> int | None:
        return len(self.overdue_actions())

    def personal_items(self) -> dict[str, list[str]]:
        """Owners of open actions that are due soon (reminded) or overdue."""
        items: dict[str, list[str]] = {}
        for action in self.open_actions():
            if action.reminded or action.overdue:
                when = "OVERDUE, was due" if action.overdue else "due"
                text = f"corrective action {action.id} '{action.description}' {when} {action.due}"
                items.setdefault(action.owner, []).append(text)
        return items

    def facts(self) -> dict[str, str]:
        facts = {
            "Affected service": f"{self.service.service_id} {self.service.name}",
            "Service Manager": self.service_manager,
            "Detected / mitigated": f"{self.request.detected_at:%Y-%m-%d %H:%M} / "
            f"{self.request.mitigated_at:%Y-%m-%d %H:%M} UTC",
        }
        if self.request.users_impacted is not None:
            facts["Users impacted"] = str(self.request.users_impacted)
        if self.request.severity:
            facts["Severity"] = self.request.severity
        if self.actions:
            facts["Corrective actions"] = "; ".join(
                f"{a.id} {a.status}{' OVERDUE' if a.is_open and a.overdue else ''} "
                f"(owner {a.owner}, due {a.due})"
                for a in self.actions.values()
            )
        if self.drawn_by is not None and self.state == "SELECTED_FOR_REVIEW":
            facts["Review"] = (
                f"drawn by {self.drawn_by.session_id} for {self.drawn_by.meeting_at:%Y-%m-%d %H:%M}"
            )
        facts["Considered by the Executive"] = "yes" if self.considered_by_exec else "no"
        if self.closure_requested_by:
            facts["Closure requested by"] = self.closure_requested_by
        return facts

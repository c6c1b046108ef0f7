"""A Correction of Error (DOMAIN §5, §7.4, §9.4.1-2): how one is opened, the document its
Service Manager writes, its corrective actions, and its durable state."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from models.calendar import add_working_days
from models.case_state import CaseState
from models.commands import ArtefactRef
from models.people import CaseRole, Directory, PersonId, Relations, ServiceId
from models.policy import Policy

CoeId = Annotated[str, Field(pattern=r"^COE-[A-Z0-9][A-Z0-9-]{0,40}$", examples=["COE-2026-001"])]
ActionId = Annotated[str, Field(pattern=r"^A-[0-9]{1,3}$", examples=["A-1"])]
Text = Annotated[str, Field(max_length=10_000)]
Line = Annotated[str, Field(min_length=1, max_length=2_000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Severity(StrEnum):
    """Optional; only orders the review (DOMAIN §5.2)."""

    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"


class CoeReport(_Strict):
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


# -- the document -------------------------------------------------------------------------------


class DoctrineEffect(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


class DoctrineElement(_Strict):
    """A guide to better decisions that helped or hurt (DOMAIN §8.6)."""

    pattern: Annotated[str, Field(min_length=1, max_length=200)]
    effect: DoctrineEffect
    note: Line | None = None


class TimelineEntry(_Strict):
    at: Annotated[str, Field(min_length=1, max_length=40, examples=["07:04", "2026-03-11T07:04Z"])]
    event: Line
    actor_role: Annotated[str, Field(max_length=100)] | None = None


class ActionType(StrEnum):
    FIX = "fix"
    PREVENT = "prevent"
    DETECT = "detect"
    PROCESS = "process"


class ActionPlan(_Strict):
    """A corrective action as written in the document: exactly one owner and a due date."""

    id: ActionId
    description: Line
    type: ActionType = ActionType.FIX
    owner: PersonId
    due: date


class _CoeContent(_Strict):
    """The fields of DOMAIN §7.4 apart from the corrective actions. Drafts may leave the OSOM
    fields empty; publication needs every one of them."""

    title: Annotated[str, Field(max_length=200)] | None = None
    problem: Text = ""
    impact: Text = ""
    root_cause: Text = ""
    supporting_data: list[Line] = Field(default_factory=list, max_length=100)
    tradeoffs_that_led_to_problem: Text = ""
    tradeoffs_to_avoid: Text = ""
    lessons_learned: list[Line] = Field(default_factory=list, max_length=100)
    doctrine_elements: list[DoctrineElement] = Field(default_factory=list, max_length=40)
    users_impacted: int | None = Field(default=None, ge=0)
    severity: Severity | None = None
    resolved_at: AwareDatetime | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list, max_length=200)
    five_whys: list[Line] = Field(default_factory=list, max_length=40)
    security_impact: Text | None = None
    what_went_well: list[Line] = Field(default_factory=list, max_length=100)
    related_items: list[Line] = Field(default_factory=list, max_length=100)
    linked_services: list[ServiceId] = Field(default_factory=list, max_length=40)


class CoeDocument(_CoeContent):
    """One version of the document as the Service Manager (or their team) writes it."""

    corrective_actions: list[ActionPlan] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _unique_action_ids(self) -> CoeDocument:
        ids = [a.id for a in self.corrective_actions]
        if len(ids) != len(set(ids)):
            raise ValueError("corrective action ids must be unique")
        return self


# The nine fields OSOM requires before publication (DOMAIN §7.4, C2).
OSOM_FIELDS = (
    "problem",
    "impact",
    "root_cause",
    "supporting_data",
    "tradeoffs_that_led_to_problem",
    "tradeoffs_to_avoid",
    "lessons_learned",
    "corrective_actions",
    "doctrine_elements",
)
# Where people's names should not appear: the analysis, not the facts of who owns an action.
ANALYSIS_SECTIONS = (
    "problem",
    "impact",
    "root_cause",
    "supporting_data",
    "tradeoffs_that_led_to_problem",
    "tradeoffs_to_avoid",
    "lessons_learned",
    "timeline",
    "five_whys",
    "what_went_well",
    "security_impact",
)


def empty_osom_fields(document: CoeDocument) -> list[str]:
    return [name for name in OSOM_FIELDS if not getattr(document, name)]


def named_people(document: CoeDocument, directory: Directory) -> list[str]:
    """Blameless writing (DOMAIN §5.6): where the analysis names a person of the directory, by
    full name or surname, as ``"P-011 (Tom Okafor) in root_cause"``."""
    found: list[str] = []
    for section in ANALYSIS_SECTIONS:
        text = _section_text(getattr(document, section))
        for person in directory.people:
            surname = person.name.split()[-1]
            names = [person.name] + ([surname] if len(surname) >= 4 else [])
            if any(re.search(rf"\b{re.escape(n)}\b", text) for n in names):
                found.append(f"{person.label()} in {section}")
    return found


def _section_text(value: object) -> str:
    if isinstance(value, list):
        return "\n".join(_section_text(v) for v in value)
    if isinstance(value, BaseModel):
        return "\n".join(_section_text(v) for v in value.model_dump().values())
    return value if isinstance(value, str) else ""


# -- corrective actions -------------------------------------------------------------------------


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


class ActionRef(_Strict):
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


# -- C2-C12 data ----------------------------------------------------------------------------


class CoePublication(_Strict):
    """C2. The blameless check warns when the analysis names people; the Service Manager may
    publish anyway, saying why the names are needed."""

    names_acknowledged: Line | None = None


class CoeRevision(_Strict):
    """C3: a new version of a published CoE, with what changed."""

    document: CoeDocument
    change_note: Line
    names_acknowledged: Line | None = None


class ExecConsideration(_Strict):
    """C4: the Executive has read the CoE and considered its guidance implications."""

    guidance_candidate: Line | None = None
    note: Line | None = None


class ReviewOutputKind(StrEnum):
    GUIDANCE_CANDIDATE = "guidance_candidate"
    MANDATE = "mandate"
    NETWORK_CHANGE = "network_change"
    NONE = "none"


class ReviewOutput(_Strict):
    kind: ReviewOutputKind
    note: Line | None = None


class ReviewDraw(_Strict):
    """C5: a review session drew this CoE; its owning Service Manager presents it."""

    session_id: Annotated[str, Field(min_length=1, max_length=255)]
    session_workflow_id: Annotated[str, Field(min_length=1, max_length=255)]
    meeting_at: AwareDatetime


class ReviewOutcome(_Strict):
    """C6, C7, C8: what the session that drew the CoE made of it."""

    session_id: Annotated[str, Field(min_length=1, max_length=255)]
    outputs: list[ReviewOutput] = Field(default_factory=list, max_length=20)
    notes: Text | None = None


class FollowUp(_Strict):
    """C9: the extra discussion was held; what came out of it."""

    outputs: list[ReviewOutput] = Field(min_length=1, max_length=20)
    notes: Text | None = None


class Voiding(_Strict):
    """C12: a CoE opened by mistake, or a duplicate of another."""

    duplicate_of: CoeId | None = None


# -- the stored document and the case ------------------------------------------------------


class CoeRecord(_CoeContent):
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

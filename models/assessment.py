"""A service assessment and its report (DOMAIN §4, §7.5, §9.2)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from models.base import Strict
from models.case_state import CaseState
from models.commands import ArtefactRef
from models.criteria import CATALOGUE, AssessmentType
from models.ids import assessment_workflow_id
from models.people import CaseRole, Directory, PersonId, Relations, ServiceId
from models.policy import OverallResultRule, Policy
from models.stages import LifecycleStage

__all__ = ["AssessmentType"]

Text = Annotated[str, Field(min_length=1, max_length=4000)]
CriterionCode = Annotated[str, Field(pattern=r"^[CT][0-9]{1,2}$")]


class Verdict(StrEnum):
    MET = "MET"
    NOT_MET = "NOT_MET"


class LifecycleDecision(StrEnum):
    """What the report recommends for the service's lifecycle (DOMAIN §3.4, §9.2)."""

    NOT_REQUIRED = "NOT_REQUIRED"
    MORE_RESEARCH = "MORE_RESEARCH"
    PROGRESS_TO_ALPHA = "PROGRESS_TO_ALPHA"
    NO_SUITABLE_WAY = "NO_SUITABLE_WAY"
    UNDETERMINED = "UNDETERMINED"
    PROGRESS_TO_BETA = "PROGRESS_TO_BETA"
    RETURN_TO_DISCOVERY = "RETURN_TO_DISCOVERY"
    GO_LIVE = "GO_LIVE"
    CONTINUE_BETA = "CONTINUE_BETA"
    NONE = "NONE"
    RECOMMEND_DECOMMISSION = "RECOMMEND_DECOMMISSION"
    RECOMMEND_CONTRACT_CHANGE = "RECOMMEND_CONTRACT_CHANGE"


_LIVE_DECISIONS = frozenset(
    {
        LifecycleDecision.NONE,
        LifecycleDecision.RECOMMEND_DECOMMISSION,
        LifecycleDecision.RECOMMEND_CONTRACT_CHANGE,
    }
)
ALLOWED_DECISIONS: dict[AssessmentType, frozenset[LifecycleDecision]] = {
    AssessmentType.DISCOVERY_EXIT: frozenset(
        {
            LifecycleDecision.NOT_REQUIRED,
            LifecycleDecision.MORE_RESEARCH,
            LifecycleDecision.PROGRESS_TO_ALPHA,
        }
    ),
    AssessmentType.ALPHA_EXIT: frozenset(
        {
            LifecycleDecision.NO_SUITABLE_WAY,
            LifecycleDecision.UNDETERMINED,
            LifecycleDecision.PROGRESS_TO_BETA,
            LifecycleDecision.RETURN_TO_DISCOVERY,
        }
    ),
    AssessmentType.BETA_EXIT: frozenset(
        {LifecycleDecision.GO_LIVE, LifecycleDecision.CONTINUE_BETA}
    ),
    AssessmentType.LIVE_PERIODIC: _LIVE_DECISIONS,
    AssessmentType.REASSESSMENT: _LIVE_DECISIONS,
    AssessmentType.AD_HOC: _LIVE_DECISIONS,
}
# Moving a service forward needs a report whose overall result is MET (DOMAIN §3.4).
PROGRESS_DECISIONS = frozenset(
    {
        LifecycleDecision.PROGRESS_TO_ALPHA,
        LifecycleDecision.PROGRESS_TO_BETA,
        LifecycleDecision.GO_LIVE,
    }
)
# The gate assessment at the end of each phase.
GATE_FOR_STAGE: dict[LifecycleStage, AssessmentType] = {
    LifecycleStage.DISCOVERY: AssessmentType.DISCOVERY_EXIT,
    LifecycleStage.ALPHA: AssessmentType.ALPHA_EXIT,
    LifecycleStage.BETA: AssessmentType.BETA_EXIT,
}


# An assessment is named after its service and counted per service: SVC-007-A03.
AssessmentId = Annotated[
    str, Field(pattern=r"^SVC-[0-9]{3,}-A[0-9]{2,}$", examples=["SVC-007-A03"])
]


def assessment_id_for(service_id: str, number: int) -> str:
    return f"{service_id}-A{number:02d}"


def assessed_service(assessment_id: str) -> str:
    """The service an assessment id names (SVC-007-A03 is SVC-007's)."""
    return assessment_id.rsplit("-A", 1)[0]


def assessment_number(assessment_id: str) -> int:
    """The count in an assessment id (SVC-007-A03 is 3)."""
    return int(assessment_id.rsplit("-A", 1)[1])


class AssessmentInput(Strict):
    """What the lifecycle gives each assessment it requests (pinned for the assessment's life)."""

    assessment_id: AssessmentId
    service_id: ServiceId
    service_name: str
    type: AssessmentType
    stage: LifecycleStage
    service_manager: PersonId
    team: tuple[PersonId, ...] = ()
    contract: ArtefactRef
    requested_by: str
    reason: str
    lifecycle_workflow_id: str
    policy: Policy
    directory: Directory

    @property
    def workflow_id(self) -> str:
        return assessment_workflow_id(self.assessment_id)


class Panelist(Strict):
    person: PersonId
    lead: bool = False


class AssessmentSchedule(Strict):
    """A2: when the assessment is held and who sits on the panel."""

    date: AwareDatetime
    panel: list[Panelist] = Field(min_length=1, max_length=8)

    @model_validator(mode="after")
    def _one_lead(self) -> AssessmentSchedule:
        people = [p.person for p in self.panel]
        if len(people) != len(set(people)):
            raise ValueError("each panel member is listed once")
        if sum(p.lead for p in self.panel) != 1:
            raise ValueError("the panel needs exactly one lead assessor (lead: true)")
        return self

    @property
    def lead(self) -> str:
        return next(p.person for p in self.panel if p.lead)


class Reschedule(Strict):
    """A4: a new date (the reason travels with the command)."""

    date: AwareDatetime


class Agenda(Strict):
    """A3: the criteria (the policy's default set for the type when left out)."""

    criteria: list[CriterionCode] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _known(self) -> Agenda:
        unknown = [c for c in self.criteria or [] if c not in CATALOGUE]
        if unknown:
            raise ValueError(f"unknown criteria: {', '.join(unknown)}")
        if self.criteria and len(set(self.criteria)) != len(self.criteria):
            raise ValueError("each criterion is listed once")
        return self


class AssessmentHeld(Strict):
    """A5: the assessment took place and the Service Manager presented the service."""

    service_manager_attended: bool


class CriterionDecision(Strict):
    """One criterion's verdict with what went well and what to improve (DOMAIN §4.5)."""

    code: CriterionCode
    decision: Verdict
    done_well: Text
    to_improve: Text
    info_link: str | None = None


class CriteriaDecisions(Strict):
    """A6: a decision on every criterion of the agenda."""

    criteria: list[CriterionDecision] = Field(min_length=1)

    @model_validator(mode="after")
    def _once_each(self) -> CriteriaDecisions:
        codes = [c.code for c in self.criteria]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"criteria decided more than once: {', '.join(twice)}")
        return self


class ReportAction(Strict):
    description: Text
    owner: PersonId
    due: date


class ReportPublication(Strict):
    """A7: the lifecycle decision, and a result that departs from the policy's rule only with a
    written rationale."""

    lifecycle_decision: LifecycleDecision
    result_override: Verdict | None = None
    overall_rationale: Text | None = None
    actions: list[ReportAction] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _override_needs_rationale(self) -> ReportPublication:
        if self.result_override is not None and not self.overall_rationale:
            raise ValueError("overriding the overall result needs an overall_rationale")
        return self


def overall_result(rule: OverallResultRule, decisions: list[CriterionDecision]) -> Verdict:
    met = sum(d.decision == Verdict.MET for d in decisions)
    if rule == OverallResultRule.ALL_MET:
        return Verdict.MET if met == len(decisions) else Verdict.NOT_MET
    return Verdict.MET if met * 2 > len(decisions) else Verdict.NOT_MET


class AssessorEntry(Strict):
    person: PersonId
    name: str
    role: Literal["LEAD_ASSESSOR", "ASSESSOR"]


class ReportCriterion(CriterionDecision):
    name: str


class AssessmentReport(Strict):
    """The Service Assessment Report (DOMAIN §7.5), published for the whole network."""

    assessment_id: str
    assessment_type: AssessmentType
    service_id: ServiceId
    service_name: str
    assessment_date: datetime
    result: Verdict
    result_rule: OverallResultRule
    result_overridden: bool
    stage: LifecycleStage
    service_manager: PersonId
    service_contract_ref: str = Field(description="SVC-nnn@vN and where that version is stored")
    contract_version: int
    assessors: list[AssessorEntry] = Field(min_length=1)
    criteria: list[ReportCriterion] = Field(min_length=1)
    lifecycle_decision: LifecycleDecision
    overall_rationale: str | None
    actions: list[ReportAction]
    published_at: datetime
    published_by: str
    report_version: int = 1


class ReportSummary(Strict):
    """What the lifecycle keeps of a published report (the report itself is in the store)."""

    assessment_id: str
    type: AssessmentType
    stage: LifecycleStage
    result: Verdict
    lifecycle_decision: LifecycleDecision
    published_at: datetime
    report: ArtefactRef


class AssessmentClosure(Strict):
    """The record an assessment leaves when it ends without a report."""

    assessment_id: str
    assessment_type: AssessmentType
    service_id: ServiceId
    closed_at: datetime
    closed_by: str
    reason: str


class AssessmentOutcome(Strict):
    """How an assessment ended, sent to its service's lifecycle: where its report (or closure
    record) is stored. The lifecycle reads the stored document; the signal itself is trusted
    for nothing else."""

    assessment_id: str
    service_id: ServiceId
    state: Literal["PUBLISHED", "CANCELLED"]
    record: ArtefactRef


class ServiceChange(Strict):
    """From the lifecycle to its open assessments: where the newest contract version is stored
    (the assessment reads its Service Manager from the stored contract)."""

    contract: ArtefactRef


class AssessmentCase(CaseState):
    request: AssessmentInput
    state: str = "REQUESTED"
    # Kept current by the lifecycle until the agenda pins the contract version.
    contract: ArtefactRef
    service_manager: PersonId
    schedule: AssessmentSchedule | None = None
    criteria: list[str] = Field(default_factory=list)
    contract_version: int | None = None
    held_at: datetime | None = None
    decisions: list[CriterionDecision] = Field(default_factory=list)
    report: AssessmentReport | None = None

    @property
    def case_id(self) -> str:
        return self.request.assessment_id

    @property
    def title(self) -> str:
        r = self.request
        return f"{r.assessment_id} {r.type} assessment of {r.service_id} {r.service_name}"

    @property
    def service_id(self) -> str | None:
        return self.request.service_id

    @property
    def team(self) -> set[str]:
        """The service's people: its manager, the team it was given, and the team the
        directory lists for it (they may not assess it)."""
        listed = self.directory.service(self.request.service_id)
        return {self.service_manager, *self.request.team, *(listed.team if listed else ())}

    def relations(self) -> Relations:
        panel = tuple(p.person for p in self.schedule.panel) if self.schedule else None
        return {
            CaseRole.SERVICE_MANAGER: self.service_manager,
            CaseRole.LEAD_ASSESSOR: self.schedule.lead if self.schedule else None,
            CaseRole.PANEL: panel,
        }

    def facts(self) -> dict[str, str]:
        facts = {"Type": str(self.request.type), "Service stage": str(self.request.stage)}
        if self.schedule:
            facts["Date"] = f"{self.schedule.date:%Y-%m-%d %H:%M} UTC"
            facts["Panel"] = ", ".join(
                p.person + (" (lead)" if p.lead else "") for p in self.schedule.panel
            )
        if self.criteria:
            facts["Criteria"] = ", ".join(self.criteria)
        if self.contract_version:
            facts["Contract"] = f"{self.request.service_id}@v{self.contract_version}"
        if self.report:
            facts["Result"] = f"{self.report.result} — {self.report.lifecycle_decision}"
        return facts

"""A service's life from discovery to decommissioned (DOMAIN §3, §9.1): input, commands, state."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, FiniteFloat, model_validator

from models.assessment import AssessmentId, ReportSummary, Verdict, assessment_number
from models.base import Strict
from models.calendar import add_months
from models.case_state import CaseState
from models.coe_actions import CoeSeen
from models.commands import ArtefactRef
from models.contract import (
    BudgetAllocation,
    MeasureKind,
    MetricValue,
    ServiceContract,
)
from models.criteria import AssessmentType
from models.people import CaseRole, Directory, PersonId, Relations
from models.policy import Policy
from models.stages import LifecycleStage

Text = Annotated[str, Field(min_length=1, max_length=4000)]
# Values kept per metric in the case; every report stays in the artefact store.
KEPT_METRIC_VALUES = 12


class DecommissionReason(StrEnum):
    CANNOT_MEET_NEW_NEEDS = "CANNOT_MEET_NEW_NEEDS"
    BETTER_SERVICE_EXISTS = "BETTER_SERVICE_EXISTS"
    NEEDS_NO_LONGER_EXIST = "NEEDS_NO_LONGER_EXIST"
    DISCOVERY_NOT_REQUIRED = "DISCOVERY_NOT_REQUIRED"
    ALPHA_NO_SOLUTION = "ALPHA_NO_SOLUTION"
    OTHER = "OTHER"


class LifecycleInput(Strict):
    """How a service's lifecycle starts: handed over by its establishment (L1), onboarded as an
    existing service (L2), or carried over from the previous run (continue-as-new)."""

    contract: ServiceContract
    contract_ref: ArtefactRef | None = None
    started_by: PersonId
    budget: BudgetAllocation | None = None
    discovery_target: date | None = None
    onboarded: bool = False
    team: tuple[PersonId, ...] = ()
    policy: Policy | None = None
    directory: Directory | None = None
    carried: LifecycleCase | None = None


class GateDecision(Strict):
    """L3-L12: the published report the decision rests on, and the next phase's budget if it
    comes with the decision."""

    report: AssessmentId
    budget: BudgetAllocation | None = None


class ReturnToDiscovery(Strict):
    """L9 (only when the policy allows it): a new discovery round with its budget."""

    budget: BudgetAllocation
    report: str | None = None


class DecommissionDecision(Strict):
    """L5, L8, L14, L15: the reasons recorded in the contract (DOMAIN §3.5)."""

    reason_codes: list[DecommissionReason] = Field(min_length=1)
    narrative: Text
    lessons: Text
    migration_guidance: Text | None = None
    report: str | None = Field(default=None, description="the gate report, if gate-driven")


class DecommissionCompletion(Strict):
    """L16: finish; an Executive override of the dependency guard needs a reason."""

    migration_guidance: Text | None = None
    override_dependants: Text | None = None


class ContractAlteration(Strict):
    """L17: the new content of the contract (the engine numbers and stamps the version)."""

    contract: ServiceContract
    rationale: Text


class AssessmentRequest(Strict):
    """Ask for an assessment outside the automatic ones (an ad hoc one, or a gate again)."""

    type: AssessmentType


class MandateIssued(Strict):
    """L20: a change to the network that leaves the contract alone."""

    id: Annotated[str, Field(pattern=r"^MAN-[A-Za-z0-9_-]+$")]
    statement: Text


class MandateAcknowledgement(Strict):
    id: Annotated[str, Field(pattern=r"^MAN-[A-Za-z0-9_-]+$")]


class Mandate(Strict):
    id: str
    statement: str
    issued_by: str
    issued_at: datetime
    acknowledged_at: datetime | None = None


class MetricReading(Strict):
    measure_id: str
    value: FiniteFloat


class MetricReport(Strict):
    """Values of the contract's measures for one period, reported by the Service Manager."""

    period: Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
    values: list[MetricReading] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _once_each(self) -> MetricReport:
        ids = [v.measure_id for v in self.values]
        if len(ids) != len(set(ids)):
            raise ValueError("each measure is reported once per period")
        return self


class ContractChangeProposal(Strict):
    """What a Service Manager proposes; only the Executive alters the contract (L17)."""

    summary: Text
    proposed_contract: ServiceContract | None = None


class OpenAssessment(Strict):
    assessment_id: str
    type: AssessmentType
    workflow_id: str
    requested_at: datetime


class LifecycleCase(CaseState):
    """One service's durable state: also what a long-lived run carries into the next."""

    contract: ServiceContract
    state: str = LifecycleStage.DISCOVERY
    onboarded_existing: bool = False
    team: tuple[PersonId, ...] = ()
    discovery_round: int = 1
    alpha_round: int = 0
    budgets: dict[LifecycleStage, BudgetAllocation] = Field(default_factory=dict)
    discovery_target: date | None = None
    phase_entered_at: datetime
    # Reports count for the current phase or round only if their assessment was requested after
    # it began: assessment numbers above this one (clock-independent).
    round_begins_after: int = 0
    assessments_requested: int = 0
    open_assessments: dict[str, OpenAssessment] = Field(default_factory=dict)
    reports: dict[str, ReportSummary] = Field(default_factory=dict)
    last_assessed_at: datetime | None = None
    last_live_result: Verdict | None = None
    metric_values: dict[str, list[MetricValue]] = Field(default_factory=dict)
    metrics_reported_since_check: bool = False
    metric_misses: int = 0
    mandates: list[Mandate] = Field(default_factory=list)
    runs: int = 1
    # This service's CoEs as their newest stored registers say (open actions, ended or not).
    coes: dict[str, CoeSeen] = Field(default_factory=dict)
    gate_holds: list[str] = Field(default_factory=list)

    @property
    def case_id(self) -> str:
        return self.contract.service_id

    @property
    def title(self) -> str:
        return f"{self.contract.service_id} {self.contract.name}"

    @property
    def service_id(self) -> str | None:
        return self.contract.service_id

    @property
    def stage(self) -> LifecycleStage:
        return LifecycleStage(self.state)

    @property
    def service_manager(self) -> str:
        assert self.contract.service_manager is not None
        return self.contract.service_manager

    @property
    def depends_on(self) -> list[str]:
        return list(self.contract.dependencies or [])

    def relations(self) -> Relations:
        return {CaseRole.SERVICE_MANAGER: self.service_manager}

    def gate_reports(self, kind: AssessmentType) -> list[ReportSummary]:
        """Reports of ``kind`` published in the current phase, newest last."""
        return [
            r
            for r in self.reports.values()
            if r.type == kind and self.in_this_round(r.assessment_id)
        ]

    def in_this_round(self, assessment_id: str) -> bool:
        return assessment_number(assessment_id) > self.round_begins_after

    def begin_round(self, at: datetime) -> None:
        """A new phase or round: earlier reports no longer count for its gate."""
        self.phase_entered_at = at
        self.round_begins_after = self.assessments_requested

    def contract_metric_ids(self) -> list[str]:
        return [m.id for m in self.contract.metrics if m.kind == MeasureKind.CONTRACT]

    @property
    def open_action_count(self) -> int | None:
        return sum(len(seen.open_actions) for seen in self.coes.values())

    @property
    def next_assessment_due(self) -> datetime | None:
        """When a live service is next reassessed: N months after the last assessment (or going
        live), sooner after a NOT_MET (DOMAIN §9.1 T_LIVE_REASSESS)."""
        if self.state != LifecycleStage.LIVE:
            return None
        policy = self.policy.lifecycle
        months = (
            policy.live_reassessment_after_not_met_months
            if self.last_live_result == Verdict.NOT_MET
            else policy.live_reassessment_months
        )
        return add_months(self.last_assessed_at or self.phase_entered_at, months)

    def facts(self) -> dict[str, str]:
        facts = {
            "Phase": self.state,
            "Service Manager": self.service_manager,
            "Contract": f"v{self.contract.version}",
        }
        if self.state in (LifecycleStage.DISCOVERY, LifecycleStage.ALPHA):
            facts["Round"] = str(
                self.discovery_round if self.state == LifecycleStage.DISCOVERY else self.alpha_round
            )
        if self.budgets:
            facts["Budgets"] = ", ".join(
                f"{phase} £{b.amount_gbp:,}" for phase, b in self.budgets.items()
            )
        if self.open_assessments:
            facts["Open assessments"] = ", ".join(
                f"{a.assessment_id} ({a.type})" for a in self.open_assessments.values()
            )
        if self.next_assessment_due:
            facts["Next assessment due"] = f"{self.next_assessment_due:%Y-%m-%d}"
        if self.last_assessed_at:
            facts["Last assessed"] = f"{self.last_assessed_at:%Y-%m-%d} ({self.last_live_result})"
        if self.onboarded_existing:
            facts["Onboarded"] = "existing service (L2)"
        if self.open_action_count:
            facts["Open corrective actions"] = "; ".join(
                f"{coe_id} {a.id} due {a.due}"
                for coe_id, seen in sorted(self.coes.items())
                for a in seen.open_actions
            )
        return facts

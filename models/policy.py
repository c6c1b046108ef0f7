"""The tunable parts of OSOM (DOMAIN §9.6) with their defaults.

An organisation adapts OSOM through a policy file; the policy in force when a case starts is
pinned into that case, so changing the file never changes a running case.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.criteria import CATALOGUE, AssessmentType


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClockPolicy(_Section):
    """A deadline in working days, with reminders every ``reminder_wd`` until (and after) it.

    Without ``reminder_wd`` the clock only acts at its due date.
    """

    due_wd: int = Field(gt=0)
    reminder_wd: int | None = Field(default=None, gt=0)


class EstablishmentPolicy(_Section):
    triage: ClockPolicy = ClockPolicy(due_wd=20, reminder_wd=5)
    drafting: ClockPolicy = ClockPolicy(due_wd=20, reminder_wd=5)


class LifecyclePolicy(_Section):
    """DOMAIN §9.1 timers. Discovery's target is the date agreed with the Service Manager when
    there is one; the working days here apply to later rounds and to onboarded services."""

    discovery_target: ClockPolicy = ClockPolicy(due_wd=30, reminder_wd=10)
    alpha_target: ClockPolicy = ClockPolicy(due_wd=40, reminder_wd=10)
    funding_gap: ClockPolicy = ClockPolicy(due_wd=10, reminder_wd=5)
    migration: ClockPolicy = ClockPolicy(due_wd=65, reminder_wd=20)
    live_reassessment_months: int = Field(default=6, gt=0, le=60)
    live_reassessment_after_not_met_months: int = Field(default=3, gt=0, le=60)
    metric_reporting_months: int = Field(default=1, gt=0, le=12)
    metric_misses_before_escalation: int = Field(default=2, gt=0)
    allow_return_to_discovery: bool = False


class OverallResultRule(StrEnum):
    """How a report's overall result follows from its criteria (DOMAIN §4.5)."""

    ALL_MET = "all_met"
    MAJORITY_MET = "majority_met"


def _default_criteria() -> dict[AssessmentType, tuple[str, ...]]:
    every = tuple(CATALOGUE)
    core = ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "T1")
    live = ("C1", "C3", "C5", "C9", "C10", "T1")
    return {
        AssessmentType.DISCOVERY_EXIT: ("C1", "C2", "C6", "C10"),
        AssessmentType.ALPHA_EXIT: core,
        AssessmentType.BETA_EXIT: every,
        AssessmentType.LIVE_PERIODIC: live,
        AssessmentType.REASSESSMENT: live,
        AssessmentType.AD_HOC: live,
    }


class AssessmentPolicy(_Section):
    """DOMAIN §9.2 timers, the default criteria per assessment type (§4.4) and the result rule."""

    booking: ClockPolicy = ClockPolicy(due_wd=10, reminder_wd=3)
    agenda: ClockPolicy = ClockPolicy(due_wd=5, reminder_wd=2)
    report_due: ClockPolicy = ClockPolicy(due_wd=5, reminder_wd=2)
    agenda_lead_wd: int = Field(default=5, ge=0)
    overall_result_rule: OverallResultRule = OverallResultRule.ALL_MET
    criteria: dict[AssessmentType, tuple[str, ...]] = Field(default_factory=_default_criteria)

    @model_validator(mode="after")
    def _known_criteria(self) -> AssessmentPolicy:
        for kind, codes in self.criteria.items():
            unknown = [c for c in codes if c not in CATALOGUE]
            if unknown:
                raise ValueError(f"criteria for {kind}: unknown codes {', '.join(unknown)}")
            if not codes:
                raise ValueError(f"criteria for {kind}: at least one criterion")
        missing = [k for k in AssessmentType if k not in self.criteria]
        if missing:
            raise ValueError(f"criteria: no default set for {', '.join(missing)}")
        return self


class CoePolicy(_Section):
    """DOMAIN §5.4 and §9.4 timers for a Correction of Error and its corrective actions, and the
    cross-process rule that a service does not pass a gate while ignoring its overdue actions."""

    drafting: ClockPolicy = ClockPolicy(due_wd=2, reminder_wd=1)
    publishing: ClockPolicy = ClockPolicy(due_wd=5, reminder_wd=2)
    follow_up: ClockPolicy = ClockPolicy(due_wd=10, reminder_wd=5)
    action_reminder_wd: int = Field(default=3, ge=0, description="reminder before an action's due")
    action_escalation_wd: int = Field(default=10, gt=0, description="overdue this long: Executive")
    pool_starvation_weeks: int = Field(default=8, gt=0, le=104)
    reopen_window_days: int = Field(default=90, gt=0, le=3650)
    gate_on_overdue_actions: bool = True
    gate_overdue_wd: int = Field(default=10, ge=0, description="how long overdue blocks a gate")


class CoeReviewPolicy(_Section):
    """DOMAIN §9.4.3: the regular review of published CoEs (PDO variant: weekly, 2-3 items by
    default).

    The schedule fires at ``cron`` (in ``time_zone``) and draws the items; the session itself is
    ``meeting_lead_wd`` working days later, so Service Managers can prepare.
    """

    enabled: bool = True
    cron: str = Field(default="0 9 * * MON", min_length=9, max_length=100)
    time_zone: str = Field(default="Europe/London", min_length=1, max_length=60)
    meeting_lead_wd: int = Field(default=2, ge=0, le=20)
    duration_minutes: int = Field(default=60, gt=0, le=480)
    items_min: int = Field(default=2, gt=0, le=10)
    items_max: int = Field(default=3, gt=0, le=10)
    minutes: ClockPolicy = ClockPolicy(due_wd=2)

    @model_validator(mode="after")
    def _range(self) -> CoeReviewPolicy:
        if self.items_min > self.items_max:
            raise ValueError("items_min must not be more than items_max")
        return self

    def draw_summary(self) -> str:
        """How many CoEs a session draws, in the policy's own numbers: "1-3 published CoEs"."""
        low, high = self.items_min, self.items_max
        count = f"{low}" if low == high else f"{low}-{high}"
        return f"{count} published CoE{'' if high == 1 else 's'}"


class Policy(_Section):
    name: str = "OSOM defaults"
    version: str = "1"
    max_payload_bytes: int = Field(default=64 * 1024, gt=0, le=1024 * 1024)
    establishment: EstablishmentPolicy = EstablishmentPolicy()
    lifecycle: LifecyclePolicy = LifecyclePolicy()
    assessment: AssessmentPolicy = AssessmentPolicy()
    coe: CoePolicy = CoePolicy()
    coe_review: CoeReviewPolicy = CoeReviewPolicy()

    def clock(self, process: str, name: str) -> ClockPolicy:
        section = getattr(self, process)
        clock: ClockPolicy = getattr(section, name)
        return clock

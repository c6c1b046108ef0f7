"""The service contract, its user needs and performance measures (DOMAIN §7.1-7.3).

A contract is versioned: the draft is version 0 and each publication by the Executive is the next
version. Which fields must be filled depends on the point in the lifecycle; ``missing_for`` names
what a contract still lacks for a given checkpoint.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, FiniteFloat, model_validator

from models.base import Strict
from models.people import PersonId, ServiceId
from models.stages import LifecycleStage

__all__ = ["LifecycleStage"]

Text = Annotated[str, Field(min_length=1, max_length=4000)]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]


class EvolutionStage(StrEnum):
    NOVEL = "NOVEL"
    BESPOKE = "BESPOKE"
    PRODUCT = "PRODUCT"
    COMMODITY = "COMMODITY"


class NeedStatus(StrEnum):
    HYPOTHETICAL = "HYPOTHETICAL"
    VALIDATED = "VALIDATED"
    REJECTED = "REJECTED"
    NEW_FROM_RESEARCH = "NEW_FROM_RESEARCH"


class MeasureKind(StrEnum):
    CONTRACT = "CONTRACT"
    OPERATIONAL = "OPERATIONAL"
    COST = "COST"
    CONSUMPTION = "CONSUMPTION"


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class UserNeed(Strict):
    """Who needs it, what they need and why (DOMAIN §7.2)."""

    id: Annotated[str, Field(pattern=r"^UN-[A-Za-z0-9_-]+$")]
    users: list[ShortText] = Field(min_length=1)
    thing: Text
    outcome: Text
    metrics: list[str] = Field(
        default_factory=list, description="ids of the measures of this outcome"
    )
    status: NeedStatus = NeedStatus.HYPOTHETICAL
    is_target_need: bool = False


class MetricValue(Strict):
    period: ShortText
    value: FiniteFloat
    reported_at: datetime
    reported_by: PersonId


class PerformanceMeasure(Strict):
    """A measure of whether the service performs as it should (DOMAIN §7.3)."""

    id: Annotated[str, Field(pattern=r"^M-[A-Za-z0-9_-]+$")]
    name: ShortText
    kind: MeasureKind
    user_need_ref: str | None = None
    definition: Text
    unit: Annotated[str, Field(min_length=1, max_length=40)]
    direction: Direction
    data_source: ShortText
    reporting_frequency: ShortText = "monthly"
    target: str | None = None
    is_proxy: bool = False
    proxy_approved_by: PersonId | None = None
    values: list[MetricValue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rules(self) -> PerformanceMeasure:
        if self.kind == MeasureKind.CONTRACT and not self.user_need_ref:
            raise ValueError(
                "a CONTRACT measure must name the user need it measures (user_need_ref)"
            )
        if self.proxy_approved_by and not self.is_proxy:
            raise ValueError("proxy_approved_by is only for proxy measures (is_proxy: true)")
        return self


class ContractDescription(Strict):
    overview: Text | None = None
    business_benefit: Text | None = None
    how_used: Text | None = None
    customer_engagement: Text | None = None
    success_failure_expectations: Text | None = None
    help_route: Text | None = None


class Decommission(Strict):
    reason_codes: list[ShortText] = Field(min_length=1)
    narrative: Text
    lessons: Text


class ContractCheckpoint(StrEnum):
    """Points in a service's life at which the contract must hold more (DOMAIN §7.1, §7.7)."""

    ESTABLISHMENT = "ESTABLISHMENT"
    ALPHA = "ALPHA"
    BETA = "BETA"
    LIVE = "LIVE"


class ServiceContract(Strict):
    """The published interface between a service and the rest of the organisation."""

    service_id: ServiceId
    name: ShortText
    version: int = Field(
        default=0, ge=0, description="0 is the draft; published versions count from 1"
    )
    published_at: datetime | None = None
    published_by: PersonId | None = None
    service_manager: PersonId | None = None
    lifecycle_stage: LifecycleStage = LifecycleStage.DISCOVERY
    evolution_stage: EvolutionStage | None = None
    description: ContractDescription = Field(default_factory=ContractDescription)
    user_needs: list[UserNeed] = Field(default_factory=list)
    metrics: list[PerformanceMeasure] = Field(default_factory=list)
    expected_consumption: Text | None = None
    expected_support: Text | None = None
    cost_reporting: Text | None = None
    consumption_measure: Text | None = None
    dependencies: list[ServiceId] | None = Field(
        default=None, description="known dependencies; an empty list says 'none' explicitly"
    )
    decommission: Decommission | None = None
    migration_guidance: Text | None = None
    onboarded_existing: bool = False

    @model_validator(mode="after")
    def _references_resolve(self) -> ServiceContract:
        need_ids = [n.id for n in self.user_needs]
        measure_ids = [m.id for m in self.metrics]
        for label, ids in (("user need", need_ids), ("measure", measure_ids)):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"{label} ids must be unique: {', '.join(duplicates)}")
        for measure in self.metrics:
            if measure.user_need_ref and measure.user_need_ref not in need_ids:
                raise ValueError(f"{measure.id} measures unknown user need {measure.user_need_ref}")
        measures = {m.id: m for m in self.metrics}
        for need in self.user_needs:
            unknown = [m for m in need.metrics if m not in measures]
            if unknown:
                raise ValueError(f"{need.id} refers to unknown measures: {', '.join(unknown)}")
            for mid in need.metrics:
                ref = measures[mid].user_need_ref
                if ref and ref != need.id:
                    raise ValueError(f"{need.id} lists {mid}, which measures {ref}")
        if self.service_id in (self.dependencies or []):
            raise ValueError("a service cannot depend on itself")
        return self

    def missing_for(self, checkpoint: ContractCheckpoint) -> list[str]:
        """What this contract lacks to be acceptable at ``checkpoint`` (empty when complete)."""
        missing: list[str] = []
        order = list(ContractCheckpoint)
        reached = order[: order.index(checkpoint) + 1]
        for point in reached:
            missing.extend(_REQUIREMENTS[point](self))
        return missing


def _establishment(c: ServiceContract) -> list[str]:
    missing = []
    if not c.description.overview:
        missing.append("description.overview")
    if not c.user_needs:
        missing.append("user_needs (at least one hypothetical need with an outcome)")
    contract_measures = {m.id for m in c.metrics if m.kind == MeasureKind.CONTRACT}
    for need in c.user_needs:
        if not contract_measures.intersection(need.metrics):
            missing.append(f"metrics for the outcome of {need.id} (at least one CONTRACT measure)")
    if c.evolution_stage is None:
        missing.append("evolution_stage")
    if c.dependencies is None:
        missing.append("dependencies (list the known ones; [] if there are none)")
    if not c.expected_consumption:
        missing.append("expected_consumption")
    if not c.expected_support:
        missing.append("expected_support")
    return missing


def _alpha(c: ServiceContract) -> list[str]:
    missing = [] if c.description.business_benefit else ["description.business_benefit"]
    if not any(n.status == NeedStatus.VALIDATED for n in c.user_needs):
        missing.append("user_needs (at least one VALIDATED need)")
    return missing


def _beta(c: ServiceContract) -> list[str]:
    fields = {
        "description.how_used": c.description.how_used,
        "description.customer_engagement": c.description.customer_engagement,
        "cost_reporting": c.cost_reporting,
        "consumption_measure": c.consumption_measure,
    }
    return [name for name, value in fields.items() if not value]


def _live(c: ServiceContract) -> list[str]:
    fields = {
        "description.success_failure_expectations": c.description.success_failure_expectations,
        "description.help_route": c.description.help_route,
    }
    return [name for name, value in fields.items() if not value]


_REQUIREMENTS = {
    ContractCheckpoint.ESTABLISHMENT: _establishment,
    ContractCheckpoint.ALPHA: _alpha,
    ContractCheckpoint.BETA: _beta,
    ContractCheckpoint.LIVE: _live,
}


class BudgetAllocation(Strict):
    """Money the Executive allocates to a service for a phase (DOMAIN §7.6, §8.2)."""

    phase: LifecycleStage
    amount_gbp: int = Field(gt=0, description="whole pounds; must be more than zero")
    period_start: date
    period_end: date
    cost_centre: ShortText | None = None

    @model_validator(mode="after")
    def _period(self) -> BudgetAllocation:
        if self.period_end <= self.period_start:
            raise ValueError("period_end must be after period_start")
        return self

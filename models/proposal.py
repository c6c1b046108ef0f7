"""The demand record that starts an establishment case (DOMAIN §6.1, §9.3)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.contract import ShortText, Text
from models.people import PersonId, ServiceId

ProposalId = Annotated[str, Field(pattern=r"^PRO-[0-9]{3,}$", examples=["PRO-004"])]


class TriggerType(StrEnum):
    UNMET_NEED_EXTERNAL = "UNMET_NEED_EXTERNAL"
    UNMET_NEED_INTERNAL = "UNMET_NEED_INTERNAL"
    DUPLICATION_CONSOLIDATION = "DUPLICATION_CONSOLIDATION"


class DemandSignal(StrEnum):
    DEMAND_REQUEST = "DEMAND_REQUEST"
    WARDLEY_MAP_DUPLICATION = "WARDLEY_MAP_DUPLICATION"
    DEPENDENCY_SIGNAL = "DEPENDENCY_SIGNAL"
    EXEC_INITIATIVE = "EXEC_INITIATIVE"


class ProposedNeed(BaseModel):
    """A need as the proposer sees it: who, what and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    users: list[ShortText] = Field(min_length=1)
    thing: Text
    outcome: Text


class Proposal(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: ProposalId
    name: ShortText
    summary: Text
    trigger_type: TriggerType
    signal: DemandSignal
    proposed_needs: list[ProposedNeed] = Field(min_length=1)
    related_services: list[ServiceId] = Field(default_factory=list)
    evidence: list[ShortText] = Field(default_factory=list)
    proposed_service_manager: PersonId | None = None

    @model_validator(mode="after")
    def _duplication_names_services(self) -> Proposal:
        if (
            self.trigger_type == TriggerType.DUPLICATION_CONSOLIDATION
            and len(set(self.related_services)) < 2
        ):
            raise ValueError(
                "a DUPLICATION_CONSOLIDATION proposal must name at least two related_services"
            )
        return self


class DiscoveryPlan(BaseModel):
    """The discovery timeline the Executive agrees with the Service Manager (DOMAIN §6.3 step 8)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    target_end: date
    assessment_window_start: date | None = None
    notes: Text | None = None

    @model_validator(mode="after")
    def _window_before_end(self) -> DiscoveryPlan:
        if self.assessment_window_start and self.assessment_window_start > self.target_end:
            raise ValueError("assessment_window_start must not be after target_end")
        return self

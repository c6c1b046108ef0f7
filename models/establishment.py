"""Input and durable state of an establishment case (one per proposal, DOMAIN §9.3)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from models.case_state import CaseState
from models.contract import BudgetAllocation, ServiceContract
from models.people import CaseRole, Directory, PersonId, Relations, ServiceId
from models.policy import Policy
from models.proposal import DiscoveryPlan, Proposal


class NewServiceInput(BaseModel):
    """Everything needed to start a case; JSON-friendly so the Web UI's Start form can send it.

    Leave ``policy`` and ``directory`` out to use the ones the worker is configured with; either
    way, the ones in force at the start are pinned into the case.
    """

    model_config = ConfigDict(extra="forbid")

    proposal: Proposal
    proposer: PersonId
    policy: Policy | None = None
    directory: Directory | None = None


class RoutingDecision(BaseModel):
    """E3: the need fits an existing service, whose Service Manager was consulted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    target_service: ServiceId
    consulted_service_manager: PersonId
    consultation_note: str = Field(min_length=1, max_length=2000)


class ServiceManagerAppointment(BaseModel):
    """E7: who will manage the new service."""

    model_config = ConfigDict(extra="forbid")

    person: PersonId


class EstablishmentCase(CaseState):
    """A proposal's state: the demand, the draft contract and what E7-E10 settle."""

    proposal: Proposal
    proposer: PersonId
    state: str = "PROPOSED"
    contract: ServiceContract | None = None
    service_manager: PersonId | None = None
    budget: BudgetAllocation | None = None
    discovery_plan: DiscoveryPlan | None = None
    discovery_plan_by: PersonId | None = None
    routed_to: RoutingDecision | None = None

    @property
    def case_id(self) -> str:
        return self.proposal.id

    @property
    def title(self) -> str:
        return f"{self.proposal.id} {self.proposal.name}"

    @property
    def service_id(self) -> str | None:
        return self.contract.service_id if self.contract else None

    def relations(self) -> Relations:
        # The proposal may suggest a Service Manager; only the one appointed (E7) acts as one.
        return {CaseRole.PROPOSER: self.proposer, CaseRole.APPOINTED_SM: self.service_manager}

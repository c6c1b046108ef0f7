"""Builders shared by the unit tests: cases, contracts and directories from the example files."""

from __future__ import annotations

from typing import Any

from models.contract import BudgetAllocation, ServiceContract
from models.establishment import EstablishmentCase
from models.people import Directory
from models.policy import Policy
from models.proposal import DiscoveryPlan, Proposal
from tests.examples import artefact


def example_contract(**changes: Any) -> ServiceContract:
    """The example contract v0 (examples/fenmoor/artefacts/service-contract.yaml), changed."""
    data = artefact("service-contract.yaml")
    data.update(changes)
    return ServiceContract.model_validate(data)


def example_budget(**changes: Any) -> BudgetAllocation:
    data = artefact("discovery-budget.yaml")
    data.update(changes)
    return BudgetAllocation.model_validate(data)


def example_plan() -> DiscoveryPlan:
    return DiscoveryPlan.model_validate(artefact("discovery-plan.yaml"))


def directory_with(directory: Directory, **changes: Any) -> Directory:
    """The directory with some top-level fields replaced, validated again."""
    data = directory.model_dump(mode="json")
    data.update(changes)
    return Directory.model_validate(data)


def new_case(
    directory: Directory,
    policy: Policy,
    proposal: Proposal,
    proposer: str = "P-010",
    **fields: Any,
) -> EstablishmentCase:
    """A fresh establishment case for the example proposal, with any case fields set."""
    case = EstablishmentCase(
        proposal=proposal, proposer=proposer, directory=directory, policy=policy
    )
    for name, value in fields.items():
        setattr(case, name, value)
    return case


def ready_case(directory: Directory, policy: Policy, proposal: Proposal) -> EstablishmentCase:
    """A case holding everything E10 needs: contract, SM P-013, budget, plan agreed by P-013."""
    return new_case(
        directory,
        policy,
        proposal,
        state="READY_TO_ESTABLISH",
        contract=example_contract(),
        service_manager="P-013",
        budget=example_budget(),
        discovery_plan=example_plan(),
        discovery_plan_by="P-013",
    )

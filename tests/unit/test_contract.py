"""The service contract (DOMAIN §7.1-7.3): references, measures, what each checkpoint requires."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from models.contract import (
    BudgetAllocation,
    ContractCheckpoint,
    MeasureKind,
    NeedStatus,
    PerformanceMeasure,
    ServiceContract,
)
from tests.examples import artefact

CHECKPOINTS = list(ContractCheckpoint)


def contract_data() -> dict[str, Any]:
    return artefact("service-contract.yaml")


def complete_data() -> dict[str, Any]:
    """The example contract with everything filled in that LIVE asks for."""
    data = contract_data()
    data["description"].update(
        business_benefit="No more manual proof-of-address checks in two services.",
        how_used="An API that answers yes or no for a name and an address.",
        customer_engagement="Consuming teams onboard through a short request form.",
        success_failure_expectations="Answers within a second; unknown addresses go to review.",
        help_route="identity-check@fenmoor.example",
    )
    data["user_needs"][0]["status"] = "VALIDATED"
    data["cost_reporting"] = "Monthly cost per check on the Performance Platform."
    data["consumption_measure"] = "Checks per consuming service per month."
    return data


def measure(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "M-007-9",
        "name": "Checks per month",
        "kind": "CONSUMPTION",
        "definition": "Count of checks answered",
        "unit": "count",
        "direction": "higher",
        "data_source": "check audit log",
    }
    data.update(changes)
    return data


# -- missing_for at each checkpoint -------------------------------------------------------------


def test_example_contract_is_complete_for_establishment() -> None:
    contract = ServiceContract.model_validate(contract_data())
    assert contract.missing_for(ContractCheckpoint.ESTABLISHMENT) == []


def test_example_contract_lacks_what_alpha_adds() -> None:
    contract = ServiceContract.model_validate(contract_data())
    assert contract.missing_for(ContractCheckpoint.ALPHA) == [
        "description.business_benefit",
        "user_needs (at least one VALIDATED need)",
    ]


def test_a_complete_contract_misses_nothing_at_any_checkpoint() -> None:
    contract = ServiceContract.model_validate(complete_data())
    assert {c: contract.missing_for(c) for c in CHECKPOINTS} == {c: [] for c in CHECKPOINTS}


# (path of the field to clear, the message missing_for gives, the first checkpoint needing it)
FIELDS: list[tuple[tuple[str, ...], str, ContractCheckpoint]] = [
    (("description", "overview"), "description.overview", ContractCheckpoint.ESTABLISHMENT),
    (("evolution_stage",), "evolution_stage", ContractCheckpoint.ESTABLISHMENT),
    (
        ("dependencies",),
        "dependencies (list the known ones; [] if there are none)",
        ContractCheckpoint.ESTABLISHMENT,
    ),
    (("expected_consumption",), "expected_consumption", ContractCheckpoint.ESTABLISHMENT),
    (("expected_support",), "expected_support", ContractCheckpoint.ESTABLISHMENT),
    (
        ("description", "business_benefit"),
        "description.business_benefit",
        ContractCheckpoint.ALPHA,
    ),
    (("description", "how_used"), "description.how_used", ContractCheckpoint.BETA),
    (
        ("description", "customer_engagement"),
        "description.customer_engagement",
        ContractCheckpoint.BETA,
    ),
    (("cost_reporting",), "cost_reporting", ContractCheckpoint.BETA),
    (("consumption_measure",), "consumption_measure", ContractCheckpoint.BETA),
    (
        ("description", "success_failure_expectations"),
        "description.success_failure_expectations",
        ContractCheckpoint.LIVE,
    ),
    (("description", "help_route"), "description.help_route", ContractCheckpoint.LIVE),
]


@pytest.mark.parametrize(("path", "message", "first"), FIELDS, ids=[".".join(f[0]) for f in FIELDS])
def test_a_field_is_missing_from_its_checkpoint_on_and_not_before(
    path: tuple[str, ...], message: str, first: ContractCheckpoint
) -> None:
    data = complete_data()
    holder = data
    for key in path[:-1]:
        holder = holder[key]
    holder.pop(path[-1], None)
    contract = ServiceContract.model_validate(data)
    for checkpoint in CHECKPOINTS:
        required = CHECKPOINTS.index(checkpoint) >= CHECKPOINTS.index(first)
        assert contract.missing_for(checkpoint) == ([message] if required else []), checkpoint


def test_checkpoints_are_cumulative() -> None:
    contract = ServiceContract(service_id="SVC-007", name="Bare")
    for earlier, later in itertools.combinations(CHECKPOINTS, 2):
        before = contract.missing_for(earlier)
        after = contract.missing_for(later)
        assert after[: len(before)] == before
        assert len(after) > len(before)


def test_explicitly_no_dependencies_is_enough() -> None:
    contract = ServiceContract.model_validate({**contract_data(), "dependencies": []})
    assert contract.missing_for(ContractCheckpoint.ESTABLISHMENT) == []


def test_a_need_measured_only_by_non_contract_measures_lacks_metrics() -> None:
    data = contract_data()
    data["metrics"].append(measure())
    data["user_needs"][0]["metrics"] = ["M-007-9"]
    contract = ServiceContract.model_validate(data)
    assert contract.missing_for(ContractCheckpoint.ESTABLISHMENT) == [
        "metrics for the outcome of UN-007-1 (at least one CONTRACT measure)"
    ]


def test_every_need_needs_its_own_contract_measure() -> None:
    data = contract_data()
    data["user_needs"].append(
        {"id": "UN-007-2", "users": ["resident"], "thing": "to know", "outcome": "so that"}
    )
    contract = ServiceContract.model_validate(data)
    assert contract.missing_for(ContractCheckpoint.ESTABLISHMENT) == [
        "metrics for the outcome of UN-007-2 (at least one CONTRACT measure)"
    ]


def test_alpha_is_not_satisfied_by_a_rejected_need() -> None:
    data = complete_data()
    data["user_needs"][0]["status"] = NeedStatus.REJECTED.value
    contract = ServiceContract.model_validate(data)
    assert contract.missing_for(ContractCheckpoint.ALPHA) == [
        "user_needs (at least one VALIDATED need)"
    ]


# -- references ---------------------------------------------------------------------------------


def test_a_need_referring_to_an_unknown_measure_is_rejected() -> None:
    data = contract_data()
    data["user_needs"][0]["metrics"].append("M-007-8")
    with pytest.raises(ValidationError, match="UN-007-1 refers to unknown measures: M-007-8"):
        ServiceContract.model_validate(data)


def test_a_measure_referring_to_an_unknown_need_is_rejected() -> None:
    data = contract_data()
    data["metrics"][0]["user_need_ref"] = "UN-007-5"
    with pytest.raises(ValidationError, match="M-007-1 measures unknown user need UN-007-5"):
        ServiceContract.model_validate(data)


def test_duplicate_need_ids_are_rejected() -> None:
    data = contract_data()
    data["user_needs"].append(dict(data["user_needs"][0]))
    with pytest.raises(ValidationError, match="user need ids must be unique: UN-007-1"):
        ServiceContract.model_validate(data)


def test_duplicate_measure_ids_are_rejected() -> None:
    data = contract_data()
    data["metrics"].append(dict(data["metrics"][1], id="M-007-1"))
    with pytest.raises(ValidationError, match="measure ids must be unique: M-007-1"):
        ServiceContract.model_validate(data)


def test_a_service_depending_on_itself_is_rejected() -> None:
    with pytest.raises(ValidationError, match="cannot depend on itself"):
        ServiceContract.model_validate({**contract_data(), "dependencies": ["SVC-002", "SVC-007"]})


def test_unknown_contract_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="owner"):
        ServiceContract.model_validate({**contract_data(), "owner": "P-013"})


def test_a_need_listing_a_measure_of_another_need_is_rejected() -> None:
    data = contract_data()
    data["user_needs"].append(
        {
            "id": "UN-007-2",
            "users": ["resident"],
            "thing": "to know my check passed",
            "outcome": "so that I can go on",
            "metrics": ["M-007-1"],
        }
    )
    with pytest.raises(ValidationError, match="M-007-1"):
        ServiceContract.model_validate(data)


# -- measures -----------------------------------------------------------------------------------


def test_a_contract_measure_must_name_its_user_need() -> None:
    with pytest.raises(ValidationError, match="must name the user need it measures"):
        PerformanceMeasure.model_validate(measure(kind="CONTRACT"))


@pytest.mark.parametrize("kind", [k for k in MeasureKind if k != MeasureKind.CONTRACT])
def test_other_measures_need_no_user_need(kind: MeasureKind) -> None:
    assert PerformanceMeasure.model_validate(measure(kind=kind.value)).user_need_ref is None


def test_proxy_approval_is_only_for_proxy_measures() -> None:
    with pytest.raises(ValidationError, match="only for proxy measures"):
        PerformanceMeasure.model_validate(measure(proxy_approved_by="P-001"))
    approved = PerformanceMeasure.model_validate(measure(is_proxy=True, proxy_approved_by="P-001"))
    assert approved.proxy_approved_by == "P-001"


def test_reporting_frequency_defaults_to_monthly() -> None:
    assert PerformanceMeasure.model_validate(measure()).reporting_frequency == "monthly"


# -- budget -------------------------------------------------------------------------------------


def budget(**changes: Any) -> dict[str, Any]:
    data = artefact("discovery-budget.yaml")
    data.update(changes)
    return data


def test_the_example_budget_is_valid() -> None:
    allocation = BudgetAllocation.model_validate(budget())
    assert allocation.amount_gbp == 40000
    assert allocation.period_end > allocation.period_start


@pytest.mark.parametrize("amount", [0, -1])
def test_budget_amount_must_be_more_than_zero(amount: int) -> None:
    with pytest.raises(ValidationError, match="amount_gbp"):
        BudgetAllocation.model_validate(budget(amount_gbp=amount))


@pytest.mark.parametrize("end", [date(2026, 12, 1), date(2026, 11, 30)], ids=["same", "before"])
def test_budget_period_must_end_after_it_starts(end: date) -> None:
    with pytest.raises(ValidationError, match="period_end must be after period_start"):
        BudgetAllocation.model_validate(budget(period_start=date(2026, 12, 1), period_end=end))


def test_budget_period_of_one_day_is_valid() -> None:
    allocation = BudgetAllocation.model_validate(
        budget(period_start=date(2026, 12, 1), period_end=date(2026, 12, 2))
    )
    assert (allocation.period_end - allocation.period_start).days == 1

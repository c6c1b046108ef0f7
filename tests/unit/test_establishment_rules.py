"""Every guard and requirement of the establishment process: a passing and a failing case each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from models.case_state import Context
from models.contract import LifecycleStage, ServiceContract
from models.errors import OsomError
from models.establishment import EstablishmentCase, RoutingDecision, ServiceManagerAppointment
from models.people import Directory
from models.policy import Policy
from models.proposal import Proposal
from tests.examples import artefact
from tests.unit.helpers import (
    directory_with,
    example_budget,
    example_contract,
    example_plan,
    new_case,
    ready_case,
)
from workflows._definition import Guard, Requirement
from workflows.establishment.definition import ESTABLISHMENT
from workflows.establishment.rules import (
    BUDGET_ALLOCATED,
    BUDGET_FOR_DISCOVERY,
    CONTRACT_COMPLETE,
    PLAN_AGREED,
    SERVICE_ID_IS_NEW,
    SM_APPOINTED,
    SM_NOT_CONFLICTED,
    TARGET_IS_LIVE,
)

# None of these rules reads the moment or the sender: any will do.
CTX = Context(now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def case(directory: Directory, policy: Policy, proposal: Proposal) -> EstablishmentCase:
    return new_case(directory, policy, proposal)


def routing(**changes: Any) -> RoutingDecision:
    data = artefact("routing-to-existing.yaml")
    data.update(changes)
    return RoutingDecision.model_validate(data)


def guards_of(trigger: str) -> tuple[Guard[EstablishmentCase, Any], ...]:
    spec = ESTABLISHMENT.transition(trigger)
    assert spec is not None
    return spec.guards


def requirements_of(trigger: str) -> tuple[Requirement[EstablishmentCase], ...]:
    spec = ESTABLISHMENT.transition(trigger)
    assert spec is not None
    return spec.needs


def test_rules_are_attached_to_the_transitions_domain_names() -> None:
    assert guards_of("routed_to_existing_service") == (TARGET_IS_LIVE,)
    assert guards_of("sm_appointed") == (SM_NOT_CONFLICTED,)
    assert guards_of("discovery_budget_allocated") == (BUDGET_FOR_DISCOVERY,)
    assert guards_of("service_established") == (SERVICE_ID_IS_NEW,)
    assert requirements_of("draft_completed") == (CONTRACT_COMPLETE, SM_APPOINTED, BUDGET_ALLOCATED)
    assert requirements_of("service_established") == (
        CONTRACT_COMPLETE,
        SM_APPOINTED,
        BUDGET_ALLOCATED,
        PLAN_AGREED,
    )


# -- E3: the target service takes new needs and its SM was consulted ----------------------------


def test_e3_passes_for_a_live_service_whose_sm_was_consulted(case: EstablishmentCase) -> None:
    assert TARGET_IS_LIVE.check(case, routing(), CTX) == []


def test_e3_refuses_an_unknown_target_service(case: EstablishmentCase) -> None:
    assert TARGET_IS_LIVE.check(case, routing(target_service="SVC-099"), CTX) == [
        "SVC-099 is not a service in the directory"
    ]


def test_e3_refuses_a_decommissioned_target_service(
    directory: Directory, policy: Policy, proposal: Proposal
) -> None:
    services = [s.model_dump(mode="json") for s in directory.services]
    services.append(
        {
            "id": "SVC-009",
            "name": "Paper Permit Forms",
            "service_manager": "P-015",
            "lifecycle_stage": "DECOMMISSIONED",
        }
    )
    case = new_case(directory_with(directory, services=services), policy, proposal)
    decision = routing(target_service="SVC-009", consulted_service_manager="P-015")
    assert TARGET_IS_LIVE.check(case, decision, CTX) == [
        "SVC-009 is DECOMMISSIONED and cannot take new needs"
    ]


def test_e3_refuses_when_another_sm_than_the_targets_was_consulted(
    case: EstablishmentCase,
) -> None:
    decision = routing(target_service="SVC-001", consulted_service_manager="P-011")
    assert TARGET_IS_LIVE.check(case, decision, CTX) == [
        "the consulted Service Manager must be SVC-001's, P-010"
    ]


def test_e3_routing_to_a_service_in_alpha_is_allowed(case: EstablishmentCase) -> None:
    decision = routing(target_service="SVC-003", consulted_service_manager="P-012")
    assert TARGET_IS_LIVE.check(case, decision, CTX) == []


# -- E7: the appointed Service Manager is not on the Executive ----------------------------------


def test_e7_passes_for_a_team_member(case: EstablishmentCase) -> None:
    assert SM_NOT_CONFLICTED.check(case, ServiceManagerAppointment(person="P-013"), CTX) == []


@pytest.mark.parametrize(
    ("person", "label"),
    [("P-001", "P-001 (Alison Reed)"), ("P-004", "P-004 (Femi Adeyemi)")],
    ids=["exec", "etm"],
)
def test_e7_refuses_a_member_of_the_executive(
    case: EstablishmentCase, person: str, label: str
) -> None:
    assert SM_NOT_CONFLICTED.check(case, ServiceManagerAppointment(person=person), CTX) == [
        f"{label} is on the Executive, which holds Service Managers to account"
    ]


def test_e7_names_an_unknown_appointee_as_a_guard_problem(case: EstablishmentCase) -> None:
    try:
        problems = SM_NOT_CONFLICTED.check(case, ServiceManagerAppointment(person="P-999"), CTX)
    except OsomError as err:
        pytest.fail(f"the guard raised {err.type} instead of returning a problem")
    assert problems == ["P-999 is not in the directory of people"]


# -- E8: the budget is for discovery ------------------------------------------------------------


def test_e8_passes_for_a_discovery_budget(case: EstablishmentCase) -> None:
    assert BUDGET_FOR_DISCOVERY.check(case, example_budget(), CTX) == []


@pytest.mark.parametrize("phase", [p for p in LifecycleStage if p != LifecycleStage.DISCOVERY])
def test_e8_refuses_a_budget_for_another_phase(
    case: EstablishmentCase, phase: LifecycleStage
) -> None:
    assert BUDGET_FOR_DISCOVERY.check(case, example_budget(phase=phase), CTX) == [
        f"this is the discovery budget: phase must be DISCOVERY, not {phase.value}"
    ]


# -- E9/E10 requirements ------------------------------------------------------------------------


def test_contract_requirement_passes_for_the_example_contract(case: EstablishmentCase) -> None:
    case.contract = example_contract()
    assert CONTRACT_COMPLETE.check(case, CTX) == []


def test_contract_requirement_fails_without_a_draft(case: EstablishmentCase) -> None:
    assert CONTRACT_COMPLETE.check(case, CTX) == ["no service_contract draft has been submitted"]


def test_contract_requirement_lists_each_missing_field(case: EstablishmentCase) -> None:
    case.contract = ServiceContract(service_id="SVC-007", name="Resident Identity Check")
    assert CONTRACT_COMPLETE.check(case, CTX) == [
        "description.overview",
        "user_needs (at least one hypothetical need with an outcome)",
        "evolution_stage",
        "dependencies (list the known ones; [] if there are none)",
        "expected_consumption",
        "expected_support",
    ]


def test_contract_requirement_names_a_need_without_a_contract_measure(
    case: EstablishmentCase,
) -> None:
    data = artefact("service-contract.yaml")
    data["user_needs"][0]["metrics"] = []
    case.contract = ServiceContract.model_validate(data)
    assert CONTRACT_COMPLETE.check(case, CTX) == [
        "metrics for the outcome of UN-007-1 (at least one CONTRACT measure)"
    ]


def test_sm_requirement_passes_once_appointed(case: EstablishmentCase) -> None:
    case.service_manager = "P-013"
    assert SM_APPOINTED.check(case, CTX) == []


def test_sm_requirement_fails_when_not_appointed(case: EstablishmentCase) -> None:
    assert SM_APPOINTED.check(case, CTX) == ["no Service Manager has been appointed (sm_appointed)"]


def test_sm_requirement_is_not_met_by_the_proposed_sm_alone(case: EstablishmentCase) -> None:
    assert case.proposal.proposed_service_manager == "P-013"
    assert SM_APPOINTED.check(case, CTX) != []


def test_budget_requirement_passes_once_allocated(case: EstablishmentCase) -> None:
    case.budget = example_budget()
    assert BUDGET_ALLOCATED.check(case, CTX) == []


def test_budget_requirement_fails_without_a_budget(case: EstablishmentCase) -> None:
    assert BUDGET_ALLOCATED.check(case, CTX) == [
        "no discovery budget has been allocated (discovery_budget_allocated)"
    ]


def test_plan_requirement_passes_when_submitted_by_the_appointed_sm(
    case: EstablishmentCase,
) -> None:
    case.service_manager = "P-013"
    case.discovery_plan = example_plan()
    case.discovery_plan_by = "P-013"
    assert PLAN_AGREED.check(case, CTX) == []


def test_plan_requirement_fails_without_a_plan(case: EstablishmentCase) -> None:
    case.service_manager = "P-013"
    assert PLAN_AGREED.check(case, CTX) == [
        "no discovery_plan (target end date) has been submitted"
    ]


def test_plan_requirement_fails_when_submitted_by_someone_else(case: EstablishmentCase) -> None:
    case.service_manager = "P-013"
    case.discovery_plan = example_plan()
    case.discovery_plan_by = "P-010"
    assert PLAN_AGREED.check(case, CTX) == [
        "the discovery plan was submitted by P-010, not agreed by the appointed Service "
        "Manager P-013: the SM submits it"
    ]


def test_plan_requirement_fails_when_the_sm_changed_after_the_plan(
    case: EstablishmentCase,
) -> None:
    case.service_manager = "P-013"
    case.discovery_plan = example_plan()
    case.discovery_plan_by = "P-013"
    case.service_manager = "P-020"  # a later E7 appointed someone else
    problems = PLAN_AGREED.check(case, CTX)
    assert len(problems) == 1
    assert "submitted by P-013" in problems[0]
    assert "appointed Service Manager P-020" in problems[0]


def test_every_e10_requirement_holds_for_a_ready_case(
    directory: Directory, policy: Policy, proposal: Proposal
) -> None:
    case = ready_case(directory, policy, proposal)
    assert {r.name: r.check(case, CTX) for r in requirements_of("service_established")} == {
        "contract_complete": [],
        "sm_appointed": [],
        "discovery_budget": [],
        "discovery_plan_agreed": [],
    }


# -- E10: the new service's id is not taken -----------------------------------------------------


def test_e10_passes_for_a_new_service_id(
    directory: Directory, policy: Policy, proposal: Proposal
) -> None:
    case = ready_case(directory, policy, proposal)
    assert SERVICE_ID_IS_NEW.check(case, None, CTX) == []


def test_e10_refuses_a_service_id_already_in_the_directory(
    directory: Directory, policy: Policy, proposal: Proposal
) -> None:
    case = ready_case(directory, policy, proposal)
    case.contract = example_contract(service_id="SVC-001")
    assert SERVICE_ID_IS_NEW.check(case, None, CTX) == [
        "SVC-001 already exists in the directory; choose a new id"
    ]

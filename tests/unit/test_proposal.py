"""The demand record (DOMAIN §6.1, §9.3 E1), the discovery plan and the commands people send."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from models.commands import ArtefactSubmission, Decision
from models.establishment import NewServiceInput, RoutingDecision
from models.proposal import DiscoveryPlan, Proposal, TriggerType
from tests.examples import EXAMPLES, artefact, load_yaml


def proposal_data(**changes: Any) -> dict[str, Any]:
    data = load_yaml(EXAMPLES / "proposal.yaml")
    data.update(changes)
    return data


def test_the_example_proposal_is_a_duplication_with_two_services(proposal: Proposal) -> None:
    assert proposal.trigger_type == TriggerType.DUPLICATION_CONSOLIDATION
    assert proposal.related_services == ["SVC-001", "SVC-006"]
    assert proposal.proposed_service_manager == "P-013"


@pytest.mark.parametrize(
    "related",
    [[], ["SVC-001"], ["SVC-001", "SVC-001"]],
    ids=["none", "one", "one-twice"],
)
def test_duplication_needs_two_different_related_services(related: list[str]) -> None:
    with pytest.raises(ValidationError, match="at least two related_services"):
        Proposal.model_validate(proposal_data(related_services=related))


@pytest.mark.parametrize("trigger", ["UNMET_NEED_EXTERNAL", "UNMET_NEED_INTERNAL"])
def test_unmet_need_proposals_need_no_related_services(trigger: str) -> None:
    proposal = Proposal.model_validate(proposal_data(trigger_type=trigger, related_services=[]))
    assert proposal.related_services == []


def test_a_proposal_needs_at_least_one_need() -> None:
    with pytest.raises(ValidationError, match="proposed_needs"):
        Proposal.model_validate(proposal_data(proposed_needs=[]))


@pytest.mark.parametrize("missing", ["users", "thing", "outcome"])
def test_a_proposed_need_says_who_what_and_why(missing: str) -> None:
    need = {"users": ["resident"], "thing": "to know", "outcome": "so that"}
    need.pop(missing)
    with pytest.raises(ValidationError, match=missing):
        Proposal.model_validate(proposal_data(proposed_needs=[need]))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "P-004"),
        ("trigger_type", "HUNCH"),
        ("signal", "RUMOUR"),
        ("related_services", ["SVC-1", "SVC-006"]),
    ],
)
def test_malformed_proposal_fields_are_rejected(field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=field):
        Proposal.model_validate(proposal_data(**{field: value}))


def test_unknown_proposal_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="budget"):
        Proposal.model_validate(proposal_data(budget=40000))


def test_new_service_input_may_leave_policy_and_directory_to_the_worker(
    proposal: Proposal,
) -> None:
    started = NewServiceInput(proposal=proposal, proposer="P-010")
    assert started.policy is None
    assert started.directory is None


# -- discovery plan -----------------------------------------------------------------------------


def test_the_example_plan_has_its_window_before_the_end() -> None:
    plan = DiscoveryPlan.model_validate(artefact("discovery-plan.yaml"))
    assert plan.assessment_window_start is not None
    assert plan.assessment_window_start <= plan.target_end


def test_assessment_window_may_start_on_the_target_end() -> None:
    plan = DiscoveryPlan(target_end=date(2027, 1, 29), assessment_window_start=date(2027, 1, 29))
    assert plan.assessment_window_start == plan.target_end


def test_assessment_window_is_optional() -> None:
    assert DiscoveryPlan(target_end=date(2027, 1, 29)).assessment_window_start is None


def test_assessment_window_after_the_target_end_is_rejected() -> None:
    with pytest.raises(ValidationError, match="must not be after target_end"):
        DiscoveryPlan(target_end=date(2027, 1, 29), assessment_window_start=date(2027, 1, 30))


# -- commands -----------------------------------------------------------------------------------


def test_a_decision_strips_whitespace_and_keeps_its_data() -> None:
    decision = Decision.model_validate(
        {
            "decision_id": "d-1",
            "actor": "P-001",
            "trigger": "sm_appointed",
            "reason": "  best placed  ",
            "data": {"person": "P-013"},
        }
    )
    assert decision.reason == "best placed"
    assert decision.data == {"person": "P-013"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("decision_id", "-starts-with-dash"),
        ("decision_id", "x" * 101),
        ("actor", "alison"),
        ("trigger", "Triage-Started"),
        ("reason", ""),
    ],
)
def test_malformed_decisions_are_rejected(field: str, value: str) -> None:
    data = {"decision_id": "d-1", "actor": "P-001", "trigger": "triage_started", field: value}
    with pytest.raises(ValidationError, match=field):
        Decision.model_validate(data)


def test_a_decision_takes_no_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="when"):
        Decision.model_validate(
            {"decision_id": "d-1", "actor": "P-001", "trigger": "triage_started", "when": "now"}
        )


def test_an_artefact_submission_needs_content() -> None:
    with pytest.raises(ValidationError, match="content"):
        ArtefactSubmission.model_validate(
            {"decision_id": "d-1", "actor": "P-013", "kind": "discovery_plan"}
        )


def test_a_routing_decision_needs_a_consultation_note() -> None:
    data = artefact("routing-to-existing.yaml")
    assert RoutingDecision.model_validate(data).consulted_service_manager == "P-010"
    with pytest.raises(ValidationError, match="consultation_note"):
        RoutingDecision.model_validate({**data, "consultation_note": "   "})

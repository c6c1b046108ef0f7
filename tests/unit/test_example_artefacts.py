"""Every example artefact is valid data for the step its first line names, as a person would send
it from the README (so the walkthrough cannot drift from the models)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from models.assessment import (
    AssessmentHeld,
    AssessmentSchedule,
    CriteriaDecisions,
    ReportPublication,
)
from models.coe_actions import ActionCompletion
from models.coe_document import CoeDocument
from models.coe_review import Minutes
from models.contract import BudgetAllocation, ContractCheckpoint
from models.criteria import AssessmentType
from models.lifecycle import ContractAlteration, DecommissionDecision, GateDecision, MetricReport
from models.policy import Policy
from tests.examples import EXAMPLES, artefact

EXAMPLE_MODELS: dict[str, type[BaseModel]] = {
    "assessment-schedule.yaml": AssessmentSchedule,
    "assessment-held.yaml": AssessmentHeld,
    "discovery-exit-decisions.yaml": CriteriaDecisions,
    "discovery-exit-report.yaml": ReportPublication,
    "progress-to-alpha.yaml": GateDecision,
    "contract-for-alpha.yaml": ContractAlteration,
    "contract-for-beta.yaml": ContractAlteration,
    "contract-for-live.yaml": ContractAlteration,
    "alpha-budget.yaml": BudgetAllocation,
    "beta-budget.yaml": BudgetAllocation,
    "live-budget.yaml": BudgetAllocation,
    "second-discovery-budget.yaml": BudgetAllocation,
    "metric-report.yaml": MetricReport,
    "decommission.yaml": DecommissionDecision,
    "coe-document.yaml": CoeDocument,
    "coe-near-miss.yaml": CoeDocument,
    "action-completed.yaml": ActionCompletion,
    "action-a2-completed.yaml": ActionCompletion,
    "review-minutes.yaml": Minutes,
}


@pytest.mark.parametrize("name", sorted(EXAMPLE_MODELS))
def test_example_is_valid_for_its_step(name: str) -> None:
    EXAMPLE_MODELS[name].model_validate(artefact(name))


def test_every_later_example_is_checked() -> None:
    files = {p.name for p in (EXAMPLES / "artefacts").glob("*.yaml")}
    establishment = {
        "service-contract.yaml",
        "sm-appointment.yaml",
        "discovery-budget.yaml",
        "discovery-plan.yaml",
        "routing-to-existing.yaml",
    }
    assert files - establishment == set(EXAMPLE_MODELS)


@pytest.mark.parametrize(
    ("name", "checkpoint"),
    [
        ("contract-for-alpha.yaml", ContractCheckpoint.ALPHA),
        ("contract-for-beta.yaml", ContractCheckpoint.BETA),
        ("contract-for-live.yaml", ContractCheckpoint.LIVE),
    ],
)
def test_each_contract_example_is_complete_for_its_phase(
    name: str, checkpoint: ContractCheckpoint
) -> None:
    alteration = ContractAlteration.model_validate(artefact(name))
    assert alteration.contract.missing_for(checkpoint) == []


def test_the_discovery_decisions_cover_the_policys_discovery_criteria() -> None:

    decided = [
        c.code
        for c in CriteriaDecisions.model_validate(
            artefact("discovery-exit-decisions.yaml")
        ).criteria
    ]
    assert tuple(decided) == Policy().assessment.criteria[AssessmentType.DISCOVERY_EXIT]


def test_examples_sent_with_osom_submit_name_an_artefact_kind_of_a_process() -> None:
    from osom.docs import DEFINITIONS
    from tests.examples import load_yaml

    kinds = {a.kind for d in DEFINITIONS for a in d.artefacts}
    named = {p.name: load_yaml(p).get("kind") for p in (EXAMPLES / "artefacts").glob("*.yaml")}
    assert named["metric-report.yaml"] == "metric_report"
    assert named["coe-document.yaml"] == named["coe-near-miss.yaml"] == "coe_document"
    assert {kind for kind in named.values() if kind} <= kinds

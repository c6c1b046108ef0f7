"""Lifecycle and assessment commands on a real server: gates, the funding gap, onboarding, and
every refusal the issue names, each leaving the case exactly as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from models.assessment import AssessmentOutcome
from models.commands import ArtefactRef
from models.contract import BudgetAllocation
from models.criteria import AssessmentType
from models.errors import (
    ArtefactsMissing,
    GuardFailed,
    InvalidArtefact,
    NotAuthorised,
)
from models.lifecycle import LifecycleInput
from osom import cases
from tests.examples import artefact
from tests.workflows.conftest import Engine
from tests.workflows.driver import assert_refused_unchanged
from tests.workflows.services import (
    contract_for,
    decisions,
    established_service,
    onboarded_service,
)
from workflows import LifecycleWorkflow
from workflows._clock import add_working_days


def svc(unique: str) -> str:
    return f"SVC-{unique}"


async def test_onboarding_a_live_service_starts_it_live_with_its_reassessment_planned(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, svc(unique), "LIVE")

    status = await service.status()
    assert status.state == "LIVE"
    assert status.facts["Onboarded"] == "existing service (L2)"
    assert status.artefacts["service_contract"].version == 1
    started = (await service.audit_log())[0]
    assert (started.command, started.actor) == ("existing_service_onboarded", "P-001")
    assert status.next_assessment_due is not None
    assert timedelta(days=180) <= status.next_assessment_due - started.at <= timedelta(days=185)
    assert "Open assessments" not in status.facts  # no gate for a live service


async def test_onboarding_needs_the_executive(engine: Engine, unique: str) -> None:
    with pytest.raises(NotAuthorised, match="onboard an existing service"):
        await onboarded_service(engine, svc(unique), "BETA", actor="P-013")
    # a refused start can be sent again, by someone allowed to
    service = await onboarded_service(engine, svc(unique), "BETA")
    assert (await service.status()).state == "BETA"


async def test_a_progress_decision_waits_for_the_budget_and_escalates_the_funding_gap(
    engine: Engine, unique: str
) -> None:
    service = await established_service(engine, unique)
    assessment = await service.next_assessment(AssessmentType.DISCOVERY_EXIT)
    report = await assessment.run_through("PROGRESS_TO_ALPHA")
    await service.alter_contract("contract-for-alpha.yaml")

    result = await service.decide("progress_to_alpha", "P-001", data={"report": report})
    assert result.to_state == "DISCOVERY"
    assert "ALPHA budget" in result.message
    status = await service.status()
    assert status.pending is not None
    assert "progress_to_alpha approved by P-001" in status.pending
    gap = next(d for d in status.deadlines if d.label.startswith("Next phase's budget"))
    approved_at = await service.now()
    assert gap.due_at == add_working_days(approved_at, 10)

    # The same approval again is refused while it waits.
    await assert_refused_unchanged(
        service,
        GuardFailed,
        lambda: service.decide("progress_to_alpha", "P-001", data={"report": report}),
    )

    # Ten working days on, the Executive hears about the gap.
    await service.skip(gap.due_at - approved_at + timedelta(minutes=1))
    notes = await engine.outbox_once(
        service, lambda ns: any(n.kind == "escalation" and "budget" in n.subject for n in ns)
    )
    escalation = next(n for n in notes if n.kind == "escalation")
    assert escalation.to == ["P-001"]

    # The budget arrives: the held decision applies at once, recorded as the engine's.
    result = await service.decide("budget_changed", "P-002", data=artefact("alpha-budget.yaml"))
    status = await service.status()
    assert status.state == "ALPHA"
    assert status.pending is None
    moved = [e for e in await service.audit_log() if e.command == "progress_to_alpha"]
    assert [(e.outcome, e.to_state) for e in moved] == [
        ("accepted", "DISCOVERY"),
        ("system", "ALPHA"),
    ]
    assert all(not d.label.startswith("Next phase's budget") for d in status.deadlines)


async def test_gate_decisions_need_the_right_published_report(engine: Engine, unique: str) -> None:
    service = await onboarded_service(engine, svc(unique), "ALPHA", "contract-for-beta.yaml")
    assessment = await service.next_assessment(AssessmentType.ALPHA_EXIT)
    report = await assessment.run_through("PROGRESS_TO_BETA")
    budget = artefact("beta-budget.yaml")

    err = await assert_refused_unchanged(
        service, InvalidArtefact, lambda: service.decide("progress_to_beta", "P-001", data={})
    )
    assert "report" in err.message
    err = await assert_refused_unchanged(
        service,
        GuardFailed,
        lambda: service.decide(
            "progress_to_beta", "P-001", data={"report": "SVC-001-A01", "budget": budget}
        ),
    )
    assert f"about SVC-001, not {service.service_id}" in err.message
    err = await assert_refused_unchanged(
        service,
        GuardFailed,
        lambda: service.decide(
            "alpha_extended", "P-001", data={"report": report, "budget": budget}
        ),
    )
    assert "decided PROGRESS_TO_BETA; this needs UNDETERMINED" in err.message
    assert "ALPHA budget" in err.message

    await service.decide("progress_to_beta", "P-001", data={"report": report, "budget": budget})
    status = await service.status()
    assert status.state == "BETA"
    # The alpha report does not count for the beta gate.
    await assert_refused_unchanged(
        service,
        ArtefactsMissing,
        lambda: service.decide("go_live_approved", "P-001", data={"report": report}),
    )


async def test_go_live_refuses_a_not_met_report(engine: Engine, unique: str) -> None:
    service = await onboarded_service(engine, svc(unique), "BETA")
    await service.report_metrics("2027-09")
    beta = await service.next_assessment(AssessmentType.BETA_EXIT)

    # A report cannot say GO_LIVE when its criteria make it NOT_MET.
    await beta.drafted(not_met=("C5",))
    err = await assert_refused_unchanged(
        beta,
        GuardFailed,
        lambda: beta.decide("report_published", "P-004", data={"lifecycle_decision": "GO_LIVE"}),
    )
    assert "GO_LIVE needs an overall result of MET; this report is NOT_MET" in err.message
    await beta.decide("report_published", "P-004", data={"lifecycle_decision": "CONTINUE_BETA"})
    await service.until(lambda s: "Open assessments" not in s.facts, "report received")
    not_met = beta.assessment_id
    err = await assert_refused_unchanged(
        service,
        GuardFailed,
        lambda: service.decide("go_live_approved", "P-001", data={"report": not_met}),
    )
    assert "moving on needs MET" in err.message


async def test_go_live_refuses_an_incomplete_contract(engine: Engine, unique: str) -> None:
    service = await onboarded_service(engine, svc(unique), "BETA", "contract-for-beta.yaml")
    beta = await service.next_assessment(AssessmentType.BETA_EXIT)
    met = await beta.run_through("GO_LIVE")
    err = await assert_refused_unchanged(
        service,
        ArtefactsMissing,
        lambda: service.decide(
            "go_live_approved",
            "P-001",
            data={"report": met, "budget": artefact("live-budget.yaml")},
        ),
    )
    assert "description.help_route" in err.message
    assert "no reported value for contract measure M-007-1" in err.message


async def test_an_assessor_from_the_services_own_team_is_refused(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, svc(unique), "BETA", "contract-for-beta.yaml")
    beta = await service.next_assessment(AssessmentType.BETA_EXIT)
    data = artefact("assessment-schedule.yaml")
    data["date"] = add_working_days(await beta.now(), 10).isoformat()
    data["panel"].append({"person": "P-013"})

    err = await assert_refused_unchanged(
        beta, GuardFailed, lambda: beta.decide("assessment_scheduled", "P-004", data=data)
    )
    assert "P-013 (Hannah Osei) is on" in err.message


async def test_a_criterion_without_its_comments_is_refused(engine: Engine, unique: str) -> None:
    service = await onboarded_service(engine, svc(unique), "BETA", "contract-for-beta.yaml")
    beta = await service.next_assessment(AssessmentType.BETA_EXIT)
    criteria = await beta.held()
    data = decisions(criteria)
    data["criteria"][0]["to_improve"] = ""

    err = await assert_refused_unchanged(
        beta, InvalidArtefact, lambda: beta.decide("decisions_recorded", "P-003", data=data)
    )
    assert "to_improve" in str(err.details)


async def test_a_backward_move_the_policy_does_not_allow_is_refused(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, svc(unique), "ALPHA", "contract-for-beta.yaml")
    data = {"budget": artefact("second-discovery-budget.yaml")}

    err = await assert_refused_unchanged(
        service,
        GuardFailed,
        lambda: service.decide("returned_to_discovery", "P-001", data=data, reason="rethink"),
    )
    assert "allow_return_to_discovery" in err.message


async def test_only_the_executive_alters_a_contract_the_sm_proposes(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, svc(unique), "LIVE")
    change = artefact("contract-for-live.yaml")
    change["contract"]["service_id"] = service.service_id
    change["contract"]["description"]["overview"] = "Also confirms age for residents' services."

    await assert_refused_unchanged(
        service, NotAuthorised, lambda: service.decide("contract_altered", "P-013", data=change)
    )
    proposal = {"summary": "Add an age check need", "proposed_contract": change["contract"]}
    result = await service.submit_artefact("contract_change_proposal", "P-013", proposal)
    assert result.artefact is not None
    result = await service.decide("contract_altered", "P-001", data=change)
    assert result.artefact is not None
    assert result.artefact.version == 2


async def test_decommissioning_a_service_others_depend_on_needs_an_override(
    engine: Engine,
) -> None:
    # SVC-002 (the hosting platform) is a dependency of SVC-001, SVC-005 and SVC-006.
    service = await onboarded_service(engine, "SVC-002", "LIVE")
    await service.decide(
        "decommissioning_started", "P-001", data=artefact("decommission.yaml"), reason="replaced"
    )

    err = await assert_refused_unchanged(
        service, GuardFailed, lambda: service.decide("decommission_completed", "P-001")
    )
    assert "SVC-001, SVC-005, SVC-006 still depend on SVC-002" in err.message

    await service.decide(
        "decommission_completed",
        "P-001",
        data={"override_dependants": "all three move to the national platform this week"},
    )
    status = await service.status()
    assert status.state == "DECOMMISSIONED"
    assert status.terminal


async def test_a_lifecycle_not_handed_over_by_establishment_must_be_onboarded(
    engine: Engine, unique: str
) -> None:
    contract = contract_for(svc(unique), "LIVE")
    handle = await engine.client.start_workflow(
        LifecycleWorkflow.run,
        LifecycleInput(contract=contract, started_by="P-001"),
        id=f"service/{contract.service_id}",
        task_queue=engine.settings.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, ApplicationError)
    assert failed.value.cause.type == "GuardFailed"
    assert "comes from an establishment case" in failed.value.cause.message


async def test_onboarding_refuses_an_executive_as_service_manager(
    engine: Engine, unique: str
) -> None:
    contract = contract_for(svc(unique), "LIVE").model_copy(update={"service_manager": "P-004"})
    budget = BudgetAllocation.model_validate(artefact("live-budget.yaml"))
    workflow_id = await cases.onboard_service(
        engine.client, contract, "P-001", budget, task_queue=engine.settings.task_queue
    )
    with pytest.raises(GuardFailed, match="is on the Executive"):
        await cases.wait_until_open(engine.client, workflow_id)


async def test_a_forged_assessment_outcome_changes_nothing(engine: Engine, unique: str) -> None:
    service = await onboarded_service(engine, svc(unique), "BETA", "contract-for-beta.yaml")
    beta = await service.next_assessment(AssessmentType.BETA_EXIT)
    folder = f"service/{service.service_id}/assessments"
    elsewhere = f"{folder}/x"  # another case's record (where no closure of beta is)
    records = [
        ArtefactRef(kind="assessment_closure", version=1, sha256="0" * 64, case_id=elsewhere),
        # Where beta keeps its closure, but the record holds no such version.
        ArtefactRef(
            kind="assessment_closure",
            version=1,
            sha256="0" * 64,
            case_id=f"{folder}/{beta.assessment_id}",
        ),
        # A reference from the file store, as an old history carries it.
        ArtefactRef(
            kind="assessment_closure",
            version=1,
            sha256="0" * 64,
            json_path=f"/tmp/{elsewhere}/assessment_closure/v1.json",
            markdown_path="/tmp/x.md",
        ),
    ]
    before = (await service.status(), await service.audit_log())

    for record in records:
        forged = AssessmentOutcome(
            assessment_id=beta.assessment_id,
            service_id=service.service_id,
            state="CANCELLED",
            record=record,
        )
        await service.handle.signal("assessment_concluded", forged)
        await service.settled_history_length()

    assert (await service.status(), await service.audit_log()) == before
    assert beta.assessment_id in before[0].facts["Open assessments"]


async def test_stopping_a_service_whose_assessment_an_operator_ended(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, svc(unique), "BETA", "contract-for-beta.yaml")
    beta = await service.next_assessment(AssessmentType.BETA_EXIT)
    await beta.handle.terminate("operator clean-up")

    await service.decide(
        "decommissioning_started", "P-001", data=artefact("decommission.yaml"), reason="stop"
    )

    status = await service.status()
    assert status.state == "DECOMMISSIONING"
    assert "Open assessments" not in status.facts


async def test_stopping_a_service_cancels_its_open_assessment_as_the_executive(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, svc(unique), "BETA", "contract-for-beta.yaml")
    beta = await service.next_assessment(AssessmentType.BETA_EXIT)

    await service.decide(
        "decommissioning_started", "P-001", data=artefact("decommission.yaml"), reason="stop"
    )

    status = await beta.until(lambda s: s.state == "CANCELLED", "cancelled")
    cancelled = [e for e in await beta.audit_log() if e.command == "assessment_cancelled"]
    assert [(e.actor, e.outcome) for e in cancelled] == [("P-001", "accepted")]
    assert status.terminal
    await beta.handle.result()  # the closure record is written as the assessment ends
    folder = f"service/{service.service_id}/assessments/{beta.assessment_id}"
    closure = engine.artefact(folder, "assessment_closure", 1)
    assert "P-001" in closure.document
    assert closure.content["assessment_id"] == beta.assessment_id


async def test_an_open_assessment_follows_the_services_new_manager_and_contract(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, svc(unique), "LIVE")
    await service.decide("assessment_requested", "P-001", data={"type": "AD_HOC"}, reason="CoE")
    adhoc = await service.next_assessment(AssessmentType.AD_HOC)
    await service.decide(
        "service_manager_replaced", "P-001", data={"person": "P-012"}, reason="moved on"
    )
    change = artefact("contract-for-live.yaml")
    change["contract"]["service_id"] = service.service_id
    change["contract"]["description"]["help_route"] = "identity@fenmoor.example"
    await service.decide("contract_altered", "P-001", data=change)  # v3

    await adhoc.schedule()
    await adhoc.decide("agenda_published", "P-004")

    assert (await adhoc.status()).facts["Contract"] == f"{service.service_id}@v3"
    notes = await engine.outbox_once(adhoc, lambda ns: any("agenda" in n.subject for n in ns))
    agenda = next(n for n in notes if "agenda" in n.subject)
    assert "P-012" in agenda.to
    assert "P-013" not in agenda.to


async def test_lifecycle_commands_from_the_wrong_person_or_with_bad_data_change_nothing(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, svc(unique), "LIVE")

    await assert_refused_unchanged(
        service,
        NotAuthorised,
        lambda: service.decide("budget_changed", "P-013", data=artefact("live-budget.yaml")),
    )
    report = artefact("metric-report.yaml") | {"values": [{"measure_id": "M-999", "value": 1}]}
    err = await assert_refused_unchanged(
        service,
        GuardFailed,
        lambda: service.submit_artefact("metric_report", "P-013", report),
    )
    assert "not contract measures of v1: M-999" in err.message
    await assert_refused_unchanged(
        service,
        GuardFailed,
        lambda: service.decide("mandate_acknowledged", "P-013", data={"id": "MAN-1"}),
    )

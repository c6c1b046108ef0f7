"""Commands on a real server: every refusal names its problem and changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError

from models.commands import ArtefactSubmission, CommandResult, Decision, DirectoryReload
from models.errors import (
    ArtefactsMissing,
    CaseClosed,
    CaseExists,
    DecisionIdReused,
    GuardFailed,
    IllegalTransition,
    InvalidArtefact,
    NotAuthorised,
    PayloadTooLarge,
    UnknownCase,
    UnknownPerson,
)
from models.establishment import NewServiceInput
from models.ids import lifecycle_workflow_id, proposal_workflow_id
from models.people import Directory
from models.policy import Policy
from osom import cases
from tests.examples import WALKTHROUGH_TRAIL, artefact
from tests.workflows.conftest import Engine
from tests.workflows.driver import Case, assert_refused_unchanged, proposal_numbered, start_fails
from workflows import NewServiceWorkflow, _visibility


async def test_walk_to_established_publishes_contract_v1(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.to_ready()
    await case.submit("discovery-plan.yaml", "P-013", "discovery_plan")

    result = await case.decide("service_established", "P-001", reason="go")

    assert result.to_state == "ESTABLISHED"
    ref = result.artefact
    assert ref is not None
    service = lifecycle_workflow_id(case.service_id)  # the contract is the service's
    assert (ref.kind, ref.version, ref.case_id) == ("service_contract", 1, service)
    assert ref.url == (
        f"{engine.settings.public_url}/v1/cases/{service}/artefacts/service_contract/v1"
    )
    stored = engine.artefact(ref.case_id, ref.kind, ref.version)
    assert stored.sha256 == ref.sha256
    published = stored.content
    assert published["version"] == 1
    assert published["lifecycle_stage"] == "DISCOVERY"
    assert published["service_manager"] == "P-013"
    assert published["published_by"] == "P-001"
    assert "Resident Identity Check" in stored.document
    outcome = await case.handle.result()
    assert outcome.state == "ESTABLISHED"
    assert outcome.service_id == case.service_id
    log = await case.audit_log()
    assert [e.command for e in log if e.outcome == "accepted"] == WALKTHROUGH_TRAIL
    last = log[-1]
    assert (last.actor, last.role, last.from_state, last.to_state, last.reason) == (
        "P-001",
        "EXEC",
        "READY_TO_ESTABLISH",
        "ESTABLISHED",
        "go",
    )
    assert last.artefact_versions == {"service_contract": 1, "discovery_plan": 1}


async def test_search_attributes_and_details_follow_the_case(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.to_drafting()

    described = await case.handle.describe()
    attributes = described.typed_search_attributes
    assert attributes.get(_visibility.PROCESS) == "establishment"
    assert attributes.get(_visibility.CASE_ID) == f"PRO-{unique}"
    assert attributes.get(_visibility.STATE) == "CONTRACT_DRAFTING"
    assert "P-001" in (attributes.get(_visibility.AWAITING) or [])
    assert attributes.get(_visibility.NEXT_DEADLINE) is not None
    summary = await described.static_summary()
    assert summary is not None
    assert f"PRO-{unique}" in summary
    metadata = await case.handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    assert "`CONTRACT_DRAFTING`" in metadata.current_details
    assert "service contract draft" in metadata.current_details


async def test_etm_without_delegation_is_refused(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    err = await assert_refused_unchanged(
        case, NotAuthorised, lambda: case.decide("triage_started", "P-003")
    )
    assert "assessment_panel" in err.message
    assert "triage_demand" in err.message


async def test_unknown_person_is_refused(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await assert_refused_unchanged(
        case, UnknownPerson, lambda: case.decide("triage_started", "P-999")
    )


async def test_illegal_trigger_for_the_state_is_refused(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    err = await assert_refused_unchanged(
        case, IllegalTransition, lambda: case.decide("service_established", "P-001")
    )
    assert "PROPOSED" in err.message
    assert "triage_started" in err.message


async def test_unknown_trigger_is_refused(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await assert_refused_unchanged(case, IllegalTransition, lambda: case.decide("launch", "P-001"))


async def test_missing_artefacts_are_listed(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.to_drafting()
    err = await assert_refused_unchanged(
        case, ArtefactsMissing, lambda: case.decide("draft_completed", "P-001")
    )
    missing = err.details["missing"]
    assert len(missing) == 3
    assert any("service_contract" in m for m in missing)
    assert any("Service Manager" in m for m in missing)
    assert any("discovery budget" in m for m in missing)


async def test_incomplete_contract_lists_each_missing_field(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.to_drafting()
    draft = artefact("service-contract.yaml")
    del draft["expected_support"]
    draft["description"] = {}
    await case.decide("sm_appointed", "P-001", data=artefact("sm-appointment.yaml"))
    await cases.submit(engine.client, case.workflow_id, _submission(draft))
    await case.decide("discovery_budget_allocated", "P-002", data=artefact("discovery-budget.yaml"))

    err = await assert_refused_unchanged(
        case, ArtefactsMissing, lambda: case.decide("draft_completed", "P-013")
    )
    assert err.details["missing"] == [
        "service contract draft: description.overview",
        "service contract draft: expected_support",
    ]


async def test_invalid_artefact_gets_field_level_messages(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.to_drafting()
    draft = artefact("service-contract.yaml")
    draft["service_id"] = "SVC-7"
    draft["metrics"][0]["direction"] = "sideways"
    err = await assert_refused_unchanged(
        case,
        InvalidArtefact,
        lambda: cases.submit(engine.client, case.workflow_id, _submission(draft)),
    )
    fields = {e["field"] for e in err.details["errors"]}
    assert fields == {"service_id", "metrics.0.direction"}


async def test_oversized_artefact_is_refused(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.to_drafting()
    draft = artefact("service-contract.yaml")
    draft["description"]["overview"] = "x" * 70_000
    await assert_refused_unchanged(
        case,
        PayloadTooLarge,
        lambda: cases.submit(engine.client, case.workflow_id, _submission(draft)),
    )


async def test_invalid_decision_data_is_refused(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.to_drafting()
    budget = artefact("discovery-budget.yaml") | {"amount_gbp": 0}
    err = await assert_refused_unchanged(
        case,
        InvalidArtefact,
        lambda: case.decide("discovery_budget_allocated", "P-002", data=budget),
    )
    assert err.details["errors"][0]["field"] == "amount_gbp"


async def test_guard_refuses_a_conflicted_service_manager(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.to_drafting()
    err = await assert_refused_unchanged(
        case, GuardFailed, lambda: case.decide("sm_appointed", "P-001", data={"person": "P-004"})
    )
    assert "Executive" in err.message


async def test_decline_needs_a_reason(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.decide("triage_started", "P-001")
    await assert_refused_unchanged(
        case, GuardFailed, lambda: case.decide("proposal_declined", "P-001")
    )
    result = await case.decide("proposal_declined", "P-001", reason="out of scope")
    assert result.to_state == "DECLINED"
    assert (await case.handle.result()).state == "DECLINED"


async def test_routing_to_an_existing_service_checks_the_target(
    engine: Engine, unique: str
) -> None:
    case = await Case.start(engine, unique)
    await case.decide("triage_started", "P-002")
    routing = artefact("routing-to-existing.yaml")
    wrong_sm = routing | {"consulted_service_manager": "P-011"}
    err = await assert_refused_unchanged(
        case,
        GuardFailed,
        lambda: case.decide("routed_to_existing_service", "P-001", data=wrong_sm, reason="fits"),
    )
    assert "P-010" in err.message
    result = await case.decide("routed_to_existing_service", "P-001", data=routing, reason="fits")
    assert result.to_state == "ROUTED_TO_EXISTING"
    await case.handle.result()  # a finished case has sent its notifications
    to_target = [n for n in engine.outbox_for(case) if n.to == ["P-010"]]
    assert to_target, "the target service's Service Manager is told"


async def test_only_the_proposer_or_executive_withdraws(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique, proposer="P-015")
    await assert_refused_unchanged(
        case, NotAuthorised, lambda: case.decide("proposal_withdrawn", "P-010", reason="no")
    )
    result = await case.decide("proposal_withdrawn", "P-015", reason="solved elsewhere")
    assert result.to_state == "WITHDRAWN"


async def test_commands_after_the_end_are_refused(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.decide("proposal_withdrawn", "P-001", reason="duplicate of PRO-004")
    await case.handle.result()
    with pytest.raises(CaseClosed):
        await case.decide("triage_started", "P-001")


async def test_unknown_workflow_is_refused(engine: Engine) -> None:
    decision = Decision(decision_id="d-1", trigger="triage_started", actor="P-001")
    with pytest.raises(UnknownCase):
        await cases.decide(engine.client, "new-service/PRO-000000", decision)
    with pytest.raises(UnknownCase):
        await cases.status(engine.client, "new-service/PRO-000000")


async def test_duplicate_decision_id_is_applied_once(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    first = await case.decide("triage_started", "P-002", decision_id="same-1")
    entries = len(await case.audit_log())

    again = await case.decide("triage_started", "P-002", decision_id="same-1")

    assert again.replayed
    assert not first.replayed
    assert again.model_dump(exclude={"replayed"}) == first.model_dump(exclude={"replayed"})
    assert len(await case.audit_log()) == entries
    assert (await case.status()).state == "IN_TRIAGE"


async def test_a_refused_signal_changes_nothing_and_is_logged(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    decision = Decision(decision_id="sig-1", trigger="triage_started", actor="P-003")

    await cases.send_decision_signal(engine.client, case.workflow_id, decision)

    log = await case.audit_until(lambda log: log[-1].outcome == "refused")
    assert log[-1].error_type == "NotAuthorised"
    assert log[-1].decision_id == "sig-1"
    assert (await case.status()).state == "PROPOSED"


async def test_an_accepted_signal_moves_the_case(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    decision = Decision(decision_id="sig-2", trigger="triage_started", actor="P-002")

    await cases.send_decision_signal(engine.client, case.workflow_id, decision)

    log = await case.audit_until(lambda log: log[-1].command == "triage_started")
    assert log[-1].outcome == "accepted"
    assert (await case.status()).state == "IN_TRIAGE"


async def test_concurrent_duplicates_apply_once(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    results = await asyncio.gather(
        case.decide("triage_started", "P-001"),
        case.decide("triage_started", "P-002"),
        return_exceptions=True,
    )
    applied = [r for r in results if isinstance(r, CommandResult)]
    refused = [r for r in results if isinstance(r, IllegalTransition)]
    assert len(applied) == 1
    assert len(refused) == 1
    accepted = [e for e in await case.audit_log() if e.command == "triage_started"]
    assert len(accepted) == 1


async def test_unknown_proposer_fails_the_case_clearly(engine: Engine, unique: str) -> None:
    workflow_id = await cases.start_new_service(
        engine.client, proposal_numbered(unique), "P-999", engine.settings.task_queue
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await engine.client.get_workflow_handle(workflow_id).result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "UnknownPerson"


def _submission(content: dict[str, Any]) -> ArtefactSubmission:
    return ArtefactSubmission(
        decision_id=uuid.uuid4().hex, actor="P-001", kind="service_contract", content=content
    )


async def test_a_reloaded_directory_applies_to_the_running_case(
    engine: Engine, unique: str, tmp_path: Path
) -> None:
    case = await Case.start(engine, unique)
    await assert_refused_unchanged(
        case, NotAuthorised, lambda: case.decide("triage_started", "P-003")
    )
    directory_file = engine.settings.directory_path
    original = directory_file.read_text(encoding="utf-8")
    delegated = original.replace(
        "delegations: [assessment_panel],", "delegations: [assessment_panel, triage_demand],"
    )
    assert delegated != original
    reload = DirectoryReload(decision_id=uuid.uuid4().hex, actor="P-001", reason="P-003 triages")
    directory_file.write_text(delegated, encoding="utf-8")
    try:
        result = await cases.reload_directory(engine.client, case.workflow_id, reload)
    finally:
        directory_file.write_text(original, encoding="utf-8")

    assert result.command == "reload_directory"
    applied = await case.decide("triage_started", "P-003")
    assert applied.to_state == "IN_TRIAGE"
    assert (await case.audit_log())[-2].command == "reload_directory"


async def test_only_the_executive_reloads_the_directory(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    reload = DirectoryReload(decision_id=uuid.uuid4().hex, actor="P-013")
    await assert_refused_unchanged(
        case, NotAuthorised, lambda: cases.reload_directory(engine.client, case.workflow_id, reload)
    )


async def test_a_decision_id_reused_for_another_command_is_refused(
    engine: Engine, unique: str
) -> None:
    case = await Case.start(engine, unique)
    await case.decide("triage_started", "P-002", decision_id="reuse-1")
    err = await assert_refused_unchanged(
        case,
        DecisionIdReused,
        lambda: case.decide("proposal_approved", "P-001", decision_id="reuse-1"),
    )
    assert "triage_started" in err.message


async def test_a_case_started_like_the_web_ui_form_is_findable(engine: Engine, unique: str) -> None:
    """The Start Workflow form sends only type, id, queue and JSON input: no search attributes."""
    workflow_id = proposal_workflow_id(f"PRO-{unique}")
    handle = await engine.client.start_workflow(
        "NewService",
        {"proposal": proposal_numbered(unique).model_dump(mode="json"), "proposer": "P-015"},
        id=workflow_id,
        task_queue=engine.settings.task_queue,
    )
    case = Case(engine, handle.id)
    await case.wait_until_started()

    attributes = (await case.handle.describe()).typed_search_attributes
    assert attributes.get(_visibility.PROCESS) == "establishment"
    assert attributes.get(_visibility.CASE_ID) == f"PRO-{unique}"
    assert attributes.get(_visibility.STATE) == "PROPOSED"


async def test_a_refused_demand_fails_the_start_and_the_id_can_be_raised_again(
    engine: Engine, unique: str
) -> None:
    proposal = proposal_numbered(unique)
    wrong = proposal.model_copy(update={"related_services": ["SVC-404", "SVC-001"]})
    workflow_id = await cases.start_new_service(
        engine.client, wrong, "P-015", engine.settings.task_queue
    )
    with pytest.raises(GuardFailed, match="SVC-404"):
        await cases.wait_until_open(engine.client, workflow_id)

    await cases.start_new_service(engine.client, proposal, "P-015", engine.settings.task_queue)
    opened = await cases.wait_until_open(engine.client, workflow_id)
    assert opened is not None
    assert opened.state == "PROPOSED"


async def test_a_proposal_id_that_ended_is_not_raised_again(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.decide("proposal_withdrawn", "P-015", reason="duplicate")
    await case.handle.result()
    with pytest.raises(CaseExists):
        await cases.start_new_service(
            engine.client, proposal_numbered(unique), "P-015", engine.settings.task_queue
        )


async def test_a_malformed_signal_is_recorded_as_refused(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    bad = {"decision_id": "sig-bad", "trigger": "triage_started", "actor": "alice"}
    await case.handle.signal("decide_signal", bad)

    log = await case.audit_until(lambda log: log[-1].outcome == "refused")
    assert log[-1].error_type == "InvalidArtefact"
    assert log[-1].decision_id == "sig-bad"
    assert (await case.status()).state == "PROPOSED"


async def test_a_draft_that_claims_to_be_published_is_refused(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.to_drafting()
    draft = artefact("service-contract.yaml") | {"version": 3, "published_by": "P-001"}
    err = await assert_refused_unchanged(
        case,
        GuardFailed,
        lambda: cases.submit(engine.client, case.workflow_id, _submission(draft)),
    )
    assert "version, published_by" in err.message


async def test_a_web_ui_start_with_invalid_input_fails_with_field_messages(
    engine: Engine, unique: str
) -> None:
    handle = await engine.client.start_workflow(
        "NewService",
        {"proposal": proposal_numbered(unique).model_dump(mode="json"), "proposer": "bob"},
        id=proposal_workflow_id(f"PRO-{unique}"),
        task_queue=engine.settings.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert "proposer" in str(failed.value.cause)


async def test_a_case_id_that_does_not_match_the_proposal_fails(
    engine: Engine, unique: str
) -> None:
    proposal = proposal_numbered(unique)
    start = {"proposal": proposal.model_dump(mode="json"), "proposer": "P-015"}
    cause = await start_fails(engine, "NewService", start, f"my case {unique}")
    assert cause.type == "GuardFailed"
    assert f"new-service/{proposal.id}, not my case {unique}" in cause.message


async def test_a_decision_id_repeated_with_other_data_is_refused(
    engine: Engine, unique: str
) -> None:
    case = await Case.start(engine, unique)
    await case.to_drafting()
    await case.decide("sm_appointed", "P-001", data={"person": "P-013"}, decision_id="appoint-1")
    err = await assert_refused_unchanged(
        case,
        DecisionIdReused,
        lambda: case.decide(
            "sm_appointed", "P-001", data={"person": "P-014"}, decision_id="appoint-1"
        ),
    )
    assert "different command" in err.message


async def start_with_signal(
    engine: Engine, unique: str, proposer: str, directory: Directory, policy: Policy
) -> WorkflowHandle[NewServiceWorkflow, Any]:
    """Signal-with-start: the signal arrives in the case's first activation, before ``run``."""
    decision = Decision(decision_id="with-start", trigger="triage_started", actor="P-002")
    start = NewServiceInput(
        proposal=proposal_numbered(unique), proposer=proposer, policy=policy, directory=directory
    )
    return await engine.client.start_workflow(
        NewServiceWorkflow.run,
        start,
        id=proposal_workflow_id(f"PRO-{unique}"),
        task_queue=engine.settings.task_queue,
        start_signal="decide_signal",
        start_signal_args=[decision.model_dump(mode="json")],
    )


async def test_commands_sent_with_the_start_wait_for_the_demand_to_be_accepted(
    engine: Engine, unique: str, directory: Directory, policy: Policy
) -> None:
    handle = await start_with_signal(engine, unique, "P-015", directory, policy)
    case = Case(engine, handle.id)
    log = await case.audit_until(lambda log: any(e.command == "triage_started" for e in log))
    assert [e.command for e in log[:2]] == ["demand_raised", "triage_started"]


async def test_commands_to_a_case_refused_at_its_start_change_nothing(
    engine: Engine, unique: str, directory: Directory, policy: Policy
) -> None:
    handle = await start_with_signal(engine, unique, "P-999", directory, policy)
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert await handle.query(NewServiceWorkflow.audit_log) == []

"""Recorded histories replay against today's workflow code (DESIGN §4.7).

A change that would break a running case (non-determinism) fails here. Histories of every
released definition version live in tests/replay/histories; to add the current version's, run
``OSOM_RECORD_HISTORIES=tests/replay/histories make test`` and commit the new files (existing
files are never overwritten: they are the histories of running cases of released versions).
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from models.commands import Decision
from models.criteria import AssessmentType
from osom import cases
from tests.examples import artefact
from tests.workflows.coes import Coe, Session
from tests.workflows.conftest import Engine
from tests.workflows.driver import Case, Tracked
from tests.workflows.services import established_service, onboarded_service
from worker import workflow_runner
from workflows import WORKFLOWS
from workflows.assessment.definition import ASSESSMENT
from workflows.coe_review.definition import COE_REVIEW
from workflows.correction_of_errors.definition import COE
from workflows.establishment.definition import ESTABLISHMENT
from workflows.lifecycle.definition import LIFECYCLE

STORED = Path(__file__).resolve().parents[1] / "replay" / "histories"


def replayer() -> Replayer:
    return Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )


async def record(case: Tracked, name: str) -> WorkflowHistory:
    history = await case.handle.fetch_history()
    target = os.environ.get("OSOM_RECORD_HISTORIES")
    path = Path(target or ".", f"{name}.json")
    # A released version's history is kept as recorded: only new names are written.
    if target and not path.exists():
        stored = {"workflow_id": history.workflow_id, "history": json.loads(history.to_json())}
        path.write_text(json.dumps(stored), encoding="utf-8")
    return history


@pytest.mark.parametrize("path", sorted(STORED.glob("*.json")), ids=lambda p: p.stem)
async def test_stored_history_replays(path: Path) -> None:
    stored = json.loads(path.read_text(encoding="utf-8"))
    history = WorkflowHistory.from_json(stored["workflow_id"], stored["history"])
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None


def test_histories_are_stored() -> None:
    assert sorted(p.stem for p in STORED.glob("*.json")), "record histories (see module docstring)"


async def test_a_full_journey_replays(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await engine.env.fast_forward(case.handle, timedelta(days=8))
    await cases.send_decision_signal(
        engine.client,
        case.workflow_id,
        Decision(decision_id="refused-signal", trigger="draft_completed", actor="P-001"),
    )
    await case.to_ready()
    await case.submit("discovery-plan.yaml", "P-013", "discovery_plan")
    await case.decide("service_established", "P-001", reason="go", decision_id="final")
    await case.decide("service_established", "P-001", reason="go", decision_id="final")
    await case.handle.result()

    history = await record(case, f"establishment-v{ESTABLISHMENT.version}-established")
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None


async def test_a_withdrawn_case_replays(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.decide("triage_started", "P-002")
    await engine.env.fast_forward(case.handle, timedelta(days=30))
    await case.decide("proposal_withdrawn", "P-015", reason="solved elsewhere")
    await case.handle.result()

    history = await record(case, f"establishment-v{ESTABLISHMENT.version}-escalated-withdrawn")
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None


async def test_a_service_from_beta_to_decommissioned_and_its_assessment_replay(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, f"SVC-{unique}", "BETA")
    await service.report_metrics("2027-09")
    beta = await service.next_assessment(AssessmentType.BETA_EXIT)
    report = await beta.run_through("GO_LIVE")
    await service.decide("go_live_approved", "P-001", data={"report": report})
    await service.skip(timedelta(days=40))  # a metric check fires
    await service.decide(
        "decommissioning_started", "P-001", data=artefact("decommission.yaml"), reason="replaced"
    )
    await service.decide("decommission_completed", "P-001")
    await service.handle.result()
    await beta.handle.result()

    for case, name in (
        (service, f"lifecycle-v{LIFECYCLE.version}-beta-to-decommissioned"),
        (beta, f"assessment-v{ASSESSMENT.version}-published"),
    ):
        result = await replayer().replay_workflow(await record(case, name))
        assert result.replay_failure is None


async def test_a_held_progress_decision_replays(engine: Engine, unique: str) -> None:
    service = await established_service(engine, unique)
    discovery = await service.next_assessment(AssessmentType.DISCOVERY_EXIT)
    report = await discovery.run_through("PROGRESS_TO_ALPHA")
    await service.alter_contract("contract-for-alpha.yaml")
    await service.decide("progress_to_alpha", "P-001", data={"report": report})
    await service.skip(timedelta(days=15))  # the funding gap escalates
    await service.decide("budget_changed", "P-002", data=artefact("alpha-budget.yaml"))
    await service.decide(
        "decommission_decided", "P-001", data=artefact("decommission.yaml"), reason="stop"
    )
    await service.handle.result()

    history = await record(service, f"lifecycle-v{LIFECYCLE.version}-funding-gap-stopped")
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None


async def test_a_coe_its_review_and_its_services_gate_hold_replay(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, f"SVC-{unique}", "LIVE")
    coe = await Coe.open(engine, f"COE-R{unique}", service.service_id, manager="P-013")
    await coe.write(await coe.document(due_in_days=(40, 1)))
    await coe.publish()
    await coe.skip(timedelta(days=20))  # A-2 overdue, then escalated
    await service.skip(timedelta(days=20))  # ... and holding the service's gates
    await service.until(lambda s: s.recent[-1].command == "gate_held_by_action", "held")
    await coe.in_the_pool()
    session = await Session.start(engine, f"replay-{unique}", services=(service.service_id,))
    await session.skip(timedelta(days=5))
    await session.decide("session_held", "P-004")
    minute = {"coe_id": coe.coe_id, "outcome": "reviewed", "outputs": [{"kind": "none"}]}
    await session.decide("minutes_recorded", "P-004", data={"items": [minute]})
    await coe.until(lambda s: s.state == "REVIEWED", "reviewed")
    await coe.complete("A-1", "P-011")
    await coe.complete("A-2", "P-020")
    await coe.decide("closure_requested", "P-013")
    await coe.decide("coe_closed", "P-001")
    await coe.skip(timedelta(days=91))  # the reopen window ends: archived
    assert (await coe.handle.result())["state"] == "ARCHIVED"
    await service.until(lambda s: "Open corrective actions" not in s.facts, "actions done")
    await service.decide(
        "decommissioning_started", "P-001", data=artefact("decommission.yaml"), reason="replaced"
    )
    await service.decide("decommission_completed", "P-001")
    await service.handle.result()

    for case, name in (
        (coe, f"coe-v{COE.version}-reviewed-archived"),
        (session, f"coe-review-v{COE_REVIEW.version}-minuted"),
        (service, f"lifecycle-v{LIFECYCLE.version}-gate-held-by-coe"),
    ):
        result = await replayer().replay_workflow(await record(case, name))
        assert result.replay_failure is None

"""Recorded histories replay against today's workflow code (DESIGN §4.7).

A change that would break a running case (non-determinism) fails here. Histories of every
released definition version live in tests/replay/histories; to add the current version's, run
``OSOM_RECORD_HISTORIES=tests/replay/histories make test`` and commit the new files.
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
from osom import cases
from tests.workflows.conftest import Engine
from tests.workflows.driver import Case
from worker import workflow_runner
from workflows import WORKFLOWS

STORED = Path(__file__).resolve().parents[1] / "replay" / "histories"


def replayer() -> Replayer:
    return Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )


async def record(case: Case, name: str) -> WorkflowHistory:
    history = await case.handle.fetch_history()
    target = os.environ.get("OSOM_RECORD_HISTORIES")
    if target:
        stored = {"workflow_id": history.workflow_id, "history": json.loads(history.to_json())}
        Path(target, f"{name}.json").write_text(json.dumps(stored), encoding="utf-8")
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

    history = await record(case, "establishment-v1-established")
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None


async def test_a_withdrawn_case_replays(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.decide("triage_started", "P-002")
    await engine.env.fast_forward(case.handle, timedelta(days=30))
    await case.decide("proposal_withdrawn", "P-015", reason="solved elsewhere")
    await case.handle.result()

    history = await record(case, "establishment-v1-escalated-withdrawn")
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None

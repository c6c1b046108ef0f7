"""Commands sent while no worker runs: kept, and applied in the order they reached the case."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateStage

from models.commands import CommandResult, Decision
from models.errors import CaseClosed, CommandQueued, UnknownCase
from osom import cases
from osom.settings import Settings
from tests.workflows.conftest import Engine
from tests.workflows.driver import Case
from worker import ACTIVITY_THREADS, build_worker


@asynccontextmanager
async def worker_on(engine: Engine, settings: Settings) -> AsyncIterator[None]:
    """A worker on ``settings``' task queue, on the session's record (as every worker of a
    deployment shares one)."""
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(engine.client, settings, executor, engine.record)
        task = asyncio.create_task(worker.run())
        try:
            yield
        finally:
            await worker.shutdown()
            await task


@pytest.fixture
def own_queue(engine: Engine) -> Engine:
    """The session's engine on a task queue of its own, whose worker the test starts and stops."""
    settings = dataclasses.replace(engine.settings, task_queue=f"down-{uuid.uuid4().hex[:6]}")
    return Engine(env=engine.env, client=engine.client, settings=settings, record=engine.record)


async def recorded_audit(engine: Engine, case_id: str, expected: int) -> list[dict[str, Any]]:
    """The case's audit entries in the record once it holds ``expected`` of them."""
    for _ in range(100):
        entries = engine.record.audit(case_id)
        if len(entries) >= expected:
            return entries
        await asyncio.sleep(0.05)
    return engine.record.audit(case_id)


def _decision(trigger: str, actor: str = "P-001") -> Decision:
    return Decision(decision_id=f"{trigger}-{uuid.uuid4().hex[:6]}", trigger=trigger, actor=actor)


async def _admit_update(case: Case, decision: Decision) -> asyncio.Task[CommandResult]:
    """An update sent while no worker runs: the server admits it and waits for a worker. The
    sender keeps waiting for the answer (one that gives up may lose an update the server only
    admitted: the README says so, and our front doors fall back to a signal)."""
    waiting = asyncio.create_task(
        case.handle.execute_update("decide", decision, result_type=CommandResult)
    )
    await asyncio.sleep(1.0)  # admitted before the next one is sent
    return waiting


async def test_updates_queued_while_no_worker_runs_apply_in_order(
    own_queue: Engine, unique: str
) -> None:
    async with worker_on(own_queue, own_queue.settings):
        case = await Case.start(own_queue, unique)
    first, second = _decision("triage_started"), _decision("proposal_approved")
    answers = [await _admit_update(case, first), await _admit_update(case, second)]

    async with worker_on(own_queue, own_queue.settings):
        results = await asyncio.gather(*answers)
        log = await case.audit_until(lambda log: len(log) >= 3)
        status = await case.status()

    assert [r.to_state for r in results] == ["IN_TRIAGE", "APPROVED"]

    moves = [(e.decision_id, e.outcome, e.from_state, e.to_state) for e in log[1:]]
    assert moves == [
        (first.decision_id, "accepted", "PROPOSED", "IN_TRIAGE"),
        (second.decision_id, "accepted", "IN_TRIAGE", "APPROVED"),
    ]
    assert status.state == "APPROVED"


async def test_signals_queued_while_no_worker_runs_apply_in_order(
    own_queue: Engine, unique: str
) -> None:
    async with worker_on(own_queue, own_queue.settings):
        case = await Case.start(own_queue, unique)
    sent = [_decision(t) for t in ("triage_started", "proposal_approved", "drafting_started")]
    for decision in sent:
        await cases.send_decision_signal(own_queue.client, case.workflow_id, decision)

    async with worker_on(own_queue, own_queue.settings):
        log = await case.audit_until(lambda log: len(log) >= 4)
        recorded = await recorded_audit(own_queue, case.workflow_id, len(log))

    assert [(e.decision_id, e.outcome) for e in log[1:]] == [
        (d.decision_id, "accepted") for d in sent
    ]
    # The record holds each entry once, in the same order, chained.
    assert recorded == [e.model_dump(mode="json") for e in log]
    assert own_queue.record.verify(case.workflow_id).intact


async def test_a_command_no_worker_takes_is_kept_as_a_signal_and_applied_once(
    own_queue: Engine, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cases, "ACCEPT_WAIT", timedelta(seconds=1))
    async with worker_on(own_queue, own_queue.settings):
        case = await Case.start(own_queue, unique)
    decision = _decision("triage_started")

    with pytest.raises(CommandQueued) as queued:
        await cases.decide(own_queue.client, case.workflow_id, decision)
    assert queued.value.details["decision_id"] == decision.decision_id
    assert decision.decision_id in queued.value.message

    async with worker_on(own_queue, own_queue.settings):
        log = await case.audit_until(lambda log: len(log) >= 2)
        again = await cases.decide(own_queue.client, case.workflow_id, decision)
        final_log = await case.audit_log()

    assert (log[-1].decision_id, log[-1].to_state) == (decision.decision_id, "IN_TRIAGE")
    assert again.replayed
    assert again.to_state == "IN_TRIAGE"
    assert [e.decision_id for e in final_log].count(decision.decision_id) == 1


async def test_an_accepted_update_survives_without_its_sender(
    own_queue: Engine, unique: str
) -> None:
    """Once a worker has accepted an update it is in history: a sender that stops waiting
    loses nothing."""
    async with worker_on(own_queue, own_queue.settings):
        case = await Case.start(own_queue, unique)
        decision = _decision("triage_started")
        started = await case.handle.start_update(
            "decide", decision, wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
        del started
        log = await case.audit_until(lambda log: len(log) >= 2)
    assert log[-1].decision_id == decision.decision_id


async def test_losers_of_a_race_to_close_a_case_are_told_it_closed(
    engine: Engine, unique: str
) -> None:
    case = await Case.start(engine, unique)
    await case.decide("triage_started", "P-001")
    moves = [
        ("proposal_declined", "P-001"),
        ("proposal_withdrawn", "P-015"),
        ("proposal_declined", "P-002"),
        ("proposal_withdrawn", "P-001"),
    ]
    results = await asyncio.gather(
        *(case.decide(trigger, actor, reason="race") for trigger, actor in moves),
        return_exceptions=True,
    )

    won = [r for r in results if isinstance(r, CommandResult)]
    lost = [r for r in results if not isinstance(r, CommandResult)]
    assert len(won) == 1, results
    assert all(isinstance(r, CaseClosed) for r in lost), lost
    # A case that has finished also says so to a plain new command, not "unknown case".
    with pytest.raises(CaseClosed):
        await case.decide("proposal_approved", "P-001")
    with pytest.raises(UnknownCase):
        await cases.decide(engine.client, f"new-service/PRO-{unique}9", _decision("x_y"))

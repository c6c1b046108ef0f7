"""On a real worker: workflow and activity log lines are JSON with their fields, and the worker
serves the SDK's metrics when asked to."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.commands import Decision
from osom import cases
from osom.settings import Settings
from tests.workflows.conftest import Engine
from tests.workflows.driver import Case
from worker import run_worker


async def line_where(
    stream: io.StringIO, holds: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The first JSON log line that ``holds`` (a worker thread may write it a moment later)."""
    for _ in range(100):
        for text in stream.getvalue().splitlines():
            line: dict[str, Any] = json.loads(text)
            if holds(line):
                return line
        await asyncio.sleep(0.05)
    raise AssertionError(f"no such log line in:\n{stream.getvalue()}")


async def test_a_workflow_log_line_carries_the_case_and_its_fields(
    engine: Engine, unique: str, stream: io.StringIO
) -> None:
    case = await Case.start(engine, unique)
    decision = Decision(decision_id="sig-log", trigger="triage_started", actor="P-003")

    await cases.send_decision_signal(engine.client, case.workflow_id, decision)
    await case.audit_until(lambda log: log[-1].outcome == "refused")

    line = await line_where(
        stream,
        lambda line: (
            line.get("workflow_id") == case.workflow_id
            and line["event"].startswith("decision.refused")
        ),
    )
    assert line["event"] == "decision.refused"  # the context is in fields, not the message
    assert (line["command"], line["error_type"], line["actor"]) == (
        "triage_started",
        "NotAuthorised",
        "P-003",
    )
    described = await case.handle.describe()
    assert (line["run_id"], line["workflow_type"]) == (described.run_id, described.workflow_type)
    assert (line["level"], line["logger"]) == ("info", "temporalio.workflow")
    assert "temporal_workflow" not in line


async def test_an_accepted_move_logs_its_transition_with_the_case_bound(
    engine: Engine, unique: str, stream: io.StringIO
) -> None:
    case = await Case.start(engine, unique)
    await case.decide("triage_started", "P-001")

    def applied(line: dict[str, Any]) -> bool:
        return line.get("workflow_id") == case.workflow_id and line["event"] == (
            "transition.applied"
        )

    line = await line_where(stream, applied)
    assert (line["process_name"], line["case"]) == ("establishment", case.workflow_id.split("/")[1])
    assert (line["trigger"], line["source"], line["actor"]) == (
        "triage_started",
        "PROPOSED",
        "P-001",
    )
    accepted = await line_where(
        stream,
        lambda line: (
            line.get("workflow_id") == case.workflow_id and line["event"] == "command.accepted"
        ),
    )
    assert (accepted["command"], accepted["role"], accepted["state"]) == (
        "triage_started",
        "EXEC",
        "IN_TRIAGE",
    )


async def test_an_activitys_structlog_events_carry_the_activity(
    engine: Engine, unique: str, stream: io.StringIO
) -> None:
    case = await Case.start(engine, unique)  # starting a case notifies the Executive
    await engine.outbox_once(case, lambda notes: bool(notes))

    line = await line_where(
        stream,
        lambda line: line["event"] == "notification.sent" and line["case_id"] == case.workflow_id,
    )
    described = await case.handle.describe()
    assert line["workflow_id"] == case.workflow_id
    assert (line["run_id"], line["workflow_type"]) == (described.run_id, described.workflow_type)
    assert line["activity_type"] == "notify"
    assert line["activity_id"]
    assert line["attempt"] == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_worker_serves_temporal_metrics_when_given_an_address(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", engine.client.service_client.config.target_host)
    monkeypatch.setenv("TEMPORAL_NAMESPACE", engine.client.namespace)
    address = f"127.0.0.1:{free_port()}"
    task_queue = f"osom-metrics-{uuid.uuid4().hex[:6]}"
    settings = replace(
        Settings.in_folder(tmp_path, engine.settings.directory_path.parent, task_queue),
        metrics_address=address,
    )
    running = asyncio.create_task(run_worker(settings))
    try:
        body = ""
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                with contextlib.suppress(httpx.TransportError):
                    body = (await http.get(f"http://{address}/metrics")).text
                if f'task_queue="{task_queue}"' in body:
                    break
                await asyncio.sleep(0.1)
        ours = [
            line
            for line in body.splitlines()
            if line.startswith("temporal_") and f'task_queue="{task_queue}"' in line
        ]
        assert ours, f"no temporal_ metric of {task_queue} at {address}:\n{body[:2000]}"
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running

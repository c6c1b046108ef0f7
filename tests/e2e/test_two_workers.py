"""Two workers, no shared disk: one PostgreSQL record, one Temporal server, one worker killed.

Two `osom worker` processes serve one task queue, each in a working folder of its own (nothing on
disk is shared), with one PostgreSQL record and a real SMTP server. Several proposals walk to
ESTABLISHED at once; one worker is SIGKILLed mid-way. Every case must complete on the other one
with every artefact readable from the record, every audit entry recorded once (the chain intact)
and every notification delivered once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from activities.record import RecordStore
from models.commands import ArtefactSubmission, CommandResult, Decision
from models.errors import NoAnswer
from osom import cases
from tests.e2e.conftest import OSOM, WORKER_READY_SECONDS, Server, stop
from tests.examples import artefact
from tests.postgres import PostgresServer
from tests.receivers import SmtpCatcher
from tests.workflows.driver import proposal_numbered

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

JOURNEYS = 4


@pytest.fixture(scope="module")
def record_url() -> Iterator[str]:
    with PostgresServer() as server:
        yield server.new_database("osom_record")


@pytest.fixture(scope="module")
def catcher() -> Iterator[SmtpCatcher]:
    with SmtpCatcher() as smtp:
        yield smtp


def start_worker(folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`osom worker` with its working folder and data folder in ``folder``, nowhere else."""
    folder.mkdir(parents=True)
    log_path = folder / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(OSOM), "worker"],
            cwd=folder,
            env={**env, "OSOM_DATA_DIR": str(folder / "data")},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + WORKER_READY_SECONDS
    while "worker.started" not in log_path.read_text(encoding="utf-8", errors="replace"):
        text = log_path.read_text(encoding="utf-8", errors="replace")
        assert process.poll() is None, f"osom worker exited early:\n{text}"
        assert time.monotonic() < deadline, f"osom worker did not start:\n{text}"
        time.sleep(0.1)
    return process


async def send(client: Client, workflow_id: str, command: Decision | ArtefactSubmission) -> None:
    """Send until answered: a command a killed worker held is sent again with its decision
    id, and applied once."""
    for _ in range(20):
        try:
            if isinstance(command, Decision):
                result: CommandResult = await cases.decide(client, workflow_id, command)
            else:
                result = await cases.submit(client, workflow_id, command)
            assert result.decision_id == command.decision_id
            return
        except NoAnswer:  # CommandQueued too: the killed worker had the case
            await asyncio.sleep(1)
    raise AssertionError(f"{workflow_id}: {command.name()} was never answered")


def decision(trigger: str, actor: str, **extra: Any) -> Decision:
    return Decision(decision_id=uuid.uuid4().hex, trigger=trigger, actor=actor, **extra)


async def journey(client: Client, task_queue: str, number: str, halfway: asyncio.Event) -> str:
    """A proposal from start to ESTABLISHED; ``halfway`` is set once it is drafting."""
    workflow_id = await cases.start_new_service(
        client, proposal_numbered(number), "P-015", task_queue
    )
    assert await cases.wait_until_open(client, workflow_id, seconds=60) is not None
    for trigger in ("triage_started", "proposal_approved", "drafting_started"):
        await send(client, workflow_id, decision(trigger, "P-001"))
    halfway.set()
    await send(
        client,
        workflow_id,
        decision("sm_appointed", "P-001", data=artefact("sm-appointment.yaml")),
    )
    contract = artefact("service-contract.yaml")
    contract["service_id"] = f"SVC-{number}"
    for kind, content in (
        ("service_contract", contract),
        ("discovery_plan", artefact("discovery-plan.yaml")),
    ):
        submission = ArtefactSubmission(
            decision_id=uuid.uuid4().hex, actor="P-013", kind=kind, content=content
        )
        await send(client, workflow_id, submission)
    budget = artefact("discovery-budget.yaml")
    await send(client, workflow_id, decision("discovery_budget_allocated", "P-002", data=budget))
    await send(client, workflow_id, decision("draft_completed", "P-013"))
    await send(client, workflow_id, decision("service_established", "P-001", reason="go"))
    return workflow_id


async def settled(record: RecordStore, client: Client, workflow_id: str) -> list[dict[str, Any]]:
    """The record's audit log of the case once it holds what the workflow holds."""
    expected: list[dict[str, Any]] = []
    for _ in range(300):
        expected = [e.model_dump(mode="json") for e in await cases.audit_log(client, workflow_id)]
        if record.audit(workflow_id) == expected:
            return expected
        await asyncio.sleep(0.1)
    raise AssertionError(f"{workflow_id}: the record never caught up with {len(expected)} entries")


async def test_two_workers_without_shared_disk_complete_every_case_after_one_is_killed(
    server: Server,
    engine_env: dict[str, str],
    e2e_root: Path,
    record_url: str,
    catcher: SmtpCatcher,
) -> None:
    task_queue = f"osom-two-{uuid.uuid4().hex[:6]}"
    env = {
        **engine_env,
        "OSOM_TASK_QUEUE": task_queue,
        "OSOM_RECORD_URL": record_url,
        "OSOM_SMTP_URL": f"smtp://127.0.0.1:{catcher.port}",
        "OSOM_REVIEW_SCHEDULE": "off",
        "OSOM_PUBLIC_URL": "http://osom.test",
    }
    started = time.monotonic()
    first = start_worker(e2e_root / "host-a", env)
    second = start_worker(e2e_root / "host-b", env)
    record = RecordStore(record_url)
    try:
        client = server.client
        numbers = [f"{uuid.uuid4().int % 900000 + 100000}" for _ in range(JOURNEYS)]
        halfway = [asyncio.Event() for _ in numbers]
        runs = [
            asyncio.create_task(journey(client, task_queue, n, h))
            for n, h in zip(numbers, halfway, strict=True)
        ]
        await asyncio.wait_for(halfway[0].wait(), 120)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        killed_at = time.monotonic() - started
        workflow_ids = await asyncio.wait_for(asyncio.gather(*runs), 300)
        finished = time.monotonic() - started

        audit_total = 0
        for workflow_id in workflow_ids:
            status = await cases.status(client, workflow_id)
            assert status.state == "ESTABLISHED", workflow_id
            for ref in status.artefacts.values():
                stored = record.artefact(ref.case_id, ref.kind, ref.version)
                assert stored is not None, f"{ref.label} of {ref.case_id} is not in the record"
                assert stored.sha256 == ref.sha256
                assert ref.url.startswith("http://osom.test/v1/cases/")
            log = await settled(record, client, workflow_id)
            decisions = [e["decision_id"] for e in log if e["decision_id"]]
            assert len(decisions) == len(set(decisions)), f"{workflow_id}: an entry twice"
            chain = record.verify(workflow_id)
            assert chain.intact, chain
            assert chain.entries == len(log)
            audit_total += len(log)

        for _ in range(300):
            ours = [n for n in record.notifications() if n.case_id in workflow_ids]
            if ours and all(n.state != "pending" for n in ours):
                break
            await asyncio.sleep(0.1)
        assert all(n.state == "delivered" for n in ours), [(n.id, n.state) for n in ours]
        sent = [d for n in ours for d in n.deliveries]
        mails = Counter(
            (str(m.message["X-OSOM-Notification"]), str(m.message["To"]))
            for m in catcher.messages
            if str(m.message["X-OSOM-Notification"]).split("#")[0] in workflow_ids
        )
        assert mails, "no e-mail arrived"
        twice = {key: count for key, count in mails.items() if count > 1}
        assert not twice, f"delivered more than once: {twice}"
        assert len(mails) == len(sent) == sum(len(n.to) for n in ours)
        assert not list((e2e_root / "host-b").glob("data/artefacts/**/*.json"))
        print(
            f"\ntwo workers: {len(workflow_ids)} journeys, worker A killed at {killed_at:.1f} s, "
            f"all ESTABLISHED at {finished:.1f} s; {audit_total} audit entries recorded once, "
            f"{len(ours)} notifications, {len(mails)} e-mails each received once"
        )
    finally:
        record.close()
        for process in (first, second):
            stop(process)

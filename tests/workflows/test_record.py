"""The record outlives the workflow, and a record that is down changes nothing.

Each test runs its own worker on PostgreSQL (a private server it starts and kills), beside the
session's engine, on its own task queue.
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from activities.record import RecordStore
from models.errors import RecordUnavailable, UnknownCase
from osom import cases, record_reads
from osom.devserver import temporal_cli
from osom.settings import Settings
from tests.examples import artefact
from tests.postgres import PostgresServer
from tests.workflows.conftest import Engine
from tests.workflows.driver import Case
from worker import ACTIVITY_THREADS, build_worker


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A server of this test's own: it is killed and started again."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
async def pg_engine(
    engine: Engine, own_postgres: PostgresServer, tmp_path: Path
) -> AsyncIterator[Engine]:
    """A worker whose record is in PostgreSQL, on the session's Temporal server."""
    url = own_postgres.new_database()
    settings = dataclasses.replace(
        Settings.in_folder(
            tmp_path, engine.settings.directory_path.parent, f"osom-pg-{uuid.uuid4().hex[:6]}"
        ),
        record_url=url,
    )
    record = RecordStore.open(url)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(engine.client, settings, executor, record)
        task = asyncio.create_task(worker.run())
        try:
            yield Engine(env=engine.env, client=engine.client, settings=settings, record=record)
        finally:
            await worker.shutdown()
            await task
            record.close()


async def recorded(engine: Engine, case: Case) -> list[dict[str, object]]:
    """The record's audit log of the case once it holds everything the workflow has."""
    expected = [entry.model_dump(mode="json") for entry in await case.audit_log()]
    for _ in range(200):
        entries = engine.record.audit(case.workflow_id)
        if entries == expected:
            return entries
        await asyncio.sleep(0.05)
    raise AssertionError(f"the record never caught up: {entries} != {expected}")


async def test_a_record_that_is_down_refuses_the_command_and_the_case_is_unchanged(
    pg_engine: Engine, own_postgres: PostgresServer, unique: str
) -> None:
    case = await Case.start(pg_engine, unique)
    await case.decide("triage_started", "P-001")
    await recorded(pg_engine, case)
    before = (await case.status(), await case.audit_log())

    own_postgres.kill()
    with pytest.raises(RecordUnavailable) as refused:
        await case.decide("proposal_approved", "P-001", decision_id=f"approve-{unique}")
    assert "same decision id" in refused.value.message
    assert (await case.status(), await case.audit_log()) == before

    own_postgres.start()
    applied = await case.decide("proposal_approved", "P-001", decision_id=f"approve-{unique}")
    assert (applied.to_state, applied.replayed) == ("APPROVED", False)
    again = await case.decide("proposal_approved", "P-001", decision_id=f"approve-{unique}")
    assert again.replayed
    entries = await recorded(pg_engine, case)
    approvals = [e for e in entries if e["decision_id"] == f"approve-{unique}"]
    assert len(approvals) == 1, entries
    assert pg_engine.record.verify(case.workflow_id).intact


async def test_a_finished_case_reads_back_whole_after_its_workflow_is_deleted(
    pg_engine: Engine, unique: str
) -> None:
    case = await Case.start(pg_engine, unique)
    await case.to_drafting()
    await case.decide("sm_appointed", "P-001", data=artefact("sm-appointment.yaml"))
    draft = await case.submit("service-contract.yaml", "P-013", "service_contract")
    await case.decide("proposal_withdrawn", "P-015", reason="another council offers it")
    final = await case.until(lambda s: s.state == "WITHDRAWN", "withdrawn")
    log = await recorded(pg_engine, case)
    client = pg_engine.client
    await case.handle.result()

    deleted = await asyncio.to_thread(
        subprocess.run,
        [
            temporal_cli(),
            "workflow",
            "delete",
            "--workflow-id",
            case.workflow_id,
            "--address",
            client.service_client.config.target_host,
            "--namespace",
            client.namespace,
            "--yes",
        ],
        capture_output=True,
        text=True,
    )
    assert deleted.returncode == 0, deleted.stderr
    for _ in range(100):  # deletion is asynchronous on the server
        try:
            await cases.status(client, case.workflow_id)
        except UnknownCase:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the workflow was never deleted")

    status = await record_reads.status(client, pg_engine.record, case.workflow_id)
    assert status.state == "WITHDRAWN"
    assert status.model_dump(mode="json") == final.model_dump(mode="json")
    audit = await record_reads.audit_log(client, pg_engine.record, case.workflow_id)
    assert [entry.model_dump(mode="json") for entry in audit] == log
    assert [entry.command for entry in audit][-1] == "proposal_withdrawn"
    assert pg_engine.record.verify(case.workflow_id).intact
    stored = pg_engine.record.artefacts(case.workflow_id)
    assert draft.artefact is not None
    assert [(a.kind, a.version, a.sha256) for a in stored] == [
        ("service_contract", 1, draft.artefact.sha256)
    ]
    assert stored[0].content["service_id"] == case.service_id
    assert stored[0].submitted_by == "P-013"
    assert draft.artefact.url.endswith(
        f"/v1/cases/{case.workflow_id}/artefacts/service_contract/v1"
    )
    with pytest.raises(UnknownCase):
        await record_reads.status(client, pg_engine.record, f"new-service/PRO-9{unique}")

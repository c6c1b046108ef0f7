"""A real Temporal server with per-workflow time skipping, and our worker on it."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import TimeSkippingConfig, WorkflowEnvironment

from activities.record import RecordStore
from models.record import RecordedNotification, StoredArtefact
from osom.devserver import temporal_cli
from osom.settings import Settings
from worker import ACTIVITY_THREADS, build_worker
from workflows._visibility import SEARCH_ATTRIBUTES


@dataclass(frozen=True)
class Engine:
    env: WorkflowEnvironment
    client: Client
    settings: Settings
    record: RecordStore

    def outbox_for(self, case: HasWorkflowId) -> list[RecordedNotification]:
        return [n for n in self.record.notifications() if n.case_id == case.workflow_id]

    def artefact(self, case_id: str, kind: str, version: int) -> StoredArtefact:
        """A version as the record holds it (failing the test if it is not there)."""
        stored = self.record.artefact(case_id, kind, version)
        assert stored is not None, f"{kind} v{version} of {case_id} is not in the record"
        return stored

    async def outbox_once(
        self, case: HasWorkflowId, ready: Callable[[list[RecordedNotification]], bool]
    ) -> list[RecordedNotification]:
        """The case's notifications once ``ready`` holds: the run loop sends them shortly after
        the command or deadline that queued them."""
        for _ in range(100):
            notes = self.outbox_for(case)
            if ready(notes):
                return notes
            await asyncio.sleep(0.05)
        raise AssertionError(f"the outbox never got there: {self.outbox_for(case)}")


class HasWorkflowId(Protocol):
    workflow_id: str


@pytest.fixture(scope="session")
def engine_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engine")


EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples" / "fenmoor"


@pytest.fixture(scope="session")
async def engine(engine_root: Path) -> AsyncIterator[Engine]:
    # Time only moves when a test fast-forwards a workflow, so deadlines fire exactly when asked.
    env = await WorkflowEnvironment.start_time_skipping_v2(
        ts_config=TimeSkippingConfig(enabled=False),
        dev_server_existing_path=temporal_cli(),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
        ],
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
    )
    # The worker reads copies, so a test may change the directory without touching the examples.
    for name in ("directory.yaml", "policy.yaml"):
        shutil.copy(EXAMPLES_DIR / name, engine_root / name)
    settings = Settings.in_folder(engine_root, engine_root, f"osom-test-{uuid.uuid4().hex[:6]}")
    record = RecordStore.open(settings.record)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(env.client, settings, executor, record)
        task = asyncio.create_task(worker.run())
        try:
            yield Engine(env=env, client=env.client, settings=settings, record=record)
        finally:
            await worker.shutdown()
            await task
            await env.shutdown()
            record.close()


@pytest.fixture
def unique() -> str:
    """A fresh proposal number, so each test's case has its own workflow id."""
    return f"{uuid.uuid4().int % 900000 + 100000}"

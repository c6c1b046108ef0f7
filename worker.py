"""Composition root: settings, logging, client and the worker that runs every OSOM process."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import structlog
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.artefact_store import ArtefactStore
from activities.directory import ContextLoader
from activities.notifications import Outbox
from osom.client import connect
from osom.logging import configure_logging
from osom.settings import Settings
from workflows import WORKFLOWS

log = structlog.get_logger()

# Pure modules the workflows import: loaded once outside the sandbox instead of per workflow run.
PASSTHROUGH = ("transitions", "models", "pydantic", "pydantic_core", "annotated_types")


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox every worker and the replayer use."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )


def build_worker(client: Client, settings: Settings, executor: ThreadPoolExecutor) -> Worker:
    store = ArtefactStore(settings.artefact_root)
    outbox = Outbox(settings.outbox_root)
    loader = ContextLoader(settings.directory_path, settings.policy_path)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            store.store_artefact,
            outbox.notify,
            loader.load_case_context,
            loader.load_directory,
        ],
        activity_executor=executor,
        workflow_runner=workflow_runner(),
    )


async def run_worker(settings: Settings, client: Client | None = None) -> None:
    client = client or await connect()
    with ThreadPoolExecutor(max_workers=8) as executor:
        worker = build_worker(client, settings, executor)
        log.info(
            "worker.started",
            task_queue=settings.task_queue,
            namespace=client.namespace,
            artefact_root=str(settings.artefact_root),
        )
        await worker.run()


def main() -> None:
    configure_logging()
    asyncio.run(run_worker(Settings.from_env()))


if __name__ == "__main__":
    main()

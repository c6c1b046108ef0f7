"""Composition root: settings, logging, client and the worker that runs every OSOM process."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import structlog
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.artefact_store import ArtefactStore
from activities.case_record import CaseRecords
from activities.delivery import MailSettings
from activities.directory import ContextLoader, load_directory, load_policy
from activities.logging_context import ActivityLogContext
from activities.notifications import Channels, Outbox
from activities.other_cases import OtherCases
from activities.record import RecordStore
from osom.client import connect, metrics_runtime
from osom.logging import configure_logging
from osom.review_schedule import ensure_review_schedule
from osom.settings import Settings
from workflows import WORKFLOWS
from workflows.sandbox import workflow_runner

log = structlog.get_logger()

# Activities are blocking file I/O run on this many threads; the worker takes no more at once.
ACTIVITY_THREADS = 8


def channels(settings: Settings) -> Channels:
    """How notifications leave: e-mail if OSOM_SMTP_URL is set, and people's webhooks."""
    mail = (
        MailSettings.from_url(settings.smtp_url, settings.mail_from) if settings.smtp_url else None
    )
    return Channels(public_url=settings.public_url, mail=mail)


def build_worker(
    client: Client,
    settings: Settings,
    executor: ThreadPoolExecutor,
    record: RecordStore | None = None,
) -> Worker:
    """The worker for every OSOM process; ``record`` defaults to the one settings name."""
    record = record or RecordStore.open(settings.record)
    store = ArtefactStore(record, settings.public_url, legacy_root=settings.artefact_root)
    outbox = Outbox(record, channels(settings), lambda: load_directory(settings.directory_path))
    case_records = CaseRecords(record)
    loader = ContextLoader(settings.directory_path, settings.policy_path)
    other_cases = OtherCases(client)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            store.store_artefact,
            store.read_artefact,
            case_records.record_case,
            outbox.notify,
            loader.load_case_context,
            loader.load_directory,
            other_cases.service_profile,
            other_cases.review_pool,
            other_cases.send_to_case,
        ],
        activity_executor=executor,
        max_concurrent_activities=ACTIVITY_THREADS,
        graceful_shutdown_timeout=timedelta(seconds=20),
        workflow_runner=workflow_runner(),
        interceptors=[ActivityLogContext()],
    )


async def run_worker(settings: Settings, client: Client | None = None) -> None:
    """Run until cancelled; cancelling (Ctrl-C, SIGTERM) lets in-flight activities finish."""
    missing = [p for p in (settings.directory_path, settings.policy_path) if p and not p.is_file()]
    if missing:
        raise SystemExit(
            f"osom worker: missing file(s) {', '.join(map(str, missing))}: "
            "set OSOM_DIRECTORY and OSOM_POLICY"
        )
    try:
        channels(settings)
    except ValueError as err:  # its message names the problem, never the URL
        raise SystemExit(f"osom worker: OSOM_SMTP_URL cannot be used: {err}") from None
    if client is None:
        # The SDK's metrics come from the runtime the client is made with: one per process.
        runtime = None
        if settings.metrics_address:
            runtime = metrics_runtime(settings.metrics_address)
            log.info("metrics.serving", url=f"http://{settings.metrics_address}/metrics")
        client = await connect(runtime=runtime)
    if settings.review_schedule:
        await keep_review_schedule(client, settings)
    record = RecordStore.open(settings.record)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(client, settings, executor, record)
        log.info(
            "worker.started",
            task_queue=settings.task_queue,
            namespace=client.namespace,
            record=record.engine.url.render_as_string(hide_password=True),
            notifications=channels(settings).describe(),
        )
        try:
            await worker.run()
        finally:
            record.close()


async def keep_review_schedule(client: Client, settings: Settings) -> None:
    """Bring the CoE review schedule in step with the policy file. A schedule the server
    refuses (say, a bad cron) is logged; the worker still serves every case."""
    policy = load_policy(settings.policy_path).coe_review
    try:
        await ensure_review_schedule(client, policy, settings.task_queue)
    except RPCError as err:
        log.error("review_schedule.refused", error=err.message, cron=policy.cron)
        return
    log.info("review_schedule.ready", cron=policy.cron, time_zone=policy.time_zone)


async def serve(settings: Settings) -> None:
    """Run the worker until SIGINT or SIGTERM, then shut it down gracefully."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await run_worker(settings)
    log.info("worker.stopped")


def main(metrics_address: str | None = None) -> None:
    """``osom worker``: settings from the environment; ``metrics_address`` (host:port) overrides
    OSOM_METRICS_ADDRESS."""
    configure_logging()
    settings = Settings.from_env()
    if metrics_address:
        settings = dataclasses.replace(settings, metrics_address=metrics_address)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()

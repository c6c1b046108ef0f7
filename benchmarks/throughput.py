"""Throughput of establishment cases against a bare workflow, side by side on one dev server.

    make bench                     # 100 cases of each, 20 at a time
    .venv/bin/python -m benchmarks.throughput --cases 200 --concurrency 50

Each establishment case is the README walkthrough: start, 8 decisions and 2 artefact submissions
(10 updates, 4 artefact writes, 6 notifications). The bare workflow does 3 updates and 3 trivial
activities, the reference DESIGN §7 measured (about 17 workflows/s on 2 cores). The server, the
worker and this client share the machine, as they do under `make dev`.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.bare import BareWorkflow, touch
from models.commands import ArtefactSubmission, Decision
from models.proposal import Proposal
from osom import cases
from osom.client import connect
from osom.devserver import DevServer, ensure_search_attributes, wait_for_server
from osom.settings import EXAMPLES, Settings
from tests.examples import WALKTHROUGH, artefact, load_yaml
from worker import ACTIVITY_THREADS, build_worker
from workflows.sandbox import workflow_runner

BARE_QUEUE = "bench-bare"


@dataclass
class Run:
    name: str
    seconds: float
    cases: int
    latencies: list[float]

    def report(self) -> str:
        ordered = sorted(self.latencies)
        p95 = ordered[int(len(ordered) * 0.95) - 1]
        return (
            f"{self.name:14} {self.cases} cases in {self.seconds:6.2f} s = "
            f"{self.cases / self.seconds:6.1f} cases/s, {len(ordered) / self.seconds:6.1f} "
            f"commands/s, command latency p50 {statistics.median(ordered) * 1000:5.0f} ms, "
            f"p95 {p95 * 1000:5.0f} ms"
        )


async def timed(latencies: list[float], call: Awaitable[object]) -> None:
    began = time.perf_counter()
    await call
    latencies.append(time.perf_counter() - began)


async def one_bare(client: Client, latencies: list[float]) -> None:
    handle = await client.start_workflow(
        BareWorkflow.run, id=f"bench-bare-{uuid.uuid4().hex}", task_queue=BARE_QUEUE
    )
    for _ in range(3):
        await timed(latencies, handle.execute_update(BareWorkflow.step))
    await handle.result()


async def one_case(client: Client, number: int, queue: str, latencies: list[float]) -> None:
    document = load_yaml(EXAMPLES / "proposal.yaml") | {"id": f"PRO-{number}"}
    workflow_id = await cases.start_new_service(
        client, Proposal.model_validate(document), "P-015", queue
    )
    for verb, name, actor, file in WALKTHROUGH:
        data = artefact(file) if file else {}
        if verb == "submit":
            if name == "service_contract":
                data["service_id"] = f"SVC-{number}"
            command = ArtefactSubmission(
                decision_id=uuid.uuid4().hex, actor=actor, kind=name, content=data
            )
            await timed(latencies, cases.submit(client, workflow_id, command))
        else:
            decision = Decision(
                decision_id=uuid.uuid4().hex, trigger=name, actor=actor, data=data, reason="bench"
            )
            await timed(latencies, cases.decide(client, workflow_id, decision))
    await client.get_workflow_handle(workflow_id).result()


async def measure(
    name: str, total: int, concurrency: int, one: Callable[[int, list[float]], Awaitable[None]]
) -> Run:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def guarded(index: int) -> None:
        async with gate:
            await one(index, latencies)

    began = time.perf_counter()
    await asyncio.gather(*(guarded(i) for i in range(total)))
    return Run(name, time.perf_counter() - began, total, latencies)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def main(total: int, concurrency: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="osom-bench-"))
    port = free_port()
    server = DevServer(db_file=root / "temporal.db", port=port, ui_port=free_port())
    process = server.start(root / "server.log")
    try:
        client = await wait_for_server(connect, server.address)
        await ensure_search_attributes(client)
        settings = Settings.in_folder(root, EXAMPLES, "bench-osom")
        with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
            ours = build_worker(client, settings, executor)
            bare = Worker(
                client,
                task_queue=BARE_QUEUE,
                workflows=[BareWorkflow],
                activities=[touch],
                activity_executor=executor,
                workflow_runner=workflow_runner(),
            )
            async with ours, bare:
                print(f"{total} cases each, {concurrency} at a time, dev server {server.address}")
                base = 1_000_000
                runs = [
                    await measure(
                        "bare workflow",
                        total,
                        concurrency,
                        lambda i, lat: one_bare(client, lat),
                    ),
                    await measure(
                        "establishment",
                        total,
                        concurrency,
                        lambda i, lat: one_case(client, base + i, settings.task_queue, lat),
                    ),
                ]
        for run in runs:
            print(run.report())
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.cases, arguments.concurrency))

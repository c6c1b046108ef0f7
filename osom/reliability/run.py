"""One bounded campaign against a private engine: its folder, its dev server and worker, the
HTTP API served in this process, and when each disruption comes."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from temporalio.client import Client

from activities.record import RecordStore
from osom import tokens as api_tokens
from osom.api import create_app
from osom.devserver import DevServer
from osom.reliability.campaign import ANSWER_SECONDS, Campaign
from osom.reliability.doors import Doors
from osom.reliability.figures import Figures
from osom.reliability.journeys import PEOPLE, STEPS
from osom.reliability.processes import EngineProcesses, connect_to, engine_env, free_port

WORKER_KILLS = ("worker at a gate", "worker down", "worker in flight")


def schedule(steps: int, worker_kills: int, server_restarts: int) -> dict[int, str]:
    """Which step each disruption comes before (or during), spread over the journey at least
    two steps apart: worker kills (at a gate, while down for two steps, in flight, by turns)
    interleaved with server restarts."""
    kinds: list[str] = []
    kills, restarts = worker_kills, server_restarts
    while kills or restarts:
        if kills:
            kinds.append(WORKER_KILLS[(worker_kills - kills) % len(WORKER_KILLS)])
            kills -= 1
        if restarts:
            kinds.append("server")
            restarts -= 1
    span = steps - 1
    assert 2 * len(kinds) <= span, "disruptions come at least two steps apart"
    offset = span // (2 * len(kinds)) if kinds else 0
    return {1 + (n * span) // len(kinds) + offset: kind for n, kind in enumerate(kinds)}


@contextlib.contextmanager
def private_folder(keep: bool) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="osom-reliability-"))
    try:
        yield folder
    finally:
        if keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


async def campaign(
    total: int, worker_kills: int, server_restarts: int, seed: int, keep: bool
) -> Figures:
    began = time.monotonic()
    with private_folder(keep) as folder:
        port = free_port()
        server = DevServer(db_file=folder / "temporal.db", port=port, ui_port=free_port({port}))
        task_queue = "osom-reliability"
        processes = EngineProcesses(server, engine_env(folder, server.address, task_queue), folder)
        # The worker's own record (SQLite in its data folder): the API reads what it writes.
        record = RecordStore.open(f"sqlite:///{folder / 'data' / 'record.sqlite3'}")
        try:
            client = await processes.start_server(connect_to)
            await processes.start_worker()
            tokens = {person: api_tokens.issue(record, person, "reliability") for person in PEOPLE}

            async def temporal() -> Client:
                return client

            app = create_app(temporal, record, task_queue)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://osom", timeout=2 * ANSWER_SECONDS
            ) as http:
                doors = Doors(client, http, tokens, task_queue)
                plan = schedule(len(STEPS), worker_kills, server_restarts)
                print(
                    f"OSOM reliability campaign: {total} cases, {worker_kills} worker SIGKILLs, "
                    f"{server_restarts} dev-server SIGKILLs and restarts, seed {seed}, "
                    f"dev server {server.address}"
                )
                for step, kind in sorted(plan.items()):
                    when = {"worker in flight": "during", "worker down": "from"}.get(kind)
                    print(f"  {when or 'before'} step {step + 1}: {kind}")
                figures = await Campaign(doors, processes, seed).run(total, plan)
        finally:
            processes.stop()
            record.close()
    print(f"took {time.monotonic() - began:.0f} s")
    return figures

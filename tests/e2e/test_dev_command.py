"""The README's first command: `osom dev` runs a dev server and a worker, and stops both."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from osom.settings import REPO_ROOT
from tests.e2e.conftest import EXAMPLES, OSOM, free_ports, stop

pytestmark = pytest.mark.e2e

READY_SECONDS = 60.0


def wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        content = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        if text in content:
            return content
        assert process.poll() is None, f"osom dev exited early:\n{content}"
        time.sleep(0.2)
    raise AssertionError(f"'{text}' never appeared:\n{log.read_text(encoding='utf-8')}")


def test_osom_dev_serves_cases_and_stops_cleanly(tmp_path: Path) -> None:
    port, ui_port = free_ports()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "OSOM_"))},
        "OSOM_DATA_DIR": str(tmp_path / "data"),
        "OSOM_DIRECTORY": str(EXAMPLES / "directory.yaml"),
        "OSOM_POLICY": str(EXAMPLES / "policy.yaml"),
        "TEMPORAL_CONFIG_FILE": str(tmp_path / "none.toml"),
    }
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    log = tmp_path / "dev.log"
    with log.open("wb") as out:
        dev = subprocess.Popen(
            [str(OSOM), "dev", "--port", str(port), "--ui-port", str(ui_port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        shown = wait_for_line(log, "worker.started", dev)
        assert f"Temporal Web UI:  http://localhost:{ui_port}" in shown
        assert "registering search attributes" in shown
        assert (tmp_path / "data" / "temporal.db").exists()

        client_env = {**env, "TEMPORAL_ADDRESS": f"127.0.0.1:{port}"}
        started = subprocess.run(
            [str(OSOM), "start", "new-service", str(EXAMPLES / "proposal.yaml"), "--as", "P-015"],
            env=client_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert started.returncode == 0, started.stderr
        assert started.stdout.strip() == "new-service/PRO-004"
        assert "no worker has taken the case up" not in started.stderr

        busy = subprocess.run(
            [str(OSOM), "dev", "--port", str(port), "--ui-port", str(ui_port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert busy.returncode == 1
        assert "already in use" in busy.stderr

        dev.send_signal(signal.SIGINT)
        dev.wait(timeout=60)
        assert "stopping" in log.read_text(encoding="utf-8")
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server outlived `osom dev`"
    finally:
        stop(dev)


@pytest.mark.parametrize(
    ("flag", "variable"), [("--ui-port", "UI_PORT"), ("--metrics-port", "METRICS_PORT")]
)
def test_osom_dev_stops_at_once_saying_why_the_server_did_not_start(
    tmp_path: Path, flag: str, variable: str
) -> None:
    port, ui_port = free_ports()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "OSOM_"))},
        "OSOM_DATA_DIR": str(tmp_path / "data"),
        "TEMPORAL_CONFIG_FILE": str(tmp_path / "none.toml"),
    }
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    with socket.socket() as taken:
        # Bound but not listening: `osom dev`'s own check cannot see it; the server finds it.
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        ports = {"--port": port, "--ui-port": ui_port, flag: busy}
        began = time.monotonic()
        done = subprocess.run(
            [str(OSOM), "dev", *(part for pair in ports.items() for part in map(str, pair))],
            env=env,
            capture_output=True,
            text=True,
            timeout=READY_SECONDS + 30,
            check=False,
        )
        took = time.monotonic() - began
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert took < 20, f"took {took:.0f} s:\n{said}"
    assert f"{busy}: bind: address already in use" in done.stderr  # the server's own words
    assert f"`osom dev {flag} N` (or `make dev {variable}=N`)" in done.stderr
    assert "Traceback" not in said


def test_make_dev_passes_its_ports_to_osom_dev() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PORT", "UI_PORT", "API_PORT", "HTTP_PORT", "METRICS_PORT"}
    }
    planned = subprocess.run(
        ["make", "-n", "dev", "PORT=1", "UI_PORT=2", "API_PORT=3"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    runs = [line.split() for line in planned.stdout.splitlines() if "osom dev" in line]
    assert [run[1:] for run in runs] == [
        ["dev", "--port", "1", "--ui-port", "2", "--api-port", "3"]
    ]
    assert runs[0][0].endswith("/osom")

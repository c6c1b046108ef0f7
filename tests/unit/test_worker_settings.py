"""`osom worker` refuses settings it cannot use, saying why, before it connects to anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

OSOM = Path(sys.executable).parent / "osom"


def worker(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OSOM_", "TEMPORAL_"))}
    return subprocess.run(
        [str(OSOM), "worker"],
        env={**clean, **env, "TEMPORAL_ADDRESS": "127.0.0.1:1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_mail_url_it_cannot_use_stops_the_worker_naming_the_problem_not_the_url() -> None:
    done = worker(OSOM_SMTP_URL="ftp://mailer:s3cret@mail.example")
    assert done.returncode == 1
    assert "OSOM_SMTP_URL cannot be used" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout


def test_a_missing_directory_stops_the_worker_saying_which_file(tmp_path: Path) -> None:
    missing = tmp_path / "directory.yaml"
    done = worker(OSOM_DIRECTORY=str(missing))
    assert done.returncode == 1
    assert f"missing file(s) {missing}" in done.stderr

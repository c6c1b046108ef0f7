"""`python -m osom.reliability`, as `make reliability` runs it, with a tiny campaign: two cases,
every kind of disruption (a worker SIGKILL at a gate, one while no worker runs for two steps, one
in flight, a dev-server SIGKILL and restart). The command starts its own dev server and worker;
this test checks its exit status and the figures it prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from osom.settings import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CAMPAIGN_SECONDS = 240.0
ZEROS = (
    "refused wrongly",
    "accepted wrongly",
    "valid refused",
    "lost",
    "duplicated",
    "out of order",
    "5xx",
    "unexpected errors",
    "unfinished cases",
)
ROW = re.compile(r"^(?P<label>\S.*?)\s{2,}(?P<value>\S+)$")


def figures(output: str) -> dict[str, str]:
    """The table's rows: label -> value (the indented rows without their indent)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("figure "))
    rows: dict[str, str] = {}
    for line in lines[start + 1 :]:
        found = ROW.match(line.strip())
        if found is None:
            break
        rows[found["label"]] = found["value"]
    return rows


def test_a_tiny_campaign_keeps_every_promise() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "OSOM_"))}
    done = subprocess.run(
        [sys.executable, "-m", "osom.reliability", "--cases", "2"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CAMPAIGN_SECONDS,
        check=False,
    )
    report = f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    rows = figures(done.stdout)

    assert rows["cases"] == "2", report
    valid, invalid = int(rows["valid"]), int(rows["invalid"])
    assert valid == 2 * 9, report  # the walkthrough's nine commands, for each case
    assert invalid > 0, report
    assert int(rows["commands sent"]) == valid + invalid, report
    assert int(rows["refused correctly"]) == invalid, report
    for label in ZEROS:
        assert rows[label] == "0", f"{label}: {rows[label]}\n{report}"
    survived, disruptions = map(int, rows["restarts survived"].split("/"))
    assert (survived, disruptions) == (4, 4), report
    assert int(rows["queued while down"]) > 0, report
    replayed, histories = map(int, rows["replay checks"].split("/"))
    assert replayed == histories, report
    assert histories >= 2 * 3, report  # each proposal, its lifecycle and its first assessment
    assert "every promise kept" in done.stdout, report
    assert done.returncode == 0, report

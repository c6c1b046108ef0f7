"""A Correction of Error end to end, through the `osom` command as the README's "A CoE by hand"
types it: opened for the Hosting Platform (SVC-002), drafted by the team, published by its Service
Manager, drawn by a session the review schedule starts, reviewed, its actions done, closed.

The worker keeps the review schedule in step with the policy when it starts; this module runs it
with the quick demo policy (a session may be held as soon as its CoEs are drawn).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import EXAMPLES, Osom, Server, recorded
from tests.e2e.test_lifecycle_gate import status_of, wait_for
from tests.examples import load_yaml

pytestmark = pytest.mark.e2e

A = "examples/fenmoor/artefacts"
REFUSED = 2


@pytest.fixture(scope="module")
def policy_file() -> Path:
    return EXAMPLES / "policy-quick.yaml"


async def in_the_pool(server: Server, coe: str) -> None:
    """The session's draw reads the pool through visibility, which follows a moment behind."""
    query = f"OsomCaseId = '{coe}' AND OsomState = 'PUBLISHED'"
    for _ in range(100):
        if (await server.client.count_workflows(query)).count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{coe} never showed in the review pool")


async def test_a_coe_by_hand_from_opened_to_closed(
    osom: Osom, server: Server, tmp_path: Path
) -> None:
    opened = osom.ok(
        "start", "coe", "--service", "SVC-002", "--as", "P-011", "--users-impacted", "312",
        "--problem", "The shared ingress served an expired TLS certificate",
        "--detected", "2026-11-23T07:04Z", "--mitigated", "2026-11-23T07:49Z",
    )  # fmt: skip
    workflow_id = opened.stdout.strip()
    assert workflow_id.startswith("coe/COE-2026-")
    coe = workflow_id.split("/", 1)[1]

    osom.ok("submit", coe, f"{A}/coe-document.yaml", "--as", "P-020")
    refused = osom("decide", coe, "coe_published", "--as", "P-020")
    assert refused.code == REFUSED
    assert "refused: NotAuthorised" in refused.stderr
    osom.ok("decide", coe, "coe_published", "--as", "P-011")

    # The worker created the schedule from the policy; a session now draws the only CoE.
    schedule = osom.ok("review", "schedule").stdout
    assert "schedule coe-review: cadence from the policy: '0 9 * * MON' (Europe/London)" in schedule
    assert schedule.count("next draw: Mon") == 5
    await in_the_pool(server, coe)
    # As the README says: the session's id, then the CoEs it drew.
    session, *drew = osom.ok("review", "now").stdout.splitlines()
    assert session.startswith("coe-review-")
    assert drew == [f"drawn: {coe} (SVC-002)"]
    drawn = wait_for(osom, coe, lambda s: s["state"] == "SELECTED_FOR_REVIEW", "drawn")
    assert drawn["facts"]["Review"].startswith(f"drawn by {session}")
    assert status_of(osom, session)["facts"]["Agenda"] == f"{coe} (SVC-002)"

    minutes = load_yaml(EXAMPLES / "artefacts" / "review-minutes.yaml")
    minutes["items"][0]["coe_id"] = coe
    minutes_file = tmp_path / "minutes.yaml"
    minutes_file.write_text(yaml.safe_dump(minutes), encoding="utf-8")
    osom.ok("decide", session, "session_held", "--as", "P-004")
    osom.ok("decide", session, "minutes_recorded", "--as", "P-004", "--data", str(minutes_file))
    wait_for(osom, coe, lambda s: s["state"] == "REVIEWED", "reviewed")

    refused = osom("decide", coe, "closure_requested", "--as", "P-011")
    assert refused.code == REFUSED
    assert "is OPEN" in refused.stderr
    osom.ok(
        "decide", coe, "action_completed", "--as", "P-011", "--data", f"{A}/action-completed.yaml"
    )
    osom.ok(
        "decide",
        coe,
        "action_completed",
        "--as",
        "P-020",
        "--data",
        f"{A}/action-a2-completed.yaml",
    )
    osom.ok("decide", coe, "closure_requested", "--as", "P-011")
    osom.ok("decide", coe, "coe_closed", "--as", "P-001")
    closed = status_of(osom, coe)
    assert closed["state"] == "CLOSED"
    final_ref = closed["artefacts"]["coe_document"]
    assert final_ref["case_id"] == workflow_id
    with osom.record() as record:
        final = recorded(record, final_ref)
    assert (final.content["status"], final.content["owner_sm"]) == ("CLOSED", "P-011")
    assert final.document.startswith(f"# Correction of Error {coe}: "), final.document

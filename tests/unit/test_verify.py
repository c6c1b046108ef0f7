"""``osom verify``: a case's audit chain in the record checked, a break reported (where and
what), and nothing ever repaired."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from activities.record import RecordStore
from models.audit import AuditEntry
from osom.cli import app

CASE = "coe/COE-2026-001"
MOVES = [
    ("opened", "P-013", "SERVICE_MANAGER", "", "DRAFTING"),
    ("coe_document_submitted", "P-013", "SERVICE_MANAGER", "DRAFTING", "DRAFTING"),
    ("submitted_for_review", "P-013", "SERVICE_MANAGER", "DRAFTING", "IN_REVIEW"),
    ("review_completed", "P-004", "REVIEWER", "IN_REVIEW", "ACTIONS_OPEN"),
]


def entries() -> list[dict[str, object]]:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    return [
        AuditEntry(
            at=start + timedelta(hours=n),
            actor=actor,
            role=role,
            command=command,
            from_state=before,
            to_state=after,
            outcome="accepted",
            decision_id=f"d-{n}",
        ).model_dump(mode="json")
        for n, (command, actor, role, before, after) in enumerate(MOVES)
    ]


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/r.sqlite3"


@pytest.fixture
def record(url: str) -> Iterator[RecordStore]:
    store = RecordStore.open(url)
    store.append_audit(CASE, 0, entries())
    yield store
    store.close()


def verify(url: str, tmp_path: Path, *args: str) -> Result:
    env = {"OSOM_RECORD_URL": url, "OSOM_DATA_DIR": str(tmp_path)}
    return CliRunner().invoke(app, ["verify", *args], env=env)


def row(record: RecordStore, seq: int) -> str:
    with record.engine.connect() as connection:
        found = connection.execute(
            text("SELECT entry FROM audit_entries WHERE case_id = :case AND seq = :seq"),
            {"case": CASE, "seq": seq},
        ).scalar_one()
    assert isinstance(found, str)
    return found


def test_a_chain_appended_through_the_record_is_intact(
    record: RecordStore, url: str, tmp_path: Path
) -> None:
    run = verify(url, tmp_path, "COE-2026-001")  # the business key names the case

    assert run.exit_code == 0, run.output
    head = record.verify(CASE).head
    assert head is not None
    assert run.stdout.splitlines() == [
        f"{CASE}: audit chain intact",
        f"entries: {len(MOVES)}",
        f"head:    {head}",
    ]
    as_json = json.loads(verify(url, tmp_path, CASE, "--json").stdout)
    assert as_json == {
        "case_id": CASE,
        "entries": len(MOVES),
        "intact": True,
        "head": head,
        "broken_at": None,
        "problem": None,
    }


def test_an_edited_entry_is_reported_and_left_as_it_is(
    record: RecordStore, url: str, tmp_path: Path
) -> None:
    edited = json.loads(row(record, 2))
    edited["actor"] = "P-001"  # someone rewrites who moved the case
    tampered = json.dumps(edited, sort_keys=True, separators=(",", ":"))
    with record.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_entries SET entry = :entry WHERE case_id = :case AND seq = 2"),
            {"entry": tampered, "case": CASE},
        )

    run = verify(url, tmp_path, "COE-2026-001")

    assert run.exit_code == 1, run.output
    assert run.stdout.splitlines() == [
        f"{CASE}: audit chain BROKEN at entry 2",
        f"entries: {len(MOVES)}",
        "problem: entry 2 does not match its hash: it was changed after it was recorded",
        "Nothing was repaired.",
    ]
    report = json.loads(verify(url, tmp_path, CASE, "--json").stdout)
    assert (report["intact"], report["broken_at"]) == (False, 2)
    # Nothing was repaired: the row is still the edited one, and the chain still broken.
    assert row(record, 2) == tampered
    assert record.verify(CASE).broken_at == 2
    assert verify(url, tmp_path, CASE).exit_code == 1


def test_a_missing_entry_is_reported(record: RecordStore, url: str, tmp_path: Path) -> None:
    with record.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entries WHERE seq = 1"))

    run = verify(url, tmp_path, CASE)

    assert run.exit_code == 1, run.output
    assert "audit chain BROKEN at entry 1" in run.stdout
    assert "problem: entry 1 is missing" in run.stdout


def test_an_unknown_case_is_refused(record: RecordStore, url: str, tmp_path: Path) -> None:
    run = verify(url, tmp_path, "COE-2026-099")

    assert run.exit_code == 2, run.output
    assert run.stdout == ""
    assert "refused: UnknownCase: the record holds no case with workflow id coe/COE-2026-099" in (
        run.stderr
    )


def test_a_recorded_case_without_entries_is_intact(
    record: RecordStore, url: str, tmp_path: Path
) -> None:
    record.put_case("service/SVC-007", "lifecycle", "LIVE", {"workflow_id": "service/SVC-007"})

    run = verify(url, tmp_path, "SVC-007")

    assert run.exit_code == 0, run.output
    assert run.stdout.splitlines()[1:] == ["entries: 0", "head:    -"]

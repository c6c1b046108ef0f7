"""``osom migrate-store``: a file store of an earlier release, written here exactly as that
release wrote it, taken into a SQLite record without loss, and a second run changing nothing."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from activities.documents import render_markdown
from activities.record import RecordStore
from models.activity_io import Notification
from osom import tokens
from osom.cli import app
from osom.migrate_store import Migration, migrate_store
from tests.examples import artefact

# (case, kind, version, example file, with its document beside it)
VERSIONS: list[tuple[str, str, int, str, bool]] = [
    ("new-service/PRO-004", "service_contract", 1, "service-contract.yaml", True),
    ("new-service/PRO-004", "discovery_plan", 1, "discovery-plan.yaml", True),
    ("service/SVC-007", "service_contract", 1, "service-contract.yaml", True),
    ("service/SVC-007", "service_contract", 2, "contract-for-alpha.yaml", True),
    ("service/SVC-007", "budget_allocation", 1, "discovery-budget.yaml", True),
    (
        "service/SVC-007/assessments/SVC-007-A01",
        "assessment_report",
        1,
        "discovery-exit-report.yaml",
        True,
    ),
    ("coe/COE-2026-001", "coe_document", 1, "coe-document.yaml", False),  # its .md was lost
]


@dataclass(frozen=True)
class FileStore:
    """A data folder as the file store left it, and what went into it."""

    data_dir: Path
    notifications: list[Notification]
    tokens: dict[str, str]  # token -> person

    @property
    def artefacts(self) -> Path:
        return self.data_dir / "artefacts"

    def json_file(self, case_id: str, kind: str, version: int) -> Path:
        return self.artefacts / case_id / kind / f"v{version}.json"


def store_version(
    root: Path, case_id: str, kind: str, version: int, content: dict[str, Any]
) -> None:
    """What ``ArtefactStore.store`` of the file-store release wrote: the document, then the
    JSON (indented, keys sorted, a newline at the end)."""
    folder = root / case_id / kind
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"v{version}.md").write_text(
        render_markdown(kind, version, case_id, content), encoding="utf-8"
    )
    body = json.dumps(content, indent=2, sort_keys=True, default=str) + "\n"
    (folder / f"v{version}.json").write_text(body, encoding="utf-8")


def put_notification(root: Path, notification: Notification) -> None:
    """What ``Outbox.put`` of the file-store release wrote."""
    path = root / notification.case_id / f"{notification.id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notification.model_dump_json(indent=2) + "\n", encoding="utf-8")


def file_store(data_dir: Path) -> FileStore:
    artefacts = data_dir / "artefacts"
    for case_id, kind, version, example, with_document in VERSIONS:
        content = artefact(example)
        content["version"] = version
        content["note"] = "Résidents\u2019 café — 40 £"  # kept as the store escaped it
        store_version(artefacts, case_id, kind, version, content)
        if not with_document:
            (artefacts / case_id / kind / f"v{version}.md").unlink()
    # What the file store itself left behind: a write killed half way, and a document whose
    # JSON was never written (the version was not accepted).
    folder = artefacts / "new-service" / "PRO-004" / "discovery_plan"
    (folder / ".v2.json.k3j2h1.tmp").write_text('{"half": ', encoding="utf-8")
    (folder / "v2.md").write_text("# Discovery plan v2\n", encoding="utf-8")

    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    notifications = [
        Notification(
            id=f"n-{n:03d}",
            case_id=case_id,
            kind=kind,
            to=to,
            subject=subject,
            body=f"{subject}\n\nSee `osom status {case_id}`.",
            at=at.replace(hour=9 + n),
        )
        for n, (case_id, kind, to, subject) in enumerate(
            [
                ("new-service/PRO-004", "info", ["P-001"], "New proposal PRO-004: Résident"),
                ("new-service/PRO-004", "info", ["P-013", "P-015"], "PRO-004 is ESTABLISHED"),
                ("service/SVC-007", "reminder", ["P-013"], "SVC-007: assessment due"),
                ("coe/COE-2026-001", "escalation", ["P-001", "P-013"], "COE-2026-001 overdue"),
            ]
        )
    ]
    for notification in notifications:
        put_notification(data_dir / "outbox", notification)

    issued = {"osom_" + secrets.token_urlsafe(32): person for person in ("P-001", "P-015")}
    book = {
        "tokens": [
            {
                "person": person,
                "sha256": hashlib.sha256(token.encode()).hexdigest(),
                "label": f"form of {person}",
                "issued_at": "2026-11-30T08:00:00Z",
            }
            for token, person in issued.items()
        ]
    }
    (data_dir / "api-tokens.yaml").write_text(yaml.safe_dump(book, sort_keys=False))
    return FileStore(data_dir, notifications, issued)


@pytest.fixture
def old(tmp_path: Path) -> FileStore:
    return file_store(tmp_path / "data")


@pytest.fixture
def record(tmp_path: Path) -> Iterator[RecordStore]:
    store = RecordStore.open(f"sqlite:///{tmp_path}/r.sqlite3")
    yield store
    store.close()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_version_is_in_the_record_with_the_sha256_of_its_file(
    old: FileStore, record: RecordStore
) -> None:
    done = migrate_store(record, old.data_dir)

    assert done.ok, done.problems
    assert (done.artefacts.added, done.artefacts.present) == (len(VERSIONS), 0)
    assert (done.checked, done.artefact_files) == (len(VERSIONS), len(VERSIONS))
    for case_id, kind, version, _, with_document in VERSIONS:
        path = old.json_file(case_id, kind, version)
        stored = record.artefact(case_id, kind, version)
        assert stored is not None, path
        assert stored.sha256 == sha256_of(path)
        assert stored.content == json.loads(path.read_text(encoding="utf-8"))
        if with_document:
            assert stored.document == path.with_suffix(".md").read_text(encoding="utf-8")
        else:
            assert stored.document == render_markdown(kind, version, case_id, stored.content)
    # Versions a lifecycle keeps under it (its assessments' reports) are found under it.
    kept = {(a.case_id, a.kind, a.version) for a in record.artefacts("service/SVC-007")}
    assert ("service/SVC-007/assessments/SVC-007-A01", "assessment_report", 1) in kept
    # Nothing the file store never stored went in, and what was left out is said.
    assert record.artefact("new-service/PRO-004", "discovery_plan", 2) is None
    assert sorted(line.split(":")[0] for line in done.left_out) == [
        "artefacts/new-service/PRO-004/discovery_plan/.v2.json.k3j2h1.tmp",
        "artefacts/new-service/PRO-004/discovery_plan/v2.md",
    ]


def test_the_outbox_and_the_tokens_are_in_the_record(old: FileStore, record: RecordStore) -> None:
    done = migrate_store(record, old.data_dir)

    assert done.ok, done.problems
    assert (done.notifications.added, done.tokens.added) == (len(old.notifications), 2)
    recorded = record.notifications()
    assert [(n.case_id, n.id) for n in recorded] == [(n.case_id, n.id) for n in old.notifications]
    for kept, sent in zip(recorded, old.notifications, strict=True):
        assert (kept.kind, kept.to, kept.subject, kept.body, kept.at) == (
            sent.kind,
            sent.to,
            sent.subject,
            sent.body,
            sent.at,
        )
        assert kept.state == "recorded"  # read in the outbox; never delivered now
    assert [n.id for n in record.notifications(person="P-013")] == ["n-001", "n-002", "n-003"]
    for token, person in old.tokens.items():
        assert tokens.person_for(record, token) == person
    assert [t.label for t in record.tokens("P-015")] == ["form of P-015"]


def test_a_second_run_changes_nothing(old: FileStore, record: RecordStore) -> None:
    migrate_store(record, old.data_dir)
    before = dump(record)

    again = migrate_store(record, old.data_dir)

    assert again.ok, again.problems
    assert not again.changed
    assert (again.artefacts.added, again.artefacts.present) == (0, len(VERSIONS))
    assert (again.notifications.added, again.notifications.present) == (0, 4)
    assert (again.tokens.added, again.tokens.present) == (0, 2)
    assert (again.checked, again.artefact_files) == (len(VERSIONS), len(VERSIONS))
    assert dump(record) == before


def dump(record: RecordStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables the migration writes, as the database holds them."""
    with record.engine.connect() as connection:
        return {
            table: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))]
            for table in ("artefacts", "notifications", "deliveries", "api_tokens")
        }


def test_the_command_prints_counts_and_says_when_nothing_changed(
    old: FileStore, tmp_path: Path
) -> None:
    env = {"OSOM_RECORD_URL": f"sqlite:///{tmp_path}/r.sqlite3", "OSOM_DATA_DIR": str(tmp_path)}
    runner = CliRunner()

    first = runner.invoke(app, ["migrate-store", "--from", str(old.data_dir)], env=env)
    assert first.exit_code == 0, first.output
    assert f"artefacts:     {len(VERSIONS)} added, 0 already in the record" in first.stdout
    assert "notifications: 4 added, 0 already in the record" in first.stdout
    assert "tokens:        2 added, 0 already in the record" in first.stdout
    assert f"sha256 checked: {len(VERSIONS)} of {len(VERSIONS)}" in first.stdout
    assert "left out: artefacts/new-service/PRO-004/discovery_plan/v2.md" in first.stdout
    assert "nothing changed" not in first.stdout

    second = runner.invoke(app, ["migrate-store", "--from", str(old.data_dir)], env=env)
    assert second.exit_code == 0, second.output
    assert f"artefacts:     0 added, {len(VERSIONS)} already in the record" in second.stdout
    assert f"sha256 checked: {len(VERSIONS)} of {len(VERSIONS)}" in second.stdout
    assert "nothing changed: the record already held all of it" in second.stdout


def test_a_corrupted_file_is_reported_and_fails_the_run(old: FileStore, tmp_path: Path) -> None:
    broken = old.json_file("service/SVC-007", "service_contract", 2)
    broken.write_text(broken.read_text(encoding="utf-8")[:-40], encoding="utf-8")
    env = {"OSOM_RECORD_URL": f"sqlite:///{tmp_path}/r.sqlite3", "OSOM_DATA_DIR": str(tmp_path)}

    run = CliRunner().invoke(app, ["migrate-store", "--from", str(old.data_dir)], env=env)

    assert run.exit_code == 1, run.output
    assert (
        "problem: artefacts/service/SVC-007/service_contract/v2.json: not valid JSON" in run.stderr
    )
    assert f"sha256 checked: {len(VERSIONS) - 1} of {len(VERSIONS)}" in run.stdout
    record = RecordStore.open(env["OSOM_RECORD_URL"])
    try:  # the rest went in; the broken version did not
        assert record.artefact("service/SVC-007", "service_contract", 2) is None
        assert record.artefact("service/SVC-007", "service_contract", 1) is not None
    finally:
        record.close()


def test_a_version_whose_bytes_changed_is_a_sha256_mismatch_not_migrated(
    old: FileStore, record: RecordStore
) -> None:
    """Valid JSON, but not what the store wrote (an edit by hand): the record would hash it to
    something else than its workflows recorded, so it is reported and left out."""
    edited = old.json_file("new-service/PRO-004", "discovery_plan", 1)
    content = json.loads(edited.read_text(encoding="utf-8"))
    edited.write_text(json.dumps(content, indent=4), encoding="utf-8")

    done = migrate_store(record, old.data_dir)

    assert not done.ok
    (problem,) = done.problems
    assert problem.startswith(
        "artefacts/new-service/PRO-004/discovery_plan/v1.json: sha256 mismatch: "
        f"the file's bytes hash to {sha256_of(edited)}"
    )
    assert record.artefact("new-service/PRO-004", "discovery_plan", 1) is None
    assert (done.checked, done.artefact_files) == (len(VERSIONS) - 1, len(VERSIONS))


def test_a_version_the_record_holds_otherwise_is_a_mismatch(
    old: FileStore, record: RecordStore
) -> None:
    record.put_artefact("service/SVC-007", "service_contract", 1, {"other": True}, "# other\n")

    done = migrate_store(record, old.data_dir)

    (problem,) = done.problems
    assert problem.startswith("artefacts/service/SVC-007/service_contract/v1.json: sha256 mismatch")
    stored = record.artefact("service/SVC-007", "service_contract", 1)
    assert stored is not None
    assert stored.content == {"other": True}  # the record's version is never rewritten


def test_unreadable_outbox_and_token_files_are_reported(
    old: FileStore, record: RecordStore
) -> None:
    (old.data_dir / "outbox" / "service" / "SVC-007" / "n-900.json").write_text("{}")
    (old.data_dir / "outbox" / "notes.txt").write_text("to do")
    (old.data_dir / "api-tokens.yaml").write_text("tokens: [{person: P-001\n")

    done = migrate_store(record, old.data_dir)

    assert sorted(p.split(":")[0] for p in done.problems) == [
        "api-tokens.yaml",
        "outbox/notes.txt",
        "outbox/service/SVC-007/n-900.json",
    ]
    assert done.notifications.added == 4  # the readable ones went in
    assert record.tokens() == []


def test_a_missing_folder_is_a_problem(tmp_path: Path, record: RecordStore) -> None:
    done: Migration = migrate_store(record, tmp_path / "nowhere")
    assert done.problems == [f"{tmp_path / 'nowhere'}: no such folder"]

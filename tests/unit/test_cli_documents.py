"""The files people hand to the CLI: anything that is not a plain, shallow mapping is refused.
And what the CLI prints of the record: artefacts by URL and sha256, cases whose workflow is
gone, the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from activities.record import RecordStore
from models.activity_io import Notification
from models.audit import AuditEntry
from models.case_view import CaseStatus
from models.commands import MAX_DEPTH, ArtefactRef, CommandResult
from models.errors import MalformedInput, UnknownCase
from osom import cases
from osom.cli import app, inspecting
from osom.cli.common import describe, print_result
from osom.documents import load_document


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a: " + "[" * 5000 + "]" * 5000, "nests deeper"),  # past the YAML parser's stack
        ("a: " + "{b: " * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), "nests deeper"),
        ("- 1\n- 2\n", "must hold a mapping"),
        ("a: [1, 2\n", "not valid YAML"),
    ],
)
def test_a_file_that_is_not_a_shallow_mapping_is_malformed(
    tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "document.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MalformedInput, match=says):
        load_document(path)


def test_a_file_as_deep_as_the_bound_is_read(tmp_path: Path) -> None:
    path = tmp_path / "document.yaml"
    path.write_text("a: " + "{b: " * (MAX_DEPTH - 2) + "1" + "}" * (MAX_DEPTH - 2))
    assert "a" in load_document(path)


# -- what the CLI prints of the record ---------------------------------------------------------

URL = "http://127.0.0.1:8000/v1/cases/new-service/PRO-004/artefacts/service_contract/v1"
SHA = "ab" * 32


def contract_ref() -> ArtefactRef:
    return ArtefactRef(
        kind="service_contract", version=1, sha256=SHA, case_id="new-service/PRO-004", url=URL
    )


def test_an_accepted_submission_prints_the_artefacts_url_and_sha256(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_result(
        CommandResult(
            decision_id="d-1",
            command="service_contract",
            from_state="DRAFTING",
            to_state="DRAFTING",
            message="service_contract v1 stored",
            artefact=contract_ref(),
        )
    )
    assert capsys.readouterr().out.splitlines()[2:] == [
        f"stored: service_contract v1 {URL}",
        f"sha256: {SHA}",
    ]


def test_a_version_from_the_file_store_is_named_by_its_file() -> None:
    legacy = ArtefactRef(
        kind="service_contract",
        version=1,
        sha256=SHA,
        json_path="/data/artefacts/new-service/PRO-004/service_contract/v1.json",
        markdown_path="/data/artefacts/new-service/PRO-004/service_contract/v1.md",
    )
    assert describe(legacy) == (
        "service_contract v1 /data/artefacts/new-service/PRO-004/service_contract/v1.md "
        "(file store)"
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"OSOM_RECORD_URL": f"sqlite:///{tmp_path}/r.sqlite3", "OSOM_DATA_DIR": str(tmp_path)}


@pytest.fixture
def record(env: dict[str, str]) -> Iterator[RecordStore]:
    store = RecordStore.open(env["OSOM_RECORD_URL"])
    yield store
    store.close()


def test_status_and_log_answer_from_the_record_once_the_workflow_is_gone(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], record: RecordStore
) -> None:
    async def gone(_client: object, workflow_id: str) -> None:
        raise UnknownCase(f"no case with workflow id {workflow_id}")

    async def connected() -> object:
        return object()

    monkeypatch.setattr(cases, "status", gone)
    monkeypatch.setattr(cases, "audit_log", gone)
    monkeypatch.setattr(inspecting, "connect", connected)
    entry = AuditEntry(
        at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        actor="P-015",
        role="PROPOSER",
        command="proposal_submitted",
        from_state="",
        to_state="SUBMITTED",
        outcome="accepted",
    )
    status = CaseStatus(
        workflow_id="new-service/PRO-004",
        process="establishment",
        case_id="PRO-004",
        title="Resident Identity Check",
        service_id=None,
        state="ESTABLISHED",
        state_description="the service exists",
        terminal=True,
        awaiting=[],
        blockers=[],
        legal_triggers=[],
        artefacts={"service_contract": contract_ref()},
        recent=[entry],
    )
    record.put_case("new-service/PRO-004", "establishment", "ESTABLISHED", status.model_dump())
    record.append_audit("new-service/PRO-004", 0, [entry.model_dump(mode="json")])
    runner = CliRunner()

    shown = runner.invoke(app, ["status", "PRO-004"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "state:    ESTABLISHED (final) — the service exists" in shown.stdout
    assert f"artefact: service_contract v1 {URL} sha256 {SHA}" in shown.stdout

    logged = runner.invoke(app, ["log", "PRO-004"], env=env)
    assert logged.exit_code == 0, logged.output
    assert [AuditEntry.model_validate_json(line) for line in logged.stdout.splitlines()] == [entry]

    unknown = runner.invoke(app, ["status", "PRO-009"], env=env)
    assert unknown.exit_code == 2
    assert "refused: UnknownCase" in unknown.stderr


def test_the_outbox_shows_where_each_notification_stands(
    env: dict[str, str], record: RecordStore
) -> None:
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    for n, to in enumerate([["P-001"], ["P-013", "P-015"]]):
        record.put_notification(
            Notification(
                id=f"n-{n}",
                case_id="new-service/PRO-004",
                kind="info",
                to=to,
                subject=f"PRO-004 news {n}",
                body="…",
                at=at + timedelta(minutes=n),
            )
        )
    record.finish_notification("new-service/PRO-004", "n-0", "delivered", None)
    for _ in range(3):
        record.finish_notification(
            "new-service/PRO-004", "n-1", "failed", "smtp: 550 mailbox unavailable\nP-015: timeout"
        )
    runner = CliRunner()

    everything = runner.invoke(app, ["outbox"], env=env)
    assert everything.exit_code == 0, everything.output
    assert everything.stdout.splitlines() == [
        "2026-12-01 09:30 info       delivered 1 attempt  new-service/PRO-004 to P-001: "
        "PRO-004 news 0",
        "2026-12-01 09:31 info       failed    3 attempts new-service/PRO-004 to P-013,P-015: "
        "PRO-004 news 1 — last error: smtp: 550 mailbox unavailable P-015: timeout",
    ]
    failed = runner.invoke(app, ["outbox", "--failed"], env=env).stdout
    assert failed.splitlines() == everything.stdout.splitlines()[1:]
    to_p001 = runner.invoke(app, ["outbox", "--person", "P-001"], env=env).stdout
    assert "PRO-004 news 0" in to_p001
    assert "news 1" not in to_p001
    nobody = runner.invoke(app, ["outbox", "--person", "P-001", "--failed"], env=env).stdout
    assert nobody == "no failed notifications to P-001\n"

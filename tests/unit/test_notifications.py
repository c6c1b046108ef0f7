"""The outbox: one file per notification id, read back by person and in time order."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from activities.notifications import Outbox
from models.activity_io import Notification

CASE = "new-service/PRO-004"
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def note(id: str, to: list[str], minutes: int = 0, **changes: Any) -> Notification:
    data: dict[str, Any] = {
        "id": id,
        "case_id": CASE,
        "kind": "info",
        "to": to,
        "subject": f"subject {id}",
        "body": "body",
        "at": AT + timedelta(minutes=minutes),
    }
    data.update(changes)
    return Notification.model_validate(data)


def test_put_writes_one_json_file_under_the_case_folder(tmp_path: Path) -> None:
    path = Outbox(tmp_path).put(note("0001-a", ["P-001"]))
    assert path == tmp_path / "new-service" / "PRO-004" / "0001-a.json"
    assert Notification.model_validate_json(path.read_text(encoding="utf-8")) == note(
        "0001-a", ["P-001"]
    )


def test_read_returns_what_was_put_in_time_order(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    late = note("0002-b", ["P-001"], minutes=10)
    early = note("0003-c", ["P-013"], minutes=5)
    outbox.put(late)
    outbox.put(early)
    assert outbox.read() == [early, late]


def test_read_filters_by_recipient(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    for_exec = note("0001-a", ["P-001"])
    for_both = note("0002-b", ["P-001", "P-013"], minutes=1)
    for_sm = note("0003-c", ["P-013"], minutes=2)
    for item in (for_exec, for_both, for_sm):
        outbox.put(item)
    assert outbox.read("P-013") == [for_both, for_sm]
    assert outbox.read("P-001") == [for_exec, for_both]
    assert outbox.read("P-999") == []


def test_putting_the_same_id_again_keeps_one_notification(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    first = outbox.put(note("0001-a", ["P-001"]))
    again = outbox.put(note("0001-a", ["P-001"]))
    assert first == again
    assert outbox.read() == [note("0001-a", ["P-001"])]
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["0001-a.json"]


def test_notifications_of_different_cases_are_kept_apart(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.put(note("0001-a", ["P-001"]))
    other = note("0001-a", ["P-001"], minutes=1, case_id="new-service/PRO-005")
    outbox.put(other)
    assert len(outbox.read()) == 2


def test_an_empty_or_missing_outbox_reads_as_empty(tmp_path: Path) -> None:
    assert Outbox(tmp_path).read() == []
    assert Outbox(tmp_path / "not-yet").read() == []


def test_put_leaves_no_temporary_files(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.put(note("0001-a", ["P-001"]))
    outbox.put(note("0001-a", ["P-001"]))
    assert [p.suffix for p in tmp_path.rglob("*") if p.is_file()] == [".json"]


def test_outbox_never_writes_outside_its_root(tmp_path: Path) -> None:
    root = tmp_path / "outbox"
    with contextlib.suppress(Exception):
        Outbox(root).put(note("0001-a", ["P-001"], case_id="../elsewhere"))
    assert not (tmp_path / "elsewhere").exists()


def test_an_unreadable_outbox_file_is_skipped(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.put(note("0001-a", ["P-001"]))
    (tmp_path / "new-service" / "broken.json").write_text("{not json", encoding="utf-8")
    assert [n.id for n in outbox.read()] == ["0001-a"]

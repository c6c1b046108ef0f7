"""The artefact store: atomic JSON + Markdown per version, idempotent, versions immutable."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from activities.artefact_store import ArtefactStore
from activities.files import remove_debris, sweep_debris, write_atomically
from models.activity_io import StoreRequest
from models.errors import ArtefactConflict
from osom.settings import REPO_ROOT
from tests.unit.helpers import example_contract

CASE = "new-service/PRO-004"


def contract_content() -> dict[str, Any]:
    return example_contract().model_dump(mode="json")


def request(version: int = 1, content: dict[str, Any] | None = None) -> StoreRequest:
    return StoreRequest(
        case_id=CASE,
        kind="service_contract",
        version=version,
        content=contract_content() if content is None else content,
    )


def files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_store_writes_json_and_markdown_under_the_case_folder(tmp_path: Path) -> None:
    store = ArtefactStore(tmp_path)
    ref = store.store(request())
    folder = tmp_path / "new-service" / "PRO-004" / "service_contract"
    assert Path(ref.json_path) == folder / "v1.json"
    assert Path(ref.markdown_path) == folder / "v1.md"
    assert files(tmp_path) == [
        Path("new-service/PRO-004/service_contract/v1.json"),
        Path("new-service/PRO-004/service_contract/v1.md"),
    ]
    assert json.loads(Path(ref.json_path).read_text(encoding="utf-8")) == contract_content()
    assert (
        Path(ref.markdown_path)
        .read_text(encoding="utf-8")
        .startswith("# Resident Identity Check\n")
    )
    assert (ref.kind, ref.version) == ("service_contract", 1)


def test_the_reference_carries_the_sha256_of_the_stored_json(tmp_path: Path) -> None:
    ref = ArtefactStore(tmp_path).store(request())
    assert ref.sha256 == hashlib.sha256(Path(ref.json_path).read_bytes()).hexdigest()


def test_storing_the_same_content_again_is_a_no_op(tmp_path: Path) -> None:
    store = ArtefactStore(tmp_path)
    first = store.store(request())
    json_file = Path(first.json_path)
    before = {p: p.read_bytes() for p in (json_file, Path(first.markdown_path))}
    written_at = json_file.stat().st_mtime_ns
    second = store.store(request())
    assert second == first
    assert {p: p.read_bytes() for p in before} == before
    assert json_file.stat().st_mtime_ns == written_at
    assert len(files(tmp_path)) == 2


def test_the_same_content_in_another_key_order_is_the_same_version(tmp_path: Path) -> None:
    store = ArtefactStore(tmp_path)
    first = store.store(request())
    reordered = dict(reversed(list(contract_content().items())))
    assert store.store(request(content=reordered)) == first


def test_different_content_for_an_existing_version_is_refused(tmp_path: Path) -> None:
    store = ArtefactStore(tmp_path)
    first = store.store(request())
    original = Path(first.json_path).read_bytes()
    changed = {**contract_content(), "name": "Another Name"}
    with pytest.raises(ArtefactConflict, match=r"service_contract v1 of .* already exists") as err:
        store.store(request(content=changed))
    assert err.value.details["path"] == first.json_path
    assert Path(first.json_path).read_bytes() == original
    assert "Another Name" not in Path(first.markdown_path).read_text(encoding="utf-8")


def test_a_new_version_is_stored_beside_the_old_one(tmp_path: Path) -> None:
    store = ArtefactStore(tmp_path)
    first = store.store(request(1))
    second = store.store(request(2, {**contract_content(), "name": "Renamed"}))
    assert Path(second.json_path).name == "v2.json"
    assert Path(first.json_path).exists()
    assert first.sha256 != second.sha256


def test_store_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = ArtefactStore(tmp_path)
    store.store(request(1))
    store.store(request(1))
    with pytest.raises(ArtefactConflict):
        store.store(request(1, {"name": "other"}))
    store.store(request(2, {"name": "other"}))
    leftovers = [p for p in files(tmp_path) if p.suffix not in {".json", ".md"}]
    assert leftovers == []
    assert not any(p.name.startswith(".") for p in files(tmp_path))


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("activities.files.os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        ArtefactStore(tmp_path).store(request())
    assert files(tmp_path) == []


def test_content_that_is_not_plain_json_is_stored_as_text(tmp_path: Path) -> None:
    ref = ArtefactStore(tmp_path).store(request(content={"target_end": date(2027, 1, 29)}))
    assert json.loads(Path(ref.json_path).read_text(encoding="utf-8")) == {
        "target_end": "2027-01-29"
    }


def test_store_never_writes_outside_its_root(tmp_path: Path) -> None:
    root = tmp_path / "store"
    escaping = StoreRequest(case_id="../outside", kind="service_contract", version=1, content={})
    with contextlib.suppress(Exception):
        ArtefactStore(root).store(escaping)
    assert not (tmp_path / "outside").exists()


# A writer that stops, for good, once its temporary file is written and fsynced but not renamed:
# the moment a SIGKILL (or a power cut) would leave it behind.
STALLED_WRITER = """
import sys, time
from pathlib import Path
import activities.files
from activities.artefact_store import ArtefactStore
from models.activity_io import StoreRequest

def stall(tmp, path):
    print(tmp, flush=True)
    time.sleep(600)

activities.files.os.replace = stall
ArtefactStore(Path(sys.argv[1])).store(StoreRequest.model_validate_json(sys.stdin.read()))
"""


def stalled_writer(root: Path, stored: StoreRequest) -> tuple[subprocess.Popen[str], Path]:
    """A real process storing ``stored`` under ``root``, stopped before its first rename."""
    child = subprocess.Popen(
        [sys.executable, "-c", STALLED_WRITER, str(root)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    child.stdin.write(stored.model_dump_json())
    child.stdin.close()
    tmp = Path(child.stdout.readline().strip())
    assert tmp.is_file(), f"the writer exited with {child.wait()} before stalling"
    return child, tmp


def killed(child: subprocess.Popen[str]) -> None:
    child.kill()  # SIGKILL: no handler, no clean-up runs
    child.wait(timeout=30)


def test_a_writer_killed_mid_store_leaves_debris_the_next_store_removes(tmp_path: Path) -> None:
    child, tmp = stalled_writer(tmp_path, request())
    try:
        assert tmp.name.startswith(".v1.md.")
        assert tmp.suffix == ".tmp"
        md_path = tmp.with_name("v1.md")
        assert remove_debris(md_path) == []  # a live writer's file is left alone
    finally:
        killed(child)
    assert tmp.is_file()  # what the kill left behind
    ref = ArtefactStore(tmp_path).store(request())
    assert files(tmp_path) == [
        Path("new-service/PRO-004/service_contract/v1.json"),
        Path("new-service/PRO-004/service_contract/v1.md"),
    ]
    assert json.loads(Path(ref.json_path).read_text(encoding="utf-8")) == contract_content()
    assert ref.sha256 == hashlib.sha256(Path(ref.json_path).read_bytes()).hexdigest()
    assert Path(ref.markdown_path).read_text(encoding="utf-8").startswith("# Resident Identity")


def test_the_sweep_removes_old_debris_of_dead_writers_only(tmp_path: Path) -> None:
    dead, debris = stalled_writer(tmp_path, request(1))
    killed(dead)
    alive, writing = stalled_writer(tmp_path, request(2))
    try:
        assert sweep_debris(tmp_path) == []  # both too young to be debris for sure
        an_hour_ago = time.time() - 3600
        for tmp in (debris, writing):
            os.utime(tmp, (an_hour_ago, an_hour_ago))
        assert sweep_debris(tmp_path) == [debris]
        assert writing.is_file()  # its writer holds it, however old it looks
    finally:
        killed(alive)


def test_an_atomic_write_fsyncs_the_file_then_each_folder_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the folder's fsync a power cut can lose the rename (or the new folder) of a
    version whose sha256 is already in a case's history."""
    synced: list[Path | str] = []
    fsync = os.fsync

    def spy(fd: int) -> None:
        is_folder = stat.S_ISDIR(os.fstat(fd).st_mode)
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")) if is_folder else "a file")
        fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    write_atomically(tmp_path / "case" / "kind" / "v1.md", "text")
    assert synced == [tmp_path, tmp_path / "case", "a file", tmp_path / "case" / "kind"]
    synced.clear()
    write_atomically(tmp_path / "case" / "kind" / "v2.md", "text")
    assert synced == ["a file", tmp_path / "case" / "kind"]

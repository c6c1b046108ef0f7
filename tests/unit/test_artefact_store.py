"""The artefact store: each version in the record (SQLite here), idempotent, versions immutable."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from temporalio.exceptions import ApplicationError

from activities.artefact_store import ArtefactStore, artefact_url
from activities.documents import render_markdown
from activities.record import RecordStore
from models.activity_io import StoreRequest
from models.commands import ArtefactRef
from models.errors import ArtefactConflict, RecordUnavailable
from tests.unit.helpers import example_contract

CASE = "new-service/PRO-004"
PUBLIC = "https://osom.fenmoor.example"
SUBMITTED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
UNREACHABLE = "postgresql+psycopg://x@127.0.0.1:1/none"  # nothing listens on port 1


def contract_content() -> dict[str, Any]:
    return example_contract().model_dump(mode="json")


def request(version: int = 1, content: dict[str, Any] | None = None, **more: Any) -> StoreRequest:
    return StoreRequest(
        case_id=more.pop("case_id", CASE),
        kind="service_contract",
        version=version,
        content=contract_content() if content is None else content,
        **more,
    )


def canonical_sha256(content: dict[str, Any]) -> str:
    """The sha256 the file store gave a version: of its JSON, indented, keys sorted, with a
    final newline (so references in old histories still match the record)."""
    body = json.dumps(content, indent=2, sort_keys=True) + "\n"
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def rows(record: RecordStore) -> list[tuple[Any, ...]]:
    """Every artefact row as the database holds it."""
    with record.engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT case_id, kind, version, content, document, sha256, recorded_at "
                "FROM artefacts ORDER BY case_id, kind, version"
            )
        )
        return [tuple(row) for row in found]


@pytest.fixture
def record(tmp_path: Path) -> Iterator[RecordStore]:
    store = RecordStore.open(f"sqlite:///{tmp_path / 'record.sqlite3'}")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def store(record: RecordStore, tmp_path: Path) -> ArtefactStore:
    return ArtefactStore(record, PUBLIC, legacy_root=tmp_path / "artefacts")


# -- storing ------------------------------------------------------------------------------------


def test_store_records_the_version_under_its_case_and_names_it(
    store: ArtefactStore, record: RecordStore
) -> None:
    ref = store.store(request(submitted_by="P-013", submitted_at=SUBMITTED))
    assert (ref.kind, ref.version, ref.case_id) == ("service_contract", 1, CASE)
    assert ref.url == f"{PUBLIC}/v1/cases/{CASE}/artefacts/service_contract/v1"
    assert ref.url == artefact_url(PUBLIC + "/", CASE, "service_contract", 1)
    assert ref.json_path is None
    assert ref.markdown_path is None
    assert ref.stored_under(CASE)
    assert not ref.stored_under("new-service/PRO-005")
    stored = record.artefact(CASE, "service_contract", 1)
    assert stored is not None
    assert stored.content == contract_content()
    assert stored.sha256 == ref.sha256
    assert (stored.submitted_by, stored.submitted_at) == ("P-013", SUBMITTED)


def test_the_markdown_document_is_rendered_and_recorded_with_it(
    store: ArtefactStore, record: RecordStore
) -> None:
    store.store(request())
    stored = record.artefact(CASE, "service_contract", 1)
    assert stored is not None
    assert stored.document.startswith("# Resident Identity Check\n")
    assert f"*service contract · version 1 · case {CASE}*" in stored.document
    assert stored.document == render_markdown("service_contract", 1, CASE, contract_content())


def test_the_reference_carries_the_sha256_of_the_canonical_json(store: ArtefactStore) -> None:
    ref = store.store(request())
    assert ref.sha256 == canonical_sha256(contract_content())


def test_the_reference_travels_without_legacy_fields() -> None:
    ref = ArtefactRef(kind="k", version=1, sha256="0" * 64, case_id=CASE, url=f"{PUBLIC}/x")
    assert set(ref.model_dump()) == {"kind", "version", "sha256", "case_id", "url"}
    assert ArtefactRef.model_validate_json(ref.model_dump_json()) == ref


def test_storing_the_same_content_again_is_a_no_op(
    store: ArtefactStore, record: RecordStore
) -> None:
    first = store.store(request())
    before = rows(record)
    second = store.store(request())
    assert second == first
    assert rows(record) == before  # the same row, not even its recorded_at rewritten
    assert len(before) == 1


def test_the_same_content_in_another_key_order_is_the_same_version(store: ArtefactStore) -> None:
    first = store.store(request())
    reordered = dict(reversed(list(contract_content().items())))
    assert store.store(request(content=reordered)) == first


def test_different_content_for_an_existing_version_is_refused(
    store: ArtefactStore, record: RecordStore
) -> None:
    first = store.store(request())
    before = rows(record)
    changed = {**contract_content(), "name": "Another Name"}
    with pytest.raises(ArtefactConflict, match=r"service_contract v1 of .* already exists") as err:
        store.store(request(content=changed))
    assert err.value.details == {"case_id": CASE, "kind": "service_contract", "version": 1}
    assert rows(record) == before
    stored = record.artefact(CASE, "service_contract", 1)
    assert stored is not None
    assert stored.sha256 == first.sha256
    assert "Another Name" not in stored.document


def test_another_worker_on_the_same_record_is_refused_too(
    store: ArtefactStore, tmp_path: Path
) -> None:
    """The rule is the database's, not one host's: a second store (another worker) over the
    same record takes the same version as a no-op and other content as a conflict."""
    first = store.store(request())
    other_record = RecordStore.open(f"sqlite:///{tmp_path / 'record.sqlite3'}")
    try:
        other = ArtefactStore(other_record, PUBLIC)
        assert other.store(request()) == first
        with pytest.raises(ArtefactConflict):
            other.store(request(content={"name": "elsewhere"}))
    finally:
        other_record.close()


def test_a_new_version_is_stored_beside_the_old_one(
    store: ArtefactStore, record: RecordStore
) -> None:
    first = store.store(request(1))
    second = store.store(request(2, {**contract_content(), "name": "Renamed"}))
    assert second.url.endswith("/artefacts/service_contract/v2")
    assert first.sha256 != second.sha256
    assert [(a.kind, a.version) for a in record.artefacts(CASE)] == [
        ("service_contract", 1),
        ("service_contract", 2),
    ]


def test_the_same_version_of_another_case_is_another_artefact(
    store: ArtefactStore, record: RecordStore
) -> None:
    mine = store.store(request())
    theirs = store.store(request(content={"name": "theirs"}, case_id="new-service/PRO-005"))
    assert mine.case_id != theirs.case_id
    assert len(rows(record)) == 2


def test_content_that_is_not_plain_json_is_stored_as_text(
    store: ArtefactStore, record: RecordStore
) -> None:
    ref = store.store(request(content={"target_end": date(2027, 1, 29)}))
    stored = record.artefact(CASE, "service_contract", 1)
    assert stored is not None
    assert stored.content == {"target_end": "2027-01-29"}
    assert ref.sha256 == canonical_sha256({"target_end": "2027-01-29"})


def test_store_writes_no_file_beside_the_record(store: ArtefactStore, tmp_path: Path) -> None:
    """Whatever the case id holds, nothing lands on the worker's disk but the database."""
    store.store(request())
    store.store(request(content={}, case_id="../outside"))
    written = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    database = {"record.sqlite3", "record.sqlite3-wal", "record.sqlite3-shm"}
    assert written <= database | {"record.sqlite3.migrating"}  # the migration's lock
    assert not (tmp_path.parent / "outside").exists()


# -- the activities -------------------------------------------------------------------------------


def test_the_activity_refuses_a_conflict_for_good(store: ArtefactStore) -> None:
    store.store_artefact(request())
    with pytest.raises(ApplicationError) as err:
        store.store_artefact(request(content={"name": "other"}))
    assert err.value.type == "ArtefactConflict"
    assert err.value.non_retryable


def test_a_record_that_cannot_be_reached_is_retried() -> None:
    """RecordUnavailable, which the activity hands Temporal as retryable."""
    unreachable = RecordStore(UNREACHABLE)
    try:
        store = ArtefactStore(unreachable, PUBLIC)
        with pytest.raises(RecordUnavailable):
            store.store(request())
        with pytest.raises(ApplicationError) as err:
            store.store_artefact(request())
        assert err.value.type == "RecordUnavailable"
        assert not err.value.non_retryable
    finally:
        unreachable.close()


# -- reading back ---------------------------------------------------------------------------------


def test_read_gives_back_the_content_the_reference_names(store: ArtefactStore) -> None:
    ref = store.store(request())
    assert store.read(ref) == contract_content()
    assert store.read_artefact(ref) == contract_content()


def test_read_checks_the_sha256(store: ArtefactStore) -> None:
    ref = store.store(request())
    forged = ref.model_copy(update={"sha256": "f" * 64})
    with pytest.raises(ArtefactConflict, match="does not match its recorded sha256"):
        store.read(forged)
    with pytest.raises(ApplicationError) as err:
        store.read_artefact(forged)
    assert err.value.type == "UnreadableArtefact"
    assert err.value.non_retryable


def test_read_of_a_version_the_record_does_not_hold_is_refused(store: ArtefactStore) -> None:
    ref = store.store(request())
    for missing in (
        ref.model_copy(update={"version": 2}),
        ref.model_copy(update={"case_id": "new-service/PRO-005"}),
    ):
        with pytest.raises(ArtefactConflict, match="is not in the record"):
            store.read(missing)


def test_a_reference_from_the_file_store_resolves_to_its_case(
    store: ArtefactStore, tmp_path: Path
) -> None:
    """An old history's reference names a file under the old artefact root: the case is the
    path under that root less ``kind/vN.json`` (what ``osom migrate-store`` recorded)."""
    stored = store.store(request(case_id="service/SVC-007"))
    folder = tmp_path / "artefacts" / "service" / "SVC-007" / "service_contract"
    legacy = ArtefactRef(
        kind="service_contract",
        version=1,
        sha256=stored.sha256,
        json_path=str(folder / "v1.json"),
        markdown_path=str(folder / "v1.md"),
    )
    assert legacy.stored_under("service/SVC-007")
    assert not legacy.stored_under("service/SVC-008")
    assert store.read(legacy) == contract_content()


def test_a_reference_from_the_file_store_elsewhere_is_refused(
    store: ArtefactStore, record: RecordStore, tmp_path: Path
) -> None:
    stored = store.store(request(case_id="service/SVC-007"))
    elsewhere = ArtefactRef(
        kind="service_contract",
        version=1,
        sha256=stored.sha256,
        json_path=str(tmp_path / "other" / "service" / "SVC-007" / "service_contract" / "v1.json"),
        markdown_path="/x.md",
    )
    with pytest.raises(ArtefactConflict, match="was not stored under"):
        store.read(elsewhere)
    nowhere = ArtefactRef(kind="service_contract", version=1, sha256=stored.sha256)
    with pytest.raises(ArtefactConflict, match="names no case"):
        store.read(nowhere)
    without_root = ArtefactStore(record, PUBLIC)
    with pytest.raises(ArtefactConflict, match="names no case"):
        without_root.read(elsewhere)

"""The record store on both of its databases: SQLite (a file in tmp_path) and PostgreSQL (a
fresh database on the session's private server, tests/postgres.py).

Every test runs on each: the rules (a version is never rewritten, an audit entry is written once
and chained, a notification is recorded once) are the database's, so they must hold on both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import inspect, text

from activities.record import AuditConflict, RecordStore, chain
from models.activity_io import Notification
from models.errors import ArtefactConflict, RecordUnavailable
from models.record import Delivery, TokenRecord
from tests.postgres import PostgresServer

BACKENDS = ["sqlite", "postgresql"]
HEAD = "r0002"
CASE = "new-service/PRO-004"
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# Nothing listens on port 1; the password must never show in what the store says.
UNREACHABLE = "postgresql+psycopg://x:s3cret@127.0.0.1:1/none"

T = TypeVar("T")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or a new PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'record.sqlite3'}"
    postgres: PostgresServer = request.getfixturevalue("postgres")
    return postgres.new_database()


@pytest.fixture(scope="session")
def migrated_template(postgres: PostgresServer) -> str:
    """A PostgreSQL database migrated once, copied for each test (faster than migrating)."""
    name = "record_store_template"
    store = RecordStore.open(postgres.new_database(name))
    store.close()  # nobody may be connected to a template
    return name


@pytest.fixture
def record(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    """A store with its schema at the head, on an otherwise empty database."""
    if backend == "sqlite":
        store = RecordStore.open(f"sqlite:///{tmp_path / 'record.sqlite3'}")
    else:
        postgres: PostgresServer = request.getfixturevalue("postgres")
        template = request.getfixturevalue("migrated_template")
        store = RecordStore.open(postgres.new_database(template=template))
    try:
        yield store
    finally:
        store.close()


def sql(store: RecordStore, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """Raw SQL on the store's database, committed (what an operator, or an attacker, does)."""
    with store.engine.begin() as connection:
        result = connection.execute(text(statement), params)
        return [tuple(row) for row in result] if result.returns_rows else []


def entries(*numbers: int) -> list[dict[str, Any]]:
    return [
        {"seq": n, "event": f"event {n}", "actor": "P-001", "at": AT.isoformat()} for n in numbers
    ]


def note(id: str, to: list[str], minutes: int = 0, case_id: str = CASE) -> Notification:
    return Notification(
        id=id,
        case_id=case_id,
        kind="info",
        to=to,
        subject=f"subject {id}",
        body="body",
        at=AT + timedelta(minutes=minutes),
    )


def both(work: Callable[[], T]) -> list[T | BaseException]:
    """Run ``work`` in two threads released at the same moment; what each returned or raised."""
    barrier = threading.Barrier(2)
    results: list[T | BaseException] = [RuntimeError("not run")] * 2

    def run(slot: int) -> None:
        barrier.wait()
        try:
            results[slot] = work()
        except BaseException as err:
            results[slot] = err

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


# -- the schema -----------------------------------------------------------------------------------


def test_open_migrates_an_empty_database_to_the_head(url: str) -> None:
    empty = RecordStore(url)
    try:
        assert empty.revision() is None
    finally:
        empty.close()
    store = RecordStore.open(url)
    try:
        assert store.revision() == HEAD
        tables = set(inspect(store.engine).get_table_names())
        assert {
            "artefacts",
            "audit_entries",
            "cases",
            "notifications",
            "deliveries",
            "api_tokens",
            "alembic_version",
        } <= tables
    finally:
        store.close()
    again = RecordStore.open(url)  # a second worker starting: nothing to do
    try:
        assert again.revision() == HEAD
    finally:
        again.close()


def test_workers_starting_together_migrate_once(url: str) -> None:
    def start() -> str | None:
        store = RecordStore.open(url)
        try:
            return store.revision()
        finally:
            store.close()

    assert both(start) == [HEAD, HEAD]


def test_a_record_of_the_first_schema_is_migrated_with_its_data(url: str) -> None:
    """Rows written by the previous version (r0001: no deliveries table) keep their content,
    their chain and their notifications, whose deliveries are then recorded as usual."""
    store = RecordStore(url)
    try:
        store.migrate("r0001")
        assert store.revision() == "r0001"
        assert "deliveries" not in inspect(store.engine).get_table_names()
        content = {"name": "Resident Identity Check", "version": 1}
        body = chain.artefact_body(content)
        sql(
            store,
            "INSERT INTO artefacts (case_id, kind, version, content, document, sha256, "
            "submitted_by, submitted_at, recorded_at) VALUES (:case, 'service_contract', 1, "
            ":content, '# Resident Identity Check\n', :sha, 'P-013', :at, :at)",
            case=CASE,
            content=body,
            sha=chain.sha256(body),
            at=AT,
        )
        prev = chain.GENESIS
        for seq, entry in enumerate(entries(0, 1, 2)):
            entry_body = chain.entry_body(entry)
            digest = chain.link(prev, entry_body)
            sql(
                store,
                "INSERT INTO audit_entries (case_id, seq, entry, prev_hash, hash, recorded_at) "
                "VALUES (:case, :seq, :entry, :prev, :hash, :at)",
                case=CASE,
                seq=seq,
                entry=entry_body,
                prev=prev,
                hash=digest,
                at=AT,
            )
            prev = digest
        sql(
            store,
            "INSERT INTO notifications (case_id, id, kind, recipients, subject, body, at, state, "
            "attempts, last_error, updated_at) VALUES (:case, '0001-a', 'info', '[\"P-001\"]', "
            "'subject', 'body', :at, 'pending', 1, NULL, :at)",
            case=CASE,
            at=AT,
        )

        store.migrate()

        assert store.revision() == HEAD
        stored = store.artefact(CASE, "service_contract", 1)
        assert stored is not None
        assert (stored.content, stored.sha256) == (content, chain.sha256(body))
        assert (stored.submitted_by, stored.submitted_at) == ("P-013", AT)
        assert store.audit(CASE) == entries(0, 1, 2)
        report = store.verify(CASE)
        assert (report.intact, report.entries, report.head) == (True, 3, prev)
        assert store.append_audit(CASE, 3, entries(3)) == 4
        assert store.verify(CASE).intact
        pending = store.notification(CASE, "0001-a")
        assert pending is not None
        assert (pending.state, pending.attempts, pending.to, pending.deliveries) == (
            "pending",
            1,
            ["P-001"],
            [],
        )
        store.mark_delivery(CASE, "0001-a", "P-001", "email", None)
        store.finish_notification(CASE, "0001-a", "delivered", None)
        delivered = store.notification(CASE, "0001-a")
        assert delivered is not None
        assert delivered.state == "delivered"
        assert delivered.deliveries == [
            Delivery(person="P-001", channel="email", state="sent", attempts=1)
        ]
    finally:
        store.close()


# -- artefacts ------------------------------------------------------------------------------------


def test_an_artefact_version_is_put_once(record: RecordStore) -> None:
    first = record.put_artefact(
        CASE, "service_contract", 1, {"name": "x"}, "# x\n", submitted_by="P-013", submitted_at=AT
    )
    assert first.sha256 == chain.sha256(chain.artefact_body({"name": "x"}))
    assert (first.content, first.document) == ({"name": "x"}, "# x\n")
    assert (first.submitted_by, first.submitted_at) == ("P-013", AT)
    assert first.recorded_at.tzinfo is not None
    again = record.put_artefact(CASE, "service_contract", 1, {"name": "x"}, "# x\n")
    assert again == first  # recorded_at and all: nothing was written
    assert sql(record, "SELECT count(*) FROM artefacts") == [(1,)]
    assert record.artefact(CASE, "service_contract", 1) == first
    assert record.artefact(CASE, "service_contract", 2) is None


def test_other_content_for_a_version_is_an_artefact_conflict_and_changes_nothing(
    record: RecordStore,
) -> None:
    record.put_artefact(CASE, "service_contract", 1, {"name": "x"}, "# x\n")
    before = sql(record, "SELECT content, document, sha256, recorded_at FROM artefacts")
    with pytest.raises(ArtefactConflict, match="already exists with different content") as err:
        record.put_artefact(CASE, "service_contract", 1, {"name": "y"}, "# y\n")
    assert type(err.value) is ArtefactConflict
    assert err.value.type == "ArtefactConflict"
    assert err.value.details == {"case_id": CASE, "kind": "service_contract", "version": 1}
    assert sql(record, "SELECT content, document, sha256, recorded_at FROM artefacts") == before


def test_two_workers_putting_one_version_at_once_keep_one(record: RecordStore) -> None:
    other = RecordStore(record.url)
    try:
        stores = iter([record, other])
        lock = threading.Lock()

        def put() -> str:
            with lock:
                store = next(stores)
            return store.put_artefact(CASE, "k", 1, {"name": "same"}, "# same\n").sha256

        first, second = both(put)
        assert first == second
        assert sql(record, "SELECT count(*) FROM artefacts") == [(1,)]
    finally:
        other.close()


def test_a_case_lists_its_artefacts_and_those_kept_under_it_only(record: RecordStore) -> None:
    for case in (
        "service/SVC-001",
        "service/SVC-001/assessments/SVC-001-A01",
        "service/SVC-0011",
        "service/SVC_001/x",  # "_" is a LIKE wildcard: it must not match "/"
        "service/SVC%001/x",
    ):
        record.put_artefact(case, "k", 1, {"case": case}, "")
    record.put_artefact("service/SVC-001", "k", 2, {"v": 2}, "")
    listed = [(a.case_id, a.kind, a.version) for a in record.artefacts("service/SVC-001")]
    assert listed == [
        ("service/SVC-001", "k", 1),
        ("service/SVC-001", "k", 2),
        ("service/SVC-001/assessments/SVC-001-A01", "k", 1),
    ]
    assert [a.case_id for a in record.artefacts("service/SVC_001")] == ["service/SVC_001/x"]
    assert [a.case_id for a in record.artefacts("service/SVC%001")] == ["service/SVC%001/x"]
    assert record.artefacts("service/SVC-999") == []


# -- the audit chain ------------------------------------------------------------------------------


def test_appending_the_same_entries_again_writes_each_once(record: RecordStore) -> None:
    assert record.append_audit(CASE, 0, entries(0, 1, 2)) == 3
    assert record.append_audit(CASE, 0, entries(0, 1, 2)) == 3  # a retry
    assert record.append_audit(CASE, 1, entries(1, 2, 3)) == 4  # overlapping: only 3 is new
    assert sql(record, "SELECT seq, count(*) FROM audit_entries GROUP BY seq ORDER BY seq") == [
        (0, 1),
        (1, 1),
        (2, 1),
        (3, 1),
    ]
    assert record.audit(CASE) == entries(0, 1, 2, 3)
    report = record.verify(CASE)
    assert (report.case_id, report.entries, report.intact, report.broken_at) == (
        CASE,
        4,
        True,
        None,
    )
    [(last,)] = sql(record, "SELECT hash FROM audit_entries WHERE seq = 3")
    assert report.head == last


def test_each_entry_is_chained_to_the_one_before(record: RecordStore) -> None:
    record.append_audit(CASE, 0, entries(0, 1))
    rows = sql(record, "SELECT seq, entry, prev_hash, hash FROM audit_entries ORDER BY seq")
    assert rows[0][2] == chain.GENESIS
    assert rows[1][2] == rows[0][3]
    for _, body, prev, digest in rows:
        assert digest == chain.sha256(prev + body)


def test_other_content_under_a_recorded_number_is_an_audit_conflict(record: RecordStore) -> None:
    record.append_audit(CASE, 0, entries(0, 1, 2))
    before = sql(record, "SELECT seq, entry, hash FROM audit_entries ORDER BY seq")
    changed = [{**entries(1)[0], "actor": "P-666"}]
    with pytest.raises(AuditConflict, match=r"entry 1 of .* already recorded with other content"):
        record.append_audit(CASE, 1, changed)
    assert sql(record, "SELECT seq, entry, hash FROM audit_entries ORDER BY seq") == before


def test_a_gap_in_the_chain_is_refused(record: RecordStore) -> None:
    record.append_audit(CASE, 0, entries(0, 1, 2))
    with pytest.raises(AuditConflict, match="no entry 4 to chain 5 to") as err:
        record.append_audit(CASE, 5, entries(5, 6))
    assert isinstance(err.value, ArtefactConflict)  # refused for good, like a version conflict
    assert [seq for (seq,) in sql(record, "SELECT seq FROM audit_entries ORDER BY seq")] == [
        0,
        1,
        2,
    ]


def test_a_log_may_start_past_zero(record: RecordStore) -> None:
    """A long-lived case's oldest entries were written before the record existed."""
    assert record.append_audit(CASE, 7, entries(7, 8)) == 9
    assert record.append_audit(CASE, 9, entries(9)) == 10
    report = record.verify(CASE)
    assert (report.intact, report.entries) == (True, 3)


def test_the_first_batch_of_a_log_that_starts_past_zero_may_be_retried(
    record: RecordStore,
) -> None:
    """A retried activity sends its batch again: what is recorded is skipped, as from 0."""
    record.append_audit(CASE, 7, entries(7, 8))
    assert record.append_audit(CASE, 7, entries(7, 8)) == 9
    assert sql(record, "SELECT count(*) FROM audit_entries") == [(2,)]


def test_cases_have_chains_of_their_own(record: RecordStore) -> None:
    record.append_audit(CASE, 0, entries(0, 1))
    record.append_audit("new-service/PRO-005", 0, entries(0))
    assert record.verify(CASE).entries == 2
    assert record.verify("new-service/PRO-005").entries == 1
    empty = record.verify("new-service/PRO-999")
    assert (empty.entries, empty.intact, empty.head) == (0, True, None)


def test_an_entry_changed_in_the_database_is_reported_and_not_repaired(
    record: RecordStore,
) -> None:
    record.append_audit(CASE, 0, entries(0, 1, 2))
    forged = chain.entry_body({**entries(1)[0], "actor": "P-666"})
    sql(
        record,
        "UPDATE audit_entries SET entry = :entry WHERE case_id = :case AND seq = 1",
        entry=forged,
        case=CASE,
    )
    for _ in range(2):  # reading the chain never rewrites it
        report = record.verify(CASE)
        assert (report.intact, report.broken_at, report.head) == (False, 1, None)
        assert report.problem is not None
        assert "changed after it was recorded" in report.problem
    assert sql(record, "SELECT entry FROM audit_entries WHERE seq = 1") == [(forged,)]


def test_an_entry_rehashed_in_the_database_breaks_the_link_after_it(record: RecordStore) -> None:
    record.append_audit(CASE, 0, entries(0, 1, 2))
    forged = chain.entry_body({**entries(1)[0], "actor": "P-666"})
    [(prev,)] = sql(record, "SELECT hash FROM audit_entries WHERE seq = 0")
    sql(
        record,
        "UPDATE audit_entries SET entry = :entry, hash = :hash WHERE seq = 1",
        entry=forged,
        hash=chain.link(prev, forged),
    )
    report = record.verify(CASE)
    assert (report.intact, report.broken_at) == (False, 2)
    assert report.problem == "entry 2 does not point at the entry before it"


def test_an_entry_deleted_from_the_database_is_reported_missing(record: RecordStore) -> None:
    record.append_audit(CASE, 0, entries(0, 1, 2))
    sql(record, "DELETE FROM audit_entries WHERE seq = 1")
    report = record.verify(CASE)
    assert (report.intact, report.broken_at, report.problem) == (False, 1, "entry 1 is missing")


def test_two_threads_appending_the_same_batch_write_one_row_per_entry(
    record: RecordStore,
) -> None:
    """A retried activity racing its first attempt (or two workers): each entry lands once."""
    other = RecordStore(record.url)
    try:
        for run in range(5):
            case = f"{CASE}-{run}"
            stores = iter([record, other])
            lock = threading.Lock()

            def append(
                case: str = case,
                stores: Iterator[RecordStore] = stores,
                lock: threading.Lock = lock,
            ) -> int:
                with lock:
                    store = next(stores)
                return store.append_audit(case, 0, entries(0, 1, 2, 3))

            assert both(append) == [4, 4]
            rows = sql(
                record,
                "SELECT seq, count(*) FROM audit_entries WHERE case_id = :case "
                "GROUP BY seq ORDER BY seq",
                case=case,
            )
            assert rows == [(0, 1), (1, 1), (2, 1), (3, 1)]
            assert record.verify(case).intact
    finally:
        other.close()


# -- the view of a case ---------------------------------------------------------------------------


def test_the_latest_view_of_a_case_is_kept(record: RecordStore) -> None:
    assert record.case(CASE) is None
    record.put_case(CASE, "establishment", "PROPOSED", {"state": "PROPOSED", "n": 1})
    record.put_case(CASE, "establishment", "TRIAGE", {"state": "TRIAGE", "n": 2})
    kept = record.case(CASE)
    assert kept is not None
    assert (kept.process, kept.state, kept.status) == (
        "establishment",
        "TRIAGE",
        {"state": "TRIAGE", "n": 2},
    )
    assert kept.updated_at.tzinfo is not None
    assert sql(record, "SELECT count(*) FROM cases") == [(1,)]


# -- the outbox -----------------------------------------------------------------------------------


def test_a_notification_is_put_once(record: RecordStore) -> None:
    first = record.put_notification(note("0001-a", ["P-001"]))
    assert (first.state, first.attempts, first.deliveries) == ("pending", 0, [])
    assert (first.to, first.subject, first.at) == (["P-001"], "subject 0001-a", AT)
    record.finish_notification(CASE, "0001-a", "recorded", None)
    again = record.put_notification(note("0001-a", ["P-001"]))  # a retried activity
    assert (again.state, again.attempts) == ("recorded", 1)  # found where it stands
    assert sql(record, "SELECT count(*) FROM notifications") == [(1,)]


def test_deliveries_and_where_a_notification_stands(record: RecordStore) -> None:
    record.put_notification(note("0001-a", ["P-001", "P-013"]))
    record.mark_delivery(CASE, "0001-a", "P-001", "email", None)
    record.mark_delivery(CASE, "0001-a", "P-013", "webhook", "webhook delivery failed: 500")
    record.finish_notification(CASE, "0001-a", "pending", "P-013 by webhook: 500")
    pending = record.notification(CASE, "0001-a")
    assert pending is not None
    assert (pending.state, pending.attempts, pending.last_error) == (
        "pending",
        1,
        "P-013 by webhook: 500",
    )
    assert pending.deliveries == [
        Delivery(person="P-001", channel="email", state="sent", attempts=1),
        Delivery(
            person="P-013",
            channel="webhook",
            state="failed",
            attempts=1,
            last_error="webhook delivery failed: 500",
        ),
    ]
    record.mark_delivery(CASE, "0001-a", "P-013", "webhook", None)
    record.finish_notification(CASE, "0001-a", "delivered", None)
    delivered = record.notification(CASE, "0001-a")
    assert delivered is not None
    assert (delivered.state, delivered.attempts, delivered.last_error) == ("delivered", 2, None)
    assert delivered.deliveries[1] == Delivery(
        person="P-013", channel="webhook", state="sent", attempts=2
    )


def test_finishing_a_notification_the_record_does_not_hold_is_an_error(
    record: RecordStore,
) -> None:
    with pytest.raises(KeyError):
        record.finish_notification(CASE, "0009-z", "delivered", None)


def test_the_outbox_by_person_and_by_state_oldest_first(record: RecordStore) -> None:
    record.put_notification(note("0003-c", ["P-013"], minutes=2))
    record.put_notification(note("0002-b", ["P-001", "P-013"], minutes=1))
    record.put_notification(note("0001-a", ["P-001"]))
    record.put_notification(note("0001-a", ["P-0010"], minutes=3, case_id="new-service/PRO-5"))
    record.finish_notification(CASE, "0002-b", "failed", "retries ran out")
    assert [n.id for n in record.notifications()] == ["0001-a", "0002-b", "0003-c", "0001-a"]
    assert [n.id for n in record.notifications(person="P-013")] == ["0002-b", "0003-c"]
    assert [n.id for n in record.notifications(person="P-001")] == ["0001-a", "0002-b"]
    assert [n.id for n in record.notifications(state="failed")] == ["0002-b"]
    assert [n.id for n in record.notifications(person="P-001", state="pending")] == ["0001-a"]
    assert record.notifications(person="P-999") == []


# -- API tokens ------------------------------------------------------------------------------------


def token(sha: str, person: str = "P-001", minutes: int = 0, **more: Any) -> TokenRecord:
    return TokenRecord(
        sha256=sha * 64,
        person=person,
        label=f"laptop {sha}",
        issued_at=AT + timedelta(minutes=minutes),
        **more,
    )


def test_tokens_are_added_found_and_revoked_once(record: RecordStore) -> None:
    first = token("a", expires_at=AT + timedelta(days=30))
    record.add_token(first)
    record.add_token(token("b", minutes=1))
    record.add_token(token("c", person="P-013", minutes=2))
    assert record.token("a" * 64) == first
    assert record.token("f" * 64) is None
    assert [t.sha256[0] for t in record.tokens()] == ["a", "b", "c"]
    assert [t.sha256[0] for t in record.tokens("P-001")] == ["a", "b"]
    revoked_at = AT + timedelta(hours=1)
    assert record.revoke_token("a" * 64, revoked_at) is True
    assert record.revoke_token("a" * 64, revoked_at + timedelta(hours=1)) is False
    assert record.revoke_token("f" * 64, revoked_at) is False
    found = record.token("a" * 64)
    assert found is not None
    assert found.revoked_at == revoked_at
    assert found.expires_at == AT + timedelta(days=30)


def test_a_moment_given_in_another_zone_is_kept_as_the_same_instant(record: RecordStore) -> None:
    """``osom token issue --expires-at 2027-01-02T10:00+01:00`` must expire at 09:00 UTC."""
    paris = timezone(timedelta(hours=1))
    issued = datetime(2027, 1, 1, 10, 0, tzinfo=paris)
    record.add_token(
        TokenRecord(
            sha256="a" * 64, person="P-001", issued_at=issued, expires_at=issued + timedelta(days=1)
        )
    )
    found = record.token("a" * 64)
    assert found is not None
    assert found.issued_at == issued
    assert found.expires_at == issued + timedelta(days=1)
    stored = record.put_artefact(CASE, "k", 1, {}, "", submitted_at=issued)
    assert stored.submitted_at == issued


# -- a record that cannot be reached -----------------------------------------------------------


def test_a_record_that_cannot_be_reached_is_unavailable_and_retryable() -> None:
    down = RecordStore(UNREACHABLE)
    try:
        attempts: list[Callable[[], object]] = [
            down.ping,
            lambda: down.put_artefact(CASE, "k", 1, {}, ""),
            lambda: down.append_audit(CASE, 0, entries(0)),
            lambda: down.put_notification(note("0001-a", ["P-001"])),
            lambda: down.token("a" * 64),
            down.migrate,
        ]
        for attempt in attempts:
            with pytest.raises(RecordUnavailable, match="the record store is unavailable") as err:
                attempt()
            assert err.value.retryable
            assert "s3cret" not in str(err.value)
    finally:
        down.close()


def test_opening_a_record_that_cannot_be_reached_is_unavailable() -> None:
    with pytest.raises(RecordUnavailable):
        RecordStore.open(UNREACHABLE)

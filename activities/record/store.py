"""The record store: one interface over SQLite (the embedded default) and PostgreSQL.

Every method is one short transaction. A database that cannot be reached, is locked past its
timeout or is full raises ``RecordUnavailable`` (retryable); nothing half-written stays behind.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from activities.record import chain
from activities.record.schema import (
    ArtefactRow,
    AuditRow,
    CaseRow,
    DeliveryRow,
    NotificationRow,
    TokenRow,
)
from models.activity_io import Notification
from models.errors import ArtefactConflict, RecordUnavailable
from models.record import (
    ChainReport,
    Delivery,
    DeliveryState,
    RecordedCase,
    RecordedNotification,
    StoredArtefact,
    TokenRecord,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# A PostgreSQL advisory lock key: one migrating process at a time across every host.
_MIGRATION_LOCK = 0x05_0_5_0001


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime | None) -> datetime | None:
    """Every moment is stored in UTC: SQLite keeps no offset, so one in another zone would come
    back with its wall-clock time labelled UTC."""
    return moment.astimezone(UTC) if moment is not None and moment.tzinfo else moment


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; every moment stored is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class AuditConflict(ArtefactConflict):
    """An audit entry already recorded under that number holds something else."""


class RecordStore:
    """The organisation's record of every case, shared by every worker and API instance."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self._sqlite = parsed.get_backend_name() == "sqlite"
        if self._sqlite and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"timeout": 15} if self._sqlite else {"connect_timeout": 5},
        )
        if self._sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @classmethod
    def open(cls, url: str) -> RecordStore:
        """The store at ``url`` with its schema brought up to date."""
        store = cls(url)
        store.migrate()
        return store

    def close(self) -> None:
        self.engine.dispose()

    # -- schema ----------------------------------------------------------------------------------

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (from empty or from any earlier one), one process
        at a time."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._migration_lock(), self._guard(), self.engine.begin() as connection:
            if not self._sqlite:
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def revision(self) -> str | None:
        with self._guard(), self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        database = make_url(self.url).database
        if not self._sqlite or not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrating", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def ping(self) -> None:
        """RecordUnavailable unless the database answers now."""
        with self._guard(), self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, InterfaceError) as err:
            # The driver's message names the host and the problem, never the password.
            problem = (
                str(err.orig).strip().splitlines()[0][:200] if err.orig else type(err).__name__
            )
            raise RecordUnavailable(f"the record store is unavailable: {problem}") from err

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with (
            self._guard(),
            Session(self.engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    # -- artefacts -------------------------------------------------------------------------------

    def put_artefact(
        self,
        case_id: str,
        kind: str,
        version: int,
        content: Mapping[str, Any],
        document: str,
        submitted_by: str | None = None,
        submitted_at: datetime | None = None,
    ) -> StoredArtefact:
        """Record one version; the same content again is a no-op, other content an
        ArtefactConflict (on every host: the database holds the rule)."""
        body = chain.artefact_body(content)
        digest = chain.sha256(body)
        existing = self.artefact(case_id, kind, version)
        if existing is None:
            row = ArtefactRow(
                case_id=case_id,
                kind=kind,
                version=version,
                content=body,
                document=document,
                sha256=digest,
                submitted_by=submitted_by,
                submitted_at=_utc(submitted_at),
                recorded_at=_now(),
            )
            try:
                with self._session() as session:
                    session.add(row)
            except IntegrityError:  # another worker wrote this version meanwhile
                pass
            existing = self.artefact(case_id, kind, version)
            assert existing is not None
        if existing.sha256 != digest:
            raise ArtefactConflict(
                f"{kind} v{version} of {case_id} already exists with different content; "
                "versions are immutable",
                case_id=case_id,
                kind=kind,
                version=version,
            )
        return existing

    def artefact(self, case_id: str, kind: str, version: int) -> StoredArtefact | None:
        with self._session() as session:
            row = session.scalars(
                select(ArtefactRow).where(
                    ArtefactRow.case_id == case_id,
                    ArtefactRow.kind == kind,
                    ArtefactRow.version == version,
                )
            ).one_or_none()
            return _artefact(row) if row else None

    def artefacts(self, case_id: str) -> list[StoredArtefact]:
        """Every version of every artefact of the case, by kind then version, with those it
        keeps under it (a service's lifecycle keeps its assessments' reports under
        ``lifecycle/SVC-001/assessments/...``)."""
        under = case_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
        with self._session() as session:
            rows = session.scalars(
                select(ArtefactRow)
                .where(
                    (ArtefactRow.case_id == case_id) | ArtefactRow.case_id.like(under, escape="\\")
                )
                .order_by(ArtefactRow.case_id, ArtefactRow.kind, ArtefactRow.version)
            ).all()
            return [_artefact(row) for row in rows]

    # -- the audit chain ---------------------------------------------------------------------------

    def append_audit(
        self, case_id: str, first_seq: int, entries: Sequence[Mapping[str, Any]]
    ) -> int:
        """Record ``entries`` as numbers ``first_seq`` on; what is already recorded with the
        same content is skipped (a retry or a replay never writes an entry twice). Returns the
        number of the next entry to record."""
        for _ in range(3):  # another writer may take a number between our read and our write
            try:
                with self._session() as session:
                    self._append(session, case_id, first_seq, entries)
                return first_seq + len(entries)
            except IntegrityError:
                continue
        raise RecordUnavailable(f"the audit log of {case_id} is being written by another worker")

    def _append(
        self,
        session: Session,
        case_id: str,
        first_seq: int,
        entries: Sequence[Mapping[str, Any]],
    ) -> None:
        rows = {
            row.seq: row
            for row in session.scalars(
                select(AuditRow).where(
                    AuditRow.case_id == case_id,
                    AuditRow.seq >= first_seq - 1,
                    AuditRow.seq < first_seq + len(entries),
                )
            )
        }
        previous = rows.get(first_seq - 1)
        # The chain may start past 0 (its case's oldest entries predate the record); then the
        # batch that starts it has nothing before it, and a retry of that batch neither.
        first = session.scalar(select(func.min(AuditRow.seq)).where(AuditRow.case_id == case_id))
        if previous is None and first is not None and first != first_seq:
            raise AuditConflict(
                f"the audit log of {case_id} has no entry {first_seq - 1} to chain {first_seq} to"
            )
        prev_hash = previous.hash if previous else chain.GENESIS
        for seq, entry in enumerate(entries, start=first_seq):
            body = chain.entry_body(entry)
            if (existing := rows.get(seq)) is not None:
                if existing.entry != body:
                    raise AuditConflict(
                        f"audit entry {seq} of {case_id} is already recorded with other content"
                    )
                prev_hash = existing.hash
                continue
            digest = chain.link(prev_hash, body)
            session.add(
                AuditRow(
                    case_id=case_id,
                    seq=seq,
                    entry=body,
                    prev_hash=prev_hash,
                    hash=digest,
                    recorded_at=_now(),
                )
            )
            prev_hash = digest

    def audit(self, case_id: str) -> list[dict[str, Any]]:
        """The recorded audit entries of the case, oldest first."""
        with self._session() as session:
            rows = session.scalars(
                select(AuditRow.entry).where(AuditRow.case_id == case_id).order_by(AuditRow.seq)
            ).all()
            return [json.loads(row) for row in rows]

    def verify(self, case_id: str) -> ChainReport:
        """Walk the case's chain: each entry must hash to what it says and point at the one
        before it. A break is reported, never repaired."""
        with self._session() as session:
            rows = session.scalars(
                select(AuditRow).where(AuditRow.case_id == case_id).order_by(AuditRow.seq)
            ).all()
            return chain.verify(case_id, [(r.seq, r.entry, r.prev_hash, r.hash) for r in rows])

    # -- the view of a case ----------------------------------------------------------------------

    def put_case(self, case_id: str, process: str, state: str, status: Mapping[str, Any]) -> None:
        """Keep the case's latest view (what reads use once its workflow is gone)."""
        with self._session() as session:
            row = session.get(CaseRow, case_id)
            if row is None:
                row = CaseRow(case_id=case_id)
                session.add(row)
            row.process = process
            row.state = state
            row.status = json.dumps(status, sort_keys=True, default=str)
            row.updated_at = _now()

    def case(self, case_id: str) -> RecordedCase | None:
        with self._session() as session:
            row = session.get(CaseRow, case_id)
            if row is None:
                return None
            return RecordedCase(
                case_id=row.case_id,
                process=row.process,
                state=row.state,
                status=json.loads(row.status),
                updated_at=_aware(row.updated_at) or row.updated_at,
            )

    # -- the outbox ----------------------------------------------------------------------------

    def put_notification(self, notification: Notification) -> RecordedNotification:
        """Record a notification once (a retry finds it there) and return where it stands."""
        try:
            with self._session() as session:
                if session.get(NotificationRow, (notification.case_id, notification.id)) is None:
                    session.add(
                        NotificationRow(
                            case_id=notification.case_id,
                            id=notification.id,
                            kind=notification.kind,
                            recipients=json.dumps(notification.to),
                            subject=notification.subject,
                            body=notification.body,
                            at=_utc(notification.at),
                            state="pending",
                            attempts=0,
                            updated_at=_now(),
                        )
                    )
        except IntegrityError:  # recorded by another attempt meanwhile
            pass
        found = self.notification(notification.case_id, notification.id)
        assert found is not None
        return found

    def notification(self, case_id: str, notification_id: str) -> RecordedNotification | None:
        with self._session() as session:
            row = session.get(NotificationRow, (case_id, notification_id))
            if row is None:
                return None
            return self._notification(session, row)

    def notifications(
        self, person: str | None = None, state: DeliveryState | None = None
    ) -> list[RecordedNotification]:
        """The outbox, oldest first: to ``person`` only, in ``state`` only, if given."""
        query = select(NotificationRow).order_by(NotificationRow.at, NotificationRow.id)
        if state is not None:
            query = query.where(NotificationRow.state == state)
        with self._session() as session:
            found = [self._notification(session, row) for row in session.scalars(query)]
        return [n for n in found if person is None or person in n.to]

    def _notification(self, session: Session, row: NotificationRow) -> RecordedNotification:
        deliveries = session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.case_id == row.case_id, DeliveryRow.notification_id == row.id)
            .order_by(DeliveryRow.person, DeliveryRow.channel)
        )
        return RecordedNotification(
            case_id=row.case_id,
            id=row.id,
            kind=row.kind,
            to=json.loads(row.recipients),
            subject=row.subject,
            body=row.body,
            at=_aware(row.at) or row.at,
            state=row.state,
            attempts=row.attempts,
            last_error=row.last_error,
            deliveries=[
                Delivery(
                    person=d.person,
                    channel=d.channel,
                    state=d.state,
                    attempts=d.attempts,
                    last_error=d.last_error,
                )
                for d in deliveries
            ],
        )

    def mark_delivery(
        self,
        case_id: str,
        notification_id: str,
        person: str,
        channel: str,
        error: str | None,
    ) -> None:
        """One channel's attempt: sent (``error`` None) or failed for now, with why."""
        with self._session() as session:
            key = (case_id, notification_id, person, channel)
            row = session.get(DeliveryRow, key)
            if row is None:
                row = DeliveryRow(
                    case_id=case_id,
                    notification_id=notification_id,
                    person=person,
                    channel=channel,
                    attempts=0,
                )
                session.add(row)
            row.attempts += 1
            row.state = "failed" if error else "sent"
            row.last_error = error
            row.updated_at = _now()

    def finish_notification(
        self, case_id: str, notification_id: str, state: DeliveryState, error: str | None
    ) -> None:
        """Where a notification stands after one delivery attempt."""
        with self._session() as session:
            row = session.get(NotificationRow, (case_id, notification_id))
            if row is None:
                raise KeyError(notification_id)
            row.attempts += 1
            row.state = state
            row.last_error = error
            row.updated_at = _now()

    # -- API tokens ----------------------------------------------------------------------------

    def add_token(self, token: TokenRecord) -> None:
        with self._session() as session:
            session.add(
                TokenRow(
                    sha256=token.sha256,
                    person=token.person,
                    label=token.label,
                    issued_at=_utc(token.issued_at),
                    expires_at=_utc(token.expires_at),
                    revoked_at=_utc(token.revoked_at),
                )
            )

    def token(self, sha256: str) -> TokenRecord | None:
        with self._session() as session:
            row = session.get(TokenRow, sha256)
            return _token(row) if row else None

    def tokens(self, person: str | None = None) -> list[TokenRecord]:
        query = select(TokenRow).order_by(TokenRow.issued_at)
        if person is not None:
            query = query.where(TokenRow.person == person)
        with self._session() as session:
            return [_token(row) for row in session.scalars(query)]

    def revoke_token(self, sha256: str, at: datetime) -> bool:
        """Revoke a token; False if there is no such token or it was revoked already."""
        with self._session() as session:
            row = session.get(TokenRow, sha256)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = _utc(at)
            return True


def _sqlite_pragmas(connection: Any, _record: object) -> None:
    # WAL lets the API read while a worker writes; the busy timeout waits out a writer's lock.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _artefact(row: ArtefactRow) -> StoredArtefact:
    return StoredArtefact(
        case_id=row.case_id,
        kind=row.kind,
        version=row.version,
        sha256=row.sha256,
        content=json.loads(row.content),
        document=row.document,
        submitted_by=row.submitted_by,
        submitted_at=_aware(row.submitted_at),
        recorded_at=_aware(row.recorded_at) or row.recorded_at,
    )


def _token(row: TokenRow) -> TokenRecord:
    return TokenRecord(
        sha256=row.sha256,
        person=row.person,
        label=row.label,
        issued_at=_aware(row.issued_at) or row.issued_at,
        expires_at=_aware(row.expires_at),
        revoked_at=_aware(row.revoked_at),
    )

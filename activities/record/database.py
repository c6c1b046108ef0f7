"""The record's database: its engine (SQLite or PostgreSQL), its schema kept by migrations,
and the short transactions every part of the record runs in.

A database that cannot be reached, is locked past its timeout or is full raises
``RecordUnavailable`` (retryable); nothing half-written stays behind.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from models.errors import RecordUnavailable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# A PostgreSQL advisory lock key: one migrating process at a time across every host.
_MIGRATION_LOCK = 0x05_0_5_0001


def now() -> datetime:
    return datetime.now(UTC)


def utc(moment: datetime | None) -> datetime | None:
    """Every moment is stored in UTC: SQLite keeps no offset, so one in another zone would come
    back with its wall-clock time labelled UTC."""
    return moment.astimezone(UTC) if moment is not None and moment.tzinfo else moment


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; every moment stored is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class Database:
    """One record database; the record's parts (``RecordStore``) run their transactions in it."""

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
            event.listen(self.engine, "connect", sqlite_pragmas)

    def close(self) -> None:
        self.engine.dispose()

    # -- schema ----------------------------------------------------------------------------------

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (from empty or from any earlier one), one process
        at a time."""
        from alembic import command  # here: every `osom` command need not load alembic
        from alembic.config import Config

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
        from alembic.runtime.migration import MigrationContext

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


def sqlite_pragmas(connection: Any, _record: object) -> None:
    # WAL lets the API read while a worker writes; the busy timeout waits out a writer's lock.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()

"""The private PostgreSQL server of the record store's tests (tests/postgres.py): it answers,
gives each test its own database, and goes down and comes back for the "database down" fault."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.postgres import DEFAULT_DATABASE, PostgresServer


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    """A server of this test's own: killing the shared one would break other tests' engines."""
    with PostgresServer() as server:
        yield server


def engine(url: str) -> sa.Engine:
    # No pool: every connect() is a new connection, as after a restart of the test process.
    return sa.create_engine(url, poolclass=NullPool)


def scalar(url: str, statement: str) -> object:
    with engine(url).connect() as connection:
        return connection.execute(sa.text(statement)).scalar_one()


def test_server_answers_on_its_default_database(postgres: PostgresServer) -> None:
    url = postgres.url()
    assert url == f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/{DEFAULT_DATABASE}"
    assert scalar(url, "SELECT 1") == 1
    assert scalar(url, "SELECT current_database()") == DEFAULT_DATABASE
    assert scalar(url, "SHOW server_encoding") == "UTF8"


def test_new_database_gives_distinct_working_databases(postgres: PostgresServer) -> None:
    first, second = postgres.new_database(), postgres.new_database()
    named = postgres.new_database("record_named")
    assert len({first, second, named, postgres.url()}) == 4
    assert named == postgres.url("record_named")
    with engine(first).begin() as connection:
        connection.execute(sa.text("CREATE TABLE only_here (x integer)"))
    assert scalar(first, "SELECT count(*) FROM only_here") == 0
    for other in (second, named):
        assert scalar(other, "SELECT to_regclass('only_here') IS NULL") is True
    with pytest.raises(ValueError, match="database name"):
        postgres.new_database("Robert'); DROP TABLE students;--")


def test_new_database_can_copy_a_prepared_template(postgres: PostgresServer) -> None:
    template = postgres.new_database("record_template")
    with engine(template).begin() as connection:
        connection.execute(sa.text("CREATE TABLE migrated (x integer)"))
        connection.execute(sa.text("INSERT INTO migrated VALUES (7)"))
    copies = [postgres.new_database(template="record_template") for _ in range(2)]
    with engine(copies[0]).begin() as connection:
        connection.execute(sa.text("INSERT INTO migrated VALUES (8)"))
    assert scalar(copies[0], "SELECT count(*) FROM migrated") == 2
    assert scalar(copies[1], "SELECT count(*) FROM migrated") == 1
    assert scalar(template, "SELECT count(*) FROM migrated") == 1


def test_server_does_not_run_as_root(postgres: PostgresServer) -> None:
    owner = postgres.data.stat().st_uid
    if os.geteuid() == 0:
        assert postgres.account is not None
        assert owner == postgres.account.pw_uid != 0
    else:
        assert owner == os.geteuid()


def test_kill_takes_the_server_down_and_start_brings_it_back(own_server: PostgresServer) -> None:
    url, port = own_server.url(), own_server.port
    with engine(url).begin() as connection:
        connection.execute(sa.text("CREATE TABLE kept (x integer)"))
        connection.execute(sa.text("INSERT INTO kept VALUES (1)"))
    held = sa.create_engine(url)  # pooled: its open connection is cut by the kill
    with held.connect() as connection:
        connection.execute(sa.text("SELECT 1"))

    own_server.kill()
    assert not own_server.running
    with pytest.raises(sa.exc.OperationalError):
        scalar(url, "SELECT 1")
    with pytest.raises(sa.exc.OperationalError), held.connect() as connection:
        connection.execute(sa.text("SELECT 1"))

    own_server.start()
    assert own_server.running
    assert own_server.port == port
    assert own_server.url() == url
    # Every committed transaction survives the crash (synchronous_commit stays on).
    assert scalar(url, "SELECT count(*) FROM kept") == 1
    with held.connect() as connection:  # the pool replaced the connection the kill cut
        assert connection.execute(sa.text("SELECT 1")).scalar_one() == 1
    held.dispose()


def test_stop_shuts_down_and_removes_the_folder(own_server: PostgresServer) -> None:
    folder, url = own_server.folder, own_server.url()
    assert folder is not None
    assert folder.is_dir()
    own_server.stop()
    assert not folder.exists()
    assert not own_server.running
    with pytest.raises(sa.exc.OperationalError):
        scalar(url, "SELECT 1")
    own_server.stop()  # again: nothing to do


def test_missing_binaries_fail_loudly_naming_osom_pg_bin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OSOM_PG_BIN", str(tmp_path))
    with pytest.raises(RuntimeError, match="OSOM_PG_BIN"):
        PostgresServer()

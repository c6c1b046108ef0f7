"""API tokens: printed once, kept as hashes in the record (so every API instance knows the same
ones), mapped to one person, expiring if asked, revocable; and the old token file read for the
move into the record."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import Event

import pytest
import yaml

from activities.record import RecordStore
from osom import tokens
from osom.tokens import InvalidExpiry, TokensUnavailable
from tests.postgres import PostgresServer

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'record.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def record(url: str) -> Iterator[RecordStore]:
    store = RecordStore.open(url)
    try:
        yield store
    finally:
        store.close()


def test_a_token_stands_for_its_person_and_only_its_hash_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "record.sqlite3"
    record = RecordStore.open(f"sqlite:///{path}")
    token = tokens.issue(record, "P-001", "intake form")
    other = tokens.issue(record, "P-015")
    assert token.startswith("osom_")
    assert token != other
    assert tokens.person_for(record, token) == "P-001"
    assert tokens.person_for(record, other) == "P-015"
    assert tokens.person_for(record, token + "x") is None
    assert tokens.person_for(record, "") is None
    (kept,) = record.tokens("P-001")
    assert (kept.sha256, kept.label, kept.expires_at) == (tokens.digest(token), "intake form", None)
    record.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert token.encode() not in stored
    assert tokens.digest(token).encode() in stored


def test_every_instance_sharing_the_record_knows_the_same_tokens(url: str) -> None:
    one, two = RecordStore.open(url), RecordStore.open(url)
    try:
        token = tokens.issue(one, "P-011", "instance one")
        assert tokens.person_for(two, token) == "P-011"
        assert tokens.revoke(two, "P-011") == 1
        assert tokens.person_for(one, token) is None
    finally:
        one.close()
        two.close()


def test_a_token_expires_when_it_was_told_to(record: RecordStore) -> None:
    for_an_hour = tokens.issue(record, "P-001", expires_in=timedelta(hours=1), now=T0)
    until = T0 + timedelta(days=2)
    for_two_days = tokens.issue(record, "P-001", expires_at=until, now=T0)
    for_ever = tokens.issue(record, "P-001", now=T0)
    late = T0 + timedelta(minutes=59, seconds=59)
    assert tokens.person_for(record, for_an_hour, now=late) == "P-001"
    assert tokens.person_for(record, for_an_hour, now=T0 + timedelta(hours=1)) is None
    assert tokens.person_for(record, for_two_days, now=until - timedelta(seconds=1)) == "P-001"
    assert tokens.person_for(record, for_two_days, now=until) is None
    assert tokens.person_for(record, for_ever, now=T0 + timedelta(days=3650)) == "P-001"
    expiries = {t.sha256: t.expires_at for t in record.tokens("P-001")}
    assert expiries[tokens.digest(for_an_hour)] == T0 + timedelta(hours=1)
    assert expiries[tokens.digest(for_two_days)] == until


@pytest.mark.parametrize(
    ("expires_in", "expires_at", "problem"),
    [
        (timedelta(0), None, "must be positive"),
        (timedelta(hours=-1), None, "must be positive"),
        (None, T0, "has already passed"),
        (None, T0 - timedelta(days=1), "has already passed"),
        (None, datetime(2027, 1, 1), "time zone"),
        (timedelta(hours=1), T0 + timedelta(hours=1), "not both"),
    ],
)
def test_an_expiry_that_cannot_be_is_refused_and_nothing_is_issued(
    record: RecordStore, expires_in: timedelta | None, expires_at: datetime | None, problem: str
) -> None:
    with pytest.raises(InvalidExpiry) as refused:
        tokens.issue(record, "P-001", expires_in=expires_in, expires_at=expires_at, now=T0)
    assert problem in refused.value.message
    assert record.tokens() == []


def test_revoking_refuses_every_token_of_the_person_and_keeps_when(record: RecordStore) -> None:
    first, second = tokens.issue(record, "P-001"), tokens.issue(record, "P-001")
    expired = tokens.issue(record, "P-001", expires_in=timedelta(hours=1), now=T0)
    kept = tokens.issue(record, "P-015")
    assert tokens.revoke(record, "P-001", now=T0 + timedelta(days=1)) == 3
    assert tokens.person_for(record, first) is tokens.person_for(record, second) is None
    assert tokens.person_for(record, kept) == "P-015"
    assert {t.revoked_at for t in record.tokens("P-001")} == {T0 + timedelta(days=1)}
    assert tokens.person_for(record, expired, now=T0) is None  # revoked even before it expired
    assert tokens.revoke(record, "P-001") == 0
    assert tokens.revoke(record, "P-404") == 0
    # A new token after a revocation works: revoking is of the tokens there were.
    again = tokens.issue(record, "P-001")
    assert tokens.person_for(record, again) == "P-001"


def test_an_empty_record_accepts_no_token(record: RecordStore) -> None:
    assert tokens.person_for(record, "osom_anything") is None


def _issue_one(url: str, person: str, start: Event) -> str:
    record = RecordStore(url)
    start.wait()  # every process issues at about the same moment
    try:
        return tokens.issue(record, person, "race")
    finally:
        record.close()


def test_concurrent_issuers_keep_every_token(url: str) -> None:
    """Processes that each add a token at once (as parallel `osom api-token` runs do) all
    find their token in the record afterwards."""
    RecordStore.open(url).close()
    people = [f"P-{n:03d}" for n in range(1, 17)]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(len(people)) as pool:
        start = manager.Event()
        pending = [pool.apply_async(_issue_one, (url, p, start)) for p in people]
        start.set()
        issued = [result.get(timeout=60) for result in pending]
    record = RecordStore(url)
    try:
        assert len(record.tokens()) == len(people)
        assert [tokens.person_for(record, token) for token in issued] == people
    finally:
        record.close()


# -- the old token file ------------------------------------------------------------------------


def _old_file(path: Path, issued: dict[str, str]) -> None:
    """A token file as the API kept them before the record: person, sha256, label, issued_at."""
    entries = [
        {
            "person": person,
            "sha256": tokens.digest(token),
            "label": f"{person}'s form",
            "issued_at": "2026-01-05T10:00:00+00:00",
        }
        for token, person in issued.items()
    ]
    path.write_text(yaml.safe_dump({"tokens": entries}, sort_keys=False), encoding="utf-8")


def test_the_old_token_file_moves_into_the_record_once(record: RecordStore, tmp_path: Path) -> None:
    path = tmp_path / "api-tokens.yaml"
    issued = {"osom_" + "a" * 43: "P-001", "osom_" + "b" * 43: "P-015"}
    _old_file(path, issued)
    read = tokens.read_token_file(path)
    assert [(t.person, t.label) for t in read] == [
        ("P-001", "P-001's form"),
        ("P-015", "P-015's form"),
    ]
    assert {t.issued_at for t in read} == {datetime(2026, 1, 5, 10, tzinfo=UTC)}
    assert tokens.import_tokens(record, read) == 2
    assert tokens.import_tokens(record, tokens.read_token_file(path)) == 0  # a second run
    assert {tokens.person_for(record, token) for token in issued} == {"P-001", "P-015"}
    # A moved token revoked in the record stays revoked when the file is read in again.
    assert tokens.revoke(record, "P-001") == 1
    assert tokens.import_tokens(record, tokens.read_token_file(path)) == 0
    assert tokens.person_for(record, "osom_" + "a" * 43) is None


def test_no_token_file_means_nothing_to_move(tmp_path: Path) -> None:
    assert tokens.read_token_file(tmp_path / "missing.yaml") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"tokens: [unclosed\n", "not valid YAML at line 2"),
        (b"tokens:\n  - person: P-001\n    sha256: osom_secret\n", "tokens.0.sha256"),
        (b"- a list\n", "(root)"),
        (b"tokens: []\n\xff\n", "not UTF-8"),
    ],
)
def test_a_broken_token_file_is_a_typed_refusal_that_quotes_nothing(
    tmp_path: Path, text: bytes, problem: str
) -> None:
    path = tmp_path / "api-tokens.yaml"
    path.write_bytes(text)
    with pytest.raises(TokensUnavailable) as refused:
        tokens.read_token_file(path)
    assert problem in refused.value.message
    assert "osom_secret" not in refused.value.message


def test_parallel_osom_api_token_runs_keep_every_token(tmp_path: Path) -> None:
    """The real command, eight at once: every token it printed is in the record."""
    import os
    import subprocess
    import sys

    osom = Path(sys.executable).parent / "osom"
    env = {**os.environ, "OSOM_DATA_DIR": str(tmp_path)}
    env.pop("OSOM_RECORD_URL", None)
    runs = [
        subprocess.Popen(
            [str(osom), "api-token", "--person", "P-011", "--label", f"run {n}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    printed = []
    for run in runs:
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
        printed.append(out.strip())

    record = RecordStore(f"sqlite:///{tmp_path / 'record.sqlite3'}")
    try:
        labels = sorted(t.label for t in record.tokens("P-011"))
        assert labels == sorted(f"run {n}" for n in range(8))
        assert all(tokens.person_for(record, token) == "P-011" for token in printed)
    finally:
        record.close()

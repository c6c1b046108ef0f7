"""API tokens: printed once, kept as hashes, mapped to one person, revocable."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from threading import Event

import pytest

from osom.tokens import TokenBook, TokensUnavailable


def test_a_token_stands_for_its_person_and_only_its_hash_is_kept(tmp_path: Path) -> None:
    book = TokenBook()
    token = book.issue("P-001", "intake form")
    other = book.issue("P-015")
    path = tmp_path / "api-tokens.yaml"
    book.save(path)
    assert token not in path.read_text()
    kept = TokenBook.load(path)
    assert (kept.person_for(token), kept.person_for(other)) == ("P-001", "P-015")
    assert kept.person_for(token + "x") is None
    assert kept.person_for("") is None


def test_revoking_drops_every_token_of_the_person(tmp_path: Path) -> None:
    book = TokenBook()
    first, second = book.issue("P-001"), book.issue("P-001")
    kept = book.issue("P-015")
    assert book.revoke("P-001") == 2
    assert book.person_for(first) is book.person_for(second) is None
    assert book.person_for(kept) == "P-015"
    assert book.revoke("P-001") == 0


def test_no_token_file_means_no_token_is_accepted(tmp_path: Path) -> None:
    assert TokenBook.load(tmp_path / "missing.yaml").person_for("osom_anything") is None


def _issue_one(path: Path, person: str, start: Event) -> str:
    start.wait()  # every process reads the book at about the same moment
    with TokenBook.editing(path) as book:
        return book.issue(person, "race")


def test_concurrent_issuers_keep_every_token(tmp_path: Path) -> None:
    """Processes that each add a token at once (as parallel `osom api-token` runs do) all
    find their token in the file afterwards: none saves over another's."""
    path = tmp_path / "api-tokens.yaml"
    people = [f"P-{n:03d}" for n in range(1, 17)]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(len(people)) as pool:
        start = manager.Event()
        pending = [pool.apply_async(_issue_one, (path, p, start)) for p in people]
        start.set()
        issued = [result.get(timeout=60) for result in pending]
    kept = TokenBook.load(path)
    assert len(kept.tokens) == len(people)
    assert [kept.person_for(token) for token in issued] == people


def test_a_failed_edit_saves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "api-tokens.yaml"
    with TokenBook.editing(path) as book:
        kept = book.issue("P-001")

    def revoke_then_fail() -> None:
        with TokenBook.editing(path) as book:
            book.revoke("P-001")
            raise RuntimeError("the directory refused the person")

    with pytest.raises(RuntimeError):
        revoke_then_fail()
    assert TokenBook.load(path).person_for(kept) == "P-001"


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
        TokenBook.load(path)
    assert problem in refused.value.message
    assert "osom_secret" not in refused.value.message


def test_parallel_osom_api_token_runs_keep_every_token(tmp_path: Path) -> None:
    """The real command, eight at once: every token it printed is in the file."""
    import os
    import subprocess
    import sys

    osom = Path(sys.executable).parent / "osom"
    env = {**os.environ, "OSOM_DATA_DIR": str(tmp_path)}
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

    book = TokenBook.load(tmp_path / "api-tokens.yaml")
    assert sorted(t.label for t in book.tokens) == sorted(f"run {n}" for n in range(8))
    assert all(book.person_for(token) == "P-011" for token in printed)

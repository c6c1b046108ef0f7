"""API tokens: printed once, kept as hashes, mapped to one person, revocable."""

from __future__ import annotations

from pathlib import Path

from osom.tokens import TokenBook


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

"""The files people hand to the CLI: anything that is not a plain, shallow mapping is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.commands import MAX_DEPTH
from models.errors import MalformedInput
from osom.documents import load_document


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a: " + "[" * 5000 + "]" * 5000, "nests deeper"),  # past the YAML parser's stack
        ("a: " + "{b: " * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), "nests deeper"),
        ("- 1\n- 2\n", "must hold a mapping"),
        ("a: [1, 2\n", "not valid YAML"),
    ],
)
def test_a_file_that_is_not_a_shallow_mapping_is_malformed(
    tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "document.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MalformedInput, match=says):
        load_document(path)


def test_a_file_as_deep_as_the_bound_is_read(tmp_path: Path) -> None:
    path = tmp_path / "document.yaml"
    path.write_text("a: " + "{b: " * (MAX_DEPTH - 2) + "1" + "}" * (MAX_DEPTH - 2))
    assert "a" in load_document(path)

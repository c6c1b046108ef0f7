"""The process pages and the README's diagrams match the definitions they are generated from."""

from __future__ import annotations

from pathlib import Path

import pytest

from osom.docs import DEFINITIONS, expected_files, process_page

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted(expected_files(ROOT)), ids=lambda p: p.name)
def test_generated_file_matches_the_definitions(path: Path) -> None:
    want = expected_files(ROOT)[path]
    assert path.read_text(encoding="utf-8") == want, f"{path} is stale: run `osom docs`"


def test_process_page_lists_every_transition_and_state() -> None:
    for definition in DEFINITIONS:
        page = process_page(definition)
        for t in definition.transitions:
            assert f"| {t.id} | `{t.trigger}` |" in page
        for s in definition.states:
            assert f"| `{s.name}` |" in page

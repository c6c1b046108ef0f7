"""The SVG pictures of processes and live cases (osom diagram --svg, docs/processes/*.svg)."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest

from osom.docs import DEFINITIONS
from osom.svg import process_svg
from workflows._definition import ProcessDefinition
from workflows.correction_of_errors.definition import COE

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.name)
def test_every_state_and_move_is_drawn(definition: ProcessDefinition[Any]) -> None:
    root = ElementTree.fromstring(process_svg(definition))
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert {s.name for s in definition.states} <= set(texts)
    moves = [t for t in definition.transitions if any(t.target(s) != s for s in t.source)]
    for t in moves:
        assert any(text.startswith(f"{t.id} {t.trigger}") for text in texts), t.id
    assert len(root.findall(f".//{SVG}rect")) == len(definition.states)


def test_a_live_case_shows_its_state_and_what_its_blocked_moves_need() -> None:
    needs = ["the nine OSOM fields: impact is empty", "the nine OSOM fields: root_cause is empty"]
    root = ElementTree.fromstring(process_svg(COE, "DRAFT", {"coe_published": needs}))
    current = root.find(f".//{SVG}g[@class='current']")
    assert current is not None
    assert current.find(f"{SVG}text") is not None
    assert current.find(f"{SVG}text").text == "DRAFT"  # type: ignore[union-attr]
    blocked = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "blocked"]
    assert blocked == ["needs: the nine OSOM fields: impact is empty (+1 more)"]
    # A move from another state is not annotated, even if its trigger is named.
    other = ElementTree.fromstring(process_svg(COE, "PUBLISHED", {"coe_published": needs}))
    assert not [t for t in other.iter(f"{SVG}text") if t.get("class") == "blocked"]

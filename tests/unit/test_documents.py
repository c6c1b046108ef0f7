"""Readable Markdown for stored artefacts."""

from __future__ import annotations

from typing import Any

from activities.documents import render_markdown
from tests.unit.helpers import example_contract, example_plan


def contract_markdown() -> str:
    contract = example_contract().model_dump(mode="json")
    return render_markdown("service_contract", 0, "new-service/PRO-004", contract)


def section(markdown: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same level."""
    level = heading.split(" ")[0]
    start = markdown.index(f"\n{heading}\n")
    end = markdown.find(f"\n{level} ", start + len(heading) + 2)
    return markdown[start : end if end != -1 else None]


def test_title_is_the_contracts_name_then_kind_version_and_case() -> None:
    lines = contract_markdown().splitlines()
    assert lines[0] == "# Resident Identity Check"
    assert lines[2] == "*service contract · version 0 · case new-service/PRO-004*"


def test_scalar_fields_are_readable_bullets() -> None:
    text = contract_markdown()
    assert "- **Service id:** SVC-007" in text
    assert "- **Evolution stage:** PRODUCT" in text
    assert "- **Expected support:** Office hours support" in text


def test_each_need_has_a_heading_with_its_id_and_what_is_needed() -> None:
    needs = section(contract_markdown(), "## User needs")
    assert "### UN-007-1 — to confirm that a person lives at a Fenmoor address" in needs
    assert "- **Outcome:** so that residents-only services are offered" in needs
    assert "- service team whose users must prove they live in Fenmoor" in needs
    assert "- M-007-1\n- M-007-2" in needs


def test_each_measure_has_a_heading_with_its_id_and_name() -> None:
    measures = section(contract_markdown(), "## Metrics")
    assert "### M-007-1 — Checks answered without manual review" in measures
    assert "### M-007-2 — Median time to answer a check" in measures
    assert "- **Direction:** lower" in measures
    assert "- **User need ref:** UN-007-1" in measures


def test_nested_description_becomes_its_own_section() -> None:
    description = section(contract_markdown(), "## Description")
    assert description.strip().startswith("## Description\n\n- **Overview:** Confirms,")
    # fields that are not filled in are left out, not shown as None
    assert "None" not in description
    assert "Help route" not in description


def test_empty_lists_say_none_and_empty_sections_are_left_out() -> None:
    content: dict[str, Any] = {
        "name": "Bare",
        "dependencies": [],
        "description": {"overview": None},
        "cost_reporting": None,
    }
    text = render_markdown("service_contract", 3, "c", content)
    assert "## Dependencies\n\n*none*" in text
    assert "Description" not in text
    assert "Cost reporting" not in text
    assert text.endswith("\n")
    assert not text.endswith("\n\n")


def test_an_artefact_without_a_name_is_titled_by_its_kind() -> None:
    plan = example_plan().model_dump(mode="json")
    text = render_markdown("discovery_plan", 2, "new-service/PRO-004", plan)
    assert text.startswith("# Discovery plan\n")
    assert "- **Target end:** 2027-01-29" in text
    assert "*discovery plan · version 2 · case new-service/PRO-004*" in text


def test_text_in_an_artefact_cannot_forge_lines_links_or_html() -> None:
    content = {
        "name": "X\n- **State:** ESTABLISHED",
        "summary": "<img src=x onerror=alert(1)>",
        "needs": [{"id": "# UN-1", "outcome": "![i](http://x/y.png)"}],
        "tags": ["1. item", "> quote"],
    }
    lines = render_markdown("service_contract", 1, "c", content).splitlines()
    assert lines[0] == "# X - \\*\\*State:\\*\\* ESTABLISHED"
    assert "- **Summary:** &lt;img src=x onerror=alert(1)&gt;" in lines
    assert "### \\# UN-1" in lines
    assert "- **Outcome:** !\\[i\\](http://x/y.png)" in lines
    assert lines[lines.index("## Tags") + 2 :][:2] == ["- 1\\. item", "- &gt; quote"]


def test_a_list_mixing_records_and_plain_values_renders_each() -> None:
    text = render_markdown("register", 1, "c", {"items": [{"id": "A-1", "name": "first"}, "x"]})
    assert "### A-1 — first" in text
    assert "\n- x\n" in text

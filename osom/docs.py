"""Process documentation generated from the definitions (kept in step by a test)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

from osom.svg import process_svg
from workflows import PROCESSES
from workflows._definition import ProcessDefinition

C = TypeVar("C")  # a definition's case type

# Of every process: definitions of different case types.
DEFINITIONS: tuple[ProcessDefinition[Any], ...] = tuple(p.definition for p in PROCESSES)
BY_NAME = {d.name: d for d in DEFINITIONS}
# The folder each definition lives in (workflows/<folder>/, beside its workflow).
FOLDERS = {p.definition.name: p.workflow.__module__.split(".")[1] for p in PROCESSES}
DOCS = Path("docs") / "processes"
README_BLOCK = re.compile(r"(<!-- diagram:(\w+) -->\n)(.*?)(<!-- /diagram -->)", re.DOTALL)


def process_page(definition: ProcessDefinition[C]) -> str:
    """A Markdown page: the diagram, the states and the transitions with who and what they need."""
    lines = [
        f"# {definition.title}",
        "",
        f"Generated from `workflows/{FOLDERS.get(definition.name, definition.name)}/"
        f"definition.py` (definition "
        f"v{definition.version}) by `osom docs`; do not edit by hand.",
        "",
        "```mermaid",
        definition.mermaid().rstrip(),
        "```",
        "",
        f"The same as a picture: [{definition.name}.svg]({definition.name}.svg).",
        "",
        "## States",
        "",
        "| state | meaning | deadline |",
        "|---|---|---|",
    ]
    for s in definition.states:
        labels = [definition.clock(c).label for c in s.clocks]
        clock = "; ".join(labels) if labels else ("final" if s.terminal else "")
        lines.append(f"| `{s.name}` | {s.description} | {clock} |")
    lines += [
        "",
        "## Transitions",
        "",
        "| id | trigger | from → to | who | needs |",
        "|---|---|---|---|---|",
    ]
    for t in definition.transitions:
        needs = [r.label for r in t.needs] + [g.label for g in t.guards]
        if t.reason_required:
            needs.append("a reason")
        if t.data is not None:
            needs.append(f"data: `{t.data.__name__}`")
        moves = f"{', '.join(t.source)} → {t.dest or '(stays)'}"
        who = "the engine" if t.automatic else ", ".join(p.describe() for p in t.who)
        if t.defer is not None:
            needs.append("held until the next phase's budget exists")
        lines.append(f"| {t.id} | `{t.trigger}` | {moves} | {who} | {'; '.join(needs)} |")
    lines += ["", "## Artefacts", "", "| kind | what | submitted in | by |", "|---|---|---|---|"]
    for a in definition.artefacts:
        who = ", ".join(p.describe() for p in a.who)
        lines.append(f"| `{a.kind}` | {a.label} | {', '.join(a.states)} | {who} |")
    return "\n".join(lines) + "\n"


def readme_with_diagrams(readme: str) -> str:
    """The README with each ``<!-- diagram:NAME -->`` block replaced by that process's diagram."""
    by_name = {d.name: d for d in DEFINITIONS}

    def fill(match: re.Match[str]) -> str:
        diagram = by_name[match.group(2)].mermaid().rstrip()
        return f"{match.group(1)}```mermaid\n{diagram}\n```\n{match.group(4)}"

    return README_BLOCK.sub(fill, readme)


def expected_files(root: Path) -> dict[Path, str]:
    """Every generated file with the content it should have."""
    files = {root / DOCS / f"{d.name}.md": process_page(d) for d in DEFINITIONS}
    files |= {root / DOCS / f"{d.name}.svg": process_svg(d) for d in DEFINITIONS}
    readme = root / "README.md"
    files[readme] = readme_with_diagrams(readme.read_text(encoding="utf-8"))
    return files

"""``osom diagram`` (a process, or a live case with its state marked) and ``osom docs`` (the
generated process pages), both from the one registry of processes (``workflows.PROCESSES``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from models.case_view import CaseStatus
from models.ids import workflow_id_for
from osom import cases
from osom.cli.common import run
from osom.client import connect
from workflows import PROCESSES
from workflows._definition import ProcessDefinition

# The names `osom diagram` takes for a process: each one's name and aliases (the definitions
# are of different case types).
BY_CLI_NAME: dict[str, ProcessDefinition[Any]] = {
    name: p.definition for p in PROCESSES for name in (p.name, *p.aliases)
}


def diagram(
    target: str,
    svg: Annotated[
        Path | None, typer.Option("--svg", help="also write the picture as SVG to this file")
    ] = None,
) -> None:
    """Mermaid diagram of a process (establishment, lifecycle, assessment, coe, coe-review) or
    of a case, its current state marked; with --svg also a picture, where a live case's blocked
    ways forward say what they need."""
    from osom.docs import BY_NAME
    from osom.svg import process_svg

    if target in BY_CLI_NAME:
        definition = BY_CLI_NAME[target]
        typer.echo(definition.mermaid())
        if svg:
            svg.write_text(process_svg(definition), encoding="utf-8")
        return

    async def action() -> tuple[str, CaseStatus]:
        client = await connect()
        workflow_id = workflow_id_for(target)
        return await cases.diagram(client, workflow_id), await cases.status(client, workflow_id)

    mermaid, status = run(action)
    typer.echo(mermaid)
    if svg:
        blocked = {b.trigger: b.missing for b in status.blockers if b.missing}
        picture = process_svg(BY_NAME[status.process], status.state, blocked)
        svg.write_text(picture, encoding="utf-8")


def docs() -> None:
    """Regenerate docs/processes/*.md and the README's diagrams from the definitions."""
    from osom.docs import expected_files

    for path, content in expected_files(Path.cwd()).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        typer.echo(f"wrote {path}")

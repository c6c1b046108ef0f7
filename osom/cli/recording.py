"""Commands on the record itself: ``osom verify`` (a case's audit chain) and ``osom
migrate-store`` (the file store of earlier releases taken into the record). Neither needs
Temporal; neither repairs or removes anything."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from models.errors import UnknownCase
from models.ids import workflow_id_for
from models.record import ChainReport
from osom.cli.common import CaseRef, JsonOpt, opened_record, record_location, run
from osom.settings import Settings

BROKEN = 1


def verify(case: CaseRef, as_json: JsonOpt = False) -> None:
    """Check a case's audit chain in the record; exit status 1 if it is broken.

    Every entry must hash to what it says and point at the one before it. A break is
    reported (where, and what is wrong), never repaired."""
    workflow_id = workflow_id_for(case)

    async def action() -> ChainReport:
        with opened_record() as record:
            report = record.verify(workflow_id)
            if report.entries == 0 and record.case(workflow_id) is None:
                raise UnknownCase(
                    f"the record holds no case with workflow id {workflow_id}",
                    workflow_id=workflow_id,
                )
            return report

    report = run(action)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        print_chain(report)
    if not report.intact:
        raise typer.Exit(BROKEN)


def print_chain(report: ChainReport) -> None:
    if report.intact:
        typer.secho(f"{report.case_id}: audit chain intact", fg="green")
        typer.echo(f"entries: {report.entries}")
        typer.echo(f"head:    {report.head or '-'}")
        return
    typer.secho(f"{report.case_id}: audit chain BROKEN at entry {report.broken_at}", fg="red")
    typer.echo(f"entries: {report.entries}")
    typer.echo(f"problem: {report.problem}")
    typer.echo("Nothing was repaired.")


def migrate_store(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="the data folder of the file store (default: OSOM_DATA_DIR)",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Take the file store of earlier releases into the record, checking every sha256.

    Artefacts, the outbox and api-tokens.yaml in the data folder go into the record
    (OSOM_RECORD_URL). Safe to run again: what is already in the record is left as it is.
    Files are never changed or removed. Exit status 1 if a file could not be migrated
    (listed; the rest is)."""
    from osom.migrate_store import Migration
    from osom.migrate_store import migrate_store as migrate

    settings = Settings.from_env()

    async def action() -> tuple[str, Migration]:
        with opened_record(settings) as record:
            if data_dir is None:  # where the settings keep each part
                done = migrate(
                    record,
                    settings.data_dir,
                    settings.artefact_root,
                    settings.outbox_root,
                    settings.api_tokens,
                )
            else:
                done = migrate(record, data_dir)
            return record_location(record), done

    where, done = run(action)
    typer.echo(f"from:          {done.data_dir}")
    typer.echo(f"into:          {where}")
    typer.echo(f"artefacts:     {done.artefacts}")
    typer.echo(f"notifications: {done.notifications}")
    typer.echo(f"tokens:        {done.tokens}")
    typer.echo(f"sha256 checked: {done.checked} of {done.artefact_files}")
    for line in done.left_out:
        typer.echo(f"left out: {line}")
    for line in done.problems:
        typer.secho(f"problem: {line}", err=True, fg="red")
    if not done.found_store and done.ok:
        typer.echo("nothing to migrate: no artefacts/, outbox/ or api-tokens.yaml there")
    elif not done.changed and done.found_store:
        rest = "all of it" if done.ok else "all the rest"
        typer.echo(f"nothing changed: the record already held {rest}")
    if not done.ok:
        typer.secho(
            f"{len(done.problems)} problem(s): those files are not in the record; put them "
            "right and run again (what was migrated stays)",
            err=True,
            fg="red",
        )
        raise typer.Exit(1)

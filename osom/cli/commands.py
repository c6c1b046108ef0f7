"""Commands to open cases: ``osom submit``, ``osom decide`` and ``osom reload-directory``."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer

from models.commands import ArtefactSubmission, CommandResult, Decision, DirectoryReload
from models.errors import OsomError
from models.ids import workflow_id_for
from osom import cases
from osom.cli.common import REFUSED, Actor, CaseRef, DecisionIdOpt, command, print_result, run
from osom.client import connect
from osom.documents import load_document


def submit(
    case: CaseRef,
    artefact_file: Path,
    actor: Actor,
    kind: Annotated[
        str | None, typer.Option(help="artefact kind (default: the file's 'kind')")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="why this version")] = None,
    decision_id: DecisionIdOpt = None,
) -> None:
    """Submit an artefact (a YAML/JSON file whose 'kind' names what it is)."""
    workflow_id = workflow_id_for(case)

    async def action() -> CommandResult:
        content = load_document(artefact_file)
        artefact_kind = kind or content.pop("kind", None)
        content.pop("kind", None)
        submission = command(
            ArtefactSubmission,
            decision_id=decision_id or uuid.uuid4().hex,
            actor=actor,
            reason=reason,
            kind=artefact_kind or "",
            content=content,
        )
        return await cases.submit(await connect(), workflow_id, submission)

    print_result(run(action))


def decide(
    case: CaseRef,
    trigger: str,
    actor: Actor,
    reason: Annotated[str | None, typer.Option(help="why (some decisions require it)")] = None,
    data: Annotated[
        Path | None, typer.Option(help="YAML/JSON file with the decision's data")
    ] = None,
    decision_id: DecisionIdOpt = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="send as a signal; a refusal lands in the audit log")
    ] = False,
) -> None:
    """Fire a trigger of the process (for example: triage_started, proposal_approved)."""
    workflow_id = workflow_id_for(case)

    async def action() -> CommandResult | None:
        decision = command(
            Decision,
            decision_id=decision_id or uuid.uuid4().hex,
            actor=actor,
            trigger=trigger,
            reason=reason,
            data=load_document(data) if data else {},
        )
        client = await connect()
        if no_wait:
            await cases.send_decision_signal(client, workflow_id, decision)
            typer.echo(
                f"sent (decision id {decision.decision_id}); see `osom status {workflow_id}`"
            )
            return None
        return await cases.decide(client, workflow_id, decision)

    result = run(action)
    if result:
        print_result(result)


def reload_directory(
    actor: Actor,
    workflow_ids: Annotated[
        list[str] | None, typer.Argument(help="cases to update (default: every open case)")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="what changed")] = None,
) -> None:
    """Make open cases take in the directory file as it is now (new delegations, leavers)."""

    async def action() -> int:
        client = await connect()
        targets = workflow_ids or await cases.running_cases(client)
        refused = 0
        for number, workflow_id in enumerate(targets, start=1):
            reload = command(
                DirectoryReload, decision_id=uuid.uuid4().hex, actor=actor, reason=reason
            )
            try:
                result = await cases.reload_directory(client, workflow_id, reload)
                typer.echo(f"[{number}/{len(targets)}] {workflow_id}: {result.message}")
            except OsomError as err:  # one case refusing leaves the others to go on
                refused += 1
                typer.secho(
                    f"[{number}/{len(targets)}] {workflow_id}: refused: {err.type}: {err.message}",
                    err=True,
                    fg="red",
                )
        typer.echo(f"{len(targets) - refused} case(s) reloaded, {refused} refused")
        return refused

    if run(action):
        raise typer.Exit(REFUSED)

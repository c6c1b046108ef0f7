"""Commands that read cases and what the engine sent: ``osom status``, ``inbox``, ``services``,
``log`` and ``outbox``.

``status`` and ``log`` ask the case's workflow while Temporal keeps its history and the record
once it is gone; ``outbox`` reads the record's notifications, with where each one's delivery
stands."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from models.audit import AuditEntry
from models.case_view import CaseStatus
from models.ids import workflow_id_for
from osom import record_reads
from osom.cli.common import Actor, CaseRef, JsonOpt, describe, opened_record, progress, run
from osom.client import connect

if TYPE_CHECKING:
    from models.record import RecordedNotification
    from osom.views import InboxItem, ServiceRow


def status(case: CaseRef, as_json: JsonOpt = False) -> None:
    """State, what blocks the case, who it waits for, the deadline and the last audit entries.

    From the case's workflow, or from the record once its history is gone."""
    workflow_id = workflow_id_for(case)

    async def action() -> CaseStatus:
        client = await connect()  # the workflow answers while Temporal keeps its history
        with opened_record() as record:
            return await record_reads.status(client, record, workflow_id)

    result = run(action)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    print_status(result)


def print_status(s: CaseStatus) -> None:
    typer.secho(f"{s.workflow_id}  {s.title}", bold=True)
    typer.echo(f"state:    {s.state}{' (final)' if s.terminal else ''} — {s.state_description}")
    if s.service_id:
        typer.echo(f"service:  {s.service_id}")
    for name, value in s.facts.items():
        typer.echo(f"{name.lower() + ':':9} {value}")
    if s.pending:
        typer.echo(f"approved: {s.pending}")
    if s.awaiting:
        typer.echo(f"waiting:  {', '.join(s.awaiting)}")
    for d in s.deadlines:
        flag = "  OVERDUE (escalated)" if d.escalated else ""
        typer.echo(f"deadline: {d.label} by {d.due_at:%Y-%m-%d %H:%M} UTC{flag}")
    for b in s.blockers:
        if b.missing:
            typer.echo(f"blocked:  {b.id} {b.trigger} needs:")
            for item in b.missing:
                typer.echo(f"            - {item}")
        else:
            typer.echo(f"ready:    {b.id} {b.trigger} — {b.description} ({', '.join(b.who)})")
    if s.legal_triggers:
        typer.echo(f"triggers: {', '.join(s.legal_triggers)}")
    for ref in s.artefacts.values():
        typer.echo(f"artefact: {describe(ref)} sha256 {ref.sha256}")
    typer.echo("recent:")
    for e in s.recent:
        moved = f"{e.from_state or '∅'} -> {e.to_state}"
        why = f" — {e.reason or e.message}" if (e.reason or e.message) else ""
        who = f"{e.actor} ({e.role})"
        typer.echo(f"  {e.at:%Y-%m-%d %H:%M} {e.outcome:8} {e.command} by {who} {moved}{why}")


def inbox(actor: Actor, as_json: JsonOpt = False) -> None:
    """What waits for a person across all cases, soonest deadline first, with the commands."""

    async def action() -> list[InboxItem]:
        from osom.views import inbox

        return await inbox(await connect(), actor, progress("reading cases"))

    items = run(action)
    if as_json:
        typer.echo(json.dumps([i.model_dump(mode="json") for i in items], indent=2))
        return
    if not items:
        typer.echo(f"nothing waits for {actor}")
    for item in items:
        due = f"due {item.deadline:%Y-%m-%d %H:%M} UTC" if item.deadline else "no deadline"
        flag = "  OVERDUE" if item.overdue else ""
        typer.secho(f"{item.case_id}  {item.title}  [{item.state}]  {due}{flag}", bold=True)
        for need in item.needs:
            typer.echo(f"    {need}")
        for command in item.commands:
            typer.echo(f"    $ {command}")


def services(as_json: JsonOpt = False) -> None:
    """Every service: phase, Service Manager, next assessment, corrective actions, blockers."""

    async def action() -> list[ServiceRow]:
        from osom.views import services

        return await services(await connect(), progress("reading services"))

    rows = run(action)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    header = f"{'service':12} {'phase':16} {'SM':6} {'next assessment':16} {'CoE actions':12}"
    typer.echo(f"{header} name")
    for r in rows:
        due = f"{r.next_assessment_due:%Y-%m-%d}" if r.next_assessment_due else "-"
        actions = f"{r.open_corrective_actions} ({r.overdue_corrective_actions} late)"
        typer.echo(
            f"{r.service_id:12} {r.phase:16} {r.service_manager:6} {due:16} {actions:12} {r.name}"
        )
        for blocker in r.blocked_by[:3]:
            typer.echo(f"{'':12} blocked: {blocker}")


def audit(case: CaseRef) -> None:
    """The whole audit log of a case as JSON lines.

    From the case's workflow, or from the record once its history is gone."""
    workflow_id = workflow_id_for(case)

    async def action() -> list[AuditEntry]:
        client = await connect()  # the workflow answers while Temporal keeps its history
        with opened_record() as record:
            return await record_reads.audit_log(client, record, workflow_id)

    for entry in run(action):
        typer.echo(entry.model_dump_json())


def outbox(
    person: Annotated[
        str | None,
        typer.Option("--person", "--to", help="only notifications to this person (P-001)"),
    ] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="only those whose delivery failed for good")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Notifications the engine has sent (the record's outbox), with where delivery stands.

    Oldest first, one line each: when, kind, state (pending, delivered, recorded: nobody it
    is for has a channel, failed: retries ran out), attempts, case, recipients, subject and
    the last error."""

    async def action() -> list[RecordedNotification]:
        with opened_record() as record:
            return record.notifications(person, "failed" if failed else None)

    found = run(action)
    if as_json:
        typer.echo(json.dumps([n.model_dump(mode="json") for n in found], indent=2))
        return
    if not found:
        failing = " failed" if failed else ""
        typer.echo(f"no{failing} notifications" + (f" to {person}" if person else ""))
    for n in found:
        typer.echo(outbox_line(n))


def outbox_line(n: RecordedNotification) -> str:
    """One line per notification (a multi-line error is joined into one)."""
    error = f" — last error: {' '.join(n.last_error.split())}" if n.last_error else ""
    tries = f"{n.attempts} attempt{'' if n.attempts == 1 else 's'}"
    return (
        f"{n.at:%Y-%m-%d %H:%M} {n.kind:10} {n.state:9} {tries:10} {n.case_id} "
        f"to {','.join(n.to)}: {' '.join(n.subject.split())}{error}"
    )

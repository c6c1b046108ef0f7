"""``osom review``: the regular CoE review (a Temporal Schedule) and its sessions."""

from __future__ import annotations

import typer
from temporalio.client import Client, ScheduleHandle

from activities.directory import load_policy
from models.case_view import CaseStatus
from osom.cli.common import run, wait_for_verdict
from osom.client import connect
from osom.review_schedule import ensure_review_schedule, start_session_now
from osom.settings import Settings

review_app = typer.Typer(help="The regular CoE review (a Temporal Schedule).", no_args_is_help=True)


@review_app.command("now")
def review_now() -> None:
    """Start a review session now (as the schedule would); prints its workflow id, then the
    CoEs it drew."""

    async def action() -> list[str]:
        client = await connect()
        await _ensure_schedule(client)
        workflow_id = await start_session_now(client)
        # A session opens once its draw is done: waiting for it waits for the draw.
        opened = await wait_for_verdict(client, workflow_id)
        return [workflow_id, *([_drawn(opened)] if opened else [])]

    for line in run(action):
        typer.echo(line)


def _drawn(session: CaseStatus) -> str:
    """What an opened session drew: its agenda, or why it cancelled itself."""
    if "Agenda" in session.facts:
        return f"drawn: {session.facts['Agenda']}"
    why = next((e.reason for e in reversed(session.recent) if e.command == "pool_empty"), None)
    return f"nothing drawn: {why or session.state_description} ({session.state})"


@review_app.command("schedule")
def review_schedule() -> None:
    """Bring the review schedule in step with the policy file and show its next sessions."""

    async def action() -> list[str]:
        handle = await _ensure_schedule(await connect())
        description = await handle.describe()
        note = description.schedule.state.note or ""
        times = [f"{t:%a %Y-%m-%d %H:%M} UTC" for t in description.info.next_action_times[:5]]
        return [f"schedule {handle.id}: {note}", *(f"next draw: {t}" for t in times)]

    for line in run(action):
        typer.echo(line)


async def _ensure_schedule(client: Client) -> ScheduleHandle:
    settings = Settings.from_env()
    policy = load_policy(settings.policy_path).coe_review
    return await ensure_review_schedule(client, policy, settings.task_queue)

"""``osom``: run the engine, start cases, send decisions and artefacts, inspect cases.

Every refusal prints the error type and what to do about it, exits with status 2, and leaves the
case unchanged. Connection settings come from Temporal's standard client configuration.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from temporalio.client import Client, ScheduleHandle
from temporalio.service import RPCError

from activities.directory import load_policy
from activities.notifications import Outbox
from models.case_view import CaseStatus
from models.commands import ArtefactSubmission, CommandResult, Decision, DirectoryReload
from models.contract import BudgetAllocation, ServiceContract
from models.errors import NoAnswer, OsomError, TemporalUnreachable, invalid
from osom import cases
from osom.client import connect
from osom.devserver import (
    DevServer,
    ServerExited,
    ensure_search_attributes,
    listened_on,
    log_tail,
    wait_for_server,
)
from osom.documents import load_document
from osom.logging import configure_logging
from osom.review_schedule import ensure_review_schedule, start_session_now
from osom.settings import Settings
from workflows._definition import ProcessDefinition
from workflows.assessment.definition import ASSESSMENT
from workflows.coe_review.definition import COE_REVIEW
from workflows.correction_of_errors.definition import COE
from workflows.establishment.definition import ESTABLISHMENT
from workflows.lifecycle.definition import LIFECYCLE

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
start_app = typer.Typer(help="Start a case.", no_args_is_help=True)
app.add_typer(start_app, name="start")
review_app = typer.Typer(help="The regular CoE review (a Temporal Schedule).", no_args_is_help=True)
app.add_typer(review_app, name="review")

PROCESSES: dict[str, ProcessDefinition[Any]] = {
    "establishment": ESTABLISHMENT,
    "new-service": ESTABLISHMENT,
    "lifecycle": LIFECYCLE,
    "assessment": ASSESSMENT,
    "coe": COE,
    "coe-review": COE_REVIEW,
}
CaseRef = Annotated[
    str,
    typer.Argument(
        help="the case: PRO-004, SVC-007, SVC-007-A03, COE-2026-001, or its workflow id",
        metavar="CASE",
    ),
]
REFUSED = 2

Actor = Annotated[str, typer.Option("--as", help="the person acting (directory id, e.g. P-001)")]
DecisionIdOpt = Annotated[
    str | None,
    typer.Option("--id", help="decision id; reuse it to retry safely (default: a new one)"),
]


def _run(action: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one async action; print a refusal as a person can act on it and exit non-zero."""
    try:
        return asyncio.run(action())
    except NoAnswer as err:  # not a refusal: the outcome is not known yet
        typer.secho(f"error: {err.type}: {err.message}", err=True, fg="red")
        if "decision_id" in err.details:
            typer.echo(f"decision id: {err.details['decision_id']}", err=True)
        raise typer.Exit(1) from None
    except OsomError as err:
        _print_refusal(err)
        raise typer.Exit(REFUSED) from None
    except RPCError as err:  # the server refused something that is not a domain decision
        typer.secho(f"error: Temporal said {err.status.name}: {err.message}", err=True, fg="red")
        raise typer.Exit(1) from None


def _print_refusal(err: OsomError) -> None:
    typer.secho(f"refused: {err.type}: {err.message}", err=True, fg="red")
    for item in err.details.get("missing", []):
        typer.echo(f"  missing: {item}", err=True)
    for item in err.details.get("problems", []):
        typer.echo(f"  problem: {item}", err=True)
    for item in err.details.get("errors", []):
        typer.echo(f"  field {item['field']}: {item['message']}", err=True)
    typer.echo("Nothing was changed.", err=True)


def _print_result(result: CommandResult) -> None:
    again = " (already applied earlier; nothing changed now)" if result.replayed else ""
    typer.secho(f"accepted: {result.message}{again}", fg="green")
    typer.echo(f"decision id: {result.decision_id}")
    if result.artefact:
        typer.echo(f"stored: {result.artefact.json_path}")
        typer.echo(f"        {result.artefact.markdown_path}")


async def _wait_for_verdict(client: Client, workflow_id: str) -> CaseStatus | None:
    """Wait for the worker to accept or refuse a case it was just asked to start; its status
    once open (None, with a warning, if no worker took it up yet)."""
    opened = await cases.wait_until_open(client, workflow_id)
    if opened is None:
        typer.secho(
            "no worker has taken the case up yet; it will be checked when one runs",
            err=True,
            fg="yellow",
        )
    return opened


def _progress(what: str) -> Callable[[int, int], None]:
    """A counter on the terminal (standard error) while many cases are read; silent when
    there are few, or when the output is not a terminal."""

    def show(done: int, total: int) -> None:
        if total < 10 or not sys.stderr.isatty():
            return
        end = "\n" if done == total else ""
        typer.echo(f"\r{what}: {done}/{total}", err=True, nl=False)
        typer.echo(end, err=True, nl=False)

    return show


def _model(model: type[M], document: dict[str, Any], what: str) -> M:
    document.pop("kind", None)
    try:
        return model.model_validate(document)
    except ValidationError as err:
        raise invalid(what, err) from err


def _command(model: type[M], **fields: Any) -> M:
    try:
        return model.model_validate(fields)
    except ValidationError as err:
        raise invalid("the command", err) from err


# -- running the engine ----------------------------------------------------------------------


@app.command()
def dev(
    data_dir: Annotated[
        Path | None, typer.Option(help="where the server database lives (default: OSOM_DATA_DIR)")
    ] = None,
    ui_port: Annotated[int, typer.Option(help="Temporal Web UI port")] = 8233,
    port: Annotated[int, typer.Option(help="Temporal frontend port")] = 7233,
    api_port: Annotated[int, typer.Option(help="the engine's HTTP API port")] = 8000,
    http_port: Annotated[
        int | None, typer.Option(help="Temporal frontend HTTP port (default: any free one)")
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Temporal metrics port (default: any free one)")
    ] = None,
) -> None:
    """The embedded default: a Temporal dev server (SQLite in DATA_DIR), our worker and the
    HTTP API."""
    from worker import run_worker

    configure_logging()
    settings = Settings.from_env()
    data_dir = (data_dir or settings.data_dir).resolve()
    server = DevServer(
        db_file=data_dir / "temporal.db",
        port=port,
        ui_port=ui_port,
        http_port=http_port,
        metrics_port=metrics_port,
    )
    busy = server.busy_ports() + ([api_port] if listened_on("127.0.0.1", api_port) else [])
    if busy:
        typer.secho(
            f"error: port(s) {', '.join(map(str, busy))} already in use — is `make dev` already "
            f"running? Stop it, or pick others: {_PORT_CHOICES}.",
            err=True,
            fg="red",
        )
        raise typer.Exit(1)
    data_dir.mkdir(parents=True, exist_ok=True)
    typer.echo(f"[1/3] starting the Temporal dev server ({server.db_file}) ...")
    log_file = data_dir / "temporal-server.log"
    logged_before = log_file.stat().st_size if log_file.exists() else 0
    process = server.start(log_file)

    ports = {**server.ports, "API": api_port}

    async def serve() -> None:
        try:
            client = await wait_for_server(connect, server.address, process=process)
        except ServerExited as exited:
            what = f"the Temporal dev server exited before it answered (code {exited.returncode})"
            raise _server_failed(what, log_file, logged_before, ports) from None
        except TemporalUnreachable:
            what = f"the Temporal dev server did not answer on {server.address} within a minute"
            raise _server_failed(what, log_file, logged_before, ports) from None
        typer.echo("[2/3] server up; registering search attributes ...")
        added = await ensure_search_attributes(client)
        typer.echo(f"      added: {', '.join(added)}" if added else "      all present")
        typer.echo("[3/3] worker running. Ctrl-C stops the worker and the server.")
        typer.secho(f"\n  Temporal Web UI:  {server.ui_url}", fg="green", bold=True)
        typer.echo(f"  Temporal server:  {server.address} (namespace {client.namespace})")
        typer.echo(f"  HTTP API:         http://127.0.0.1:{api_port}/docs (tokens: osom api-token)")
        typer.echo(f"  Artefact store:   {settings.artefact_root}")
        typer.echo(f"  Outbox:           {settings.outbox_root}\n")
        api = _api_server(settings, client, "127.0.0.1", api_port)
        await asyncio.gather(run_worker(settings, client), api.serve())

    loop = asyncio.new_event_loop()
    task = loop.create_task(serve())
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        loop.run_until_complete(task)
    except asyncio.CancelledError:
        typer.echo("stopping ...")
    finally:
        process.terminate()
        process.wait(timeout=30)
        loop.close()


# Each port `osom dev` takes (by the dev server's name for it): its flag, and the variable
# `make dev` passes to that flag.
_PORT_FLAGS = {
    "frontend": ("--port", "PORT"),
    "UI": ("--ui-port", "UI_PORT"),
    "API": ("--api-port", "API_PORT"),
    "frontend HTTP": ("--http-port", "HTTP_PORT"),
    "metrics": ("--metrics-port", "METRICS_PORT"),
}
_PORT_CHOICES = (
    ", ".join(flag for flag, _ in _PORT_FLAGS.values())
    + " (make dev "
    + " ".join(f"{variable}=N" for _, variable in _PORT_FLAGS.values())
    + ")"
)


def _server_failed(what: str, log_file: Path, since: int, ports: dict[str, int]) -> typer.Exit:
    """Print what the dev server itself said (its log since ``since``) and how to change each
    port it names; the exit to raise instead of a traceback."""
    said = log_tail(log_file, since=since)
    typer.secho(f"error: {what}; it said (in {log_file}):", err=True, fg="red")
    for line in said or ["(nothing)"]:
        typer.echo(f"  {line}", err=True)
    named = [name for name, port in ports.items() if re.search(rf"\b{port}\b", "\n".join(said))]
    for name in named:
        flag, variable = _PORT_FLAGS[name]
        typer.echo(
            f"To use another {name} port than {ports[name]}: `osom dev {flag} N` "
            f"(or `make dev {variable}=N`).",
            err=True,
        )
    if not named:
        typer.echo(f"If a port is taken, pick others: {_PORT_CHOICES}.", err=True)
    return typer.Exit(1)


API_CONNECTIONS = 100


def _api_server(settings: Settings, client: Client | None, host: str, port: int) -> Any:
    import uvicorn

    from osom.api import create_app
    from osom.tokens import TokenBook

    connection = asyncio.Lock()
    shared: list[Client] = [client] if client else []

    async def connected() -> Client:
        """One Temporal connection for every request, opened at the first."""
        async with connection:
            if not shared:
                shared.append(await connect())
            return shared[0]

    app = create_app(
        connected,
        lambda: TokenBook.load(settings.api_tokens),
        settings.task_queue,
        load_policy(settings.policy_path).max_payload_bytes,
    )
    # Held-open connections get 503 past this many instead of using up file descriptors; a
    # header time-out belongs to the proxy in front (uvicorn's h11 server has none).
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", limit_concurrency=API_CONNECTIONS
    )
    return uvicorn.Server(config)


@app.command()
def api(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
) -> None:
    """The HTTP API (OpenAPI at /docs) against the configured Temporal server; callers
    authenticate with bearer tokens from `osom api-token`."""
    configure_logging()
    settings = Settings.from_env()
    asyncio.run(_api_server(settings, None, host, port).serve())


@app.command("api-token")
def api_token(
    person: Annotated[str, typer.Option(help="the directory person the token acts as")],
    label: Annotated[str, typer.Option(help="what the token is for (a form, a ticket tool)")] = "",
    revoke: Annotated[bool, typer.Option(help="revoke every token of the person instead")] = False,
) -> None:
    """Issue a bearer token for the HTTP API; it is printed once, only its hash is kept."""
    from activities.directory import load_directory
    from osom.tokens import TokenBook

    settings = Settings.from_env()
    try:
        if revoke:
            with TokenBook.editing(settings.api_tokens) as book:
                count = book.revoke(person)
            typer.echo(f"revoked {count} token(s) of {person}")
            return
        load_directory(settings.directory_path).person(person)
        # Locked read-modify-write: parallel runs never drop each other's tokens.
        with TokenBook.editing(settings.api_tokens) as book:
            token = book.issue(person, label)
    except OsomError as err:
        _print_refusal(err)
        raise typer.Exit(REFUSED) from None
    typer.echo(token)
    typer.echo(f"acts as {person}; hash kept in {settings.api_tokens}", err=True)


@app.command()
def seed() -> None:
    """Example cases in different states (a proposal, services live and in beta, CoEs), to try
    `osom inbox`, `osom services` and the Web UI on a fresh engine."""
    from osom.seed import seed as run_seed

    async def action() -> None:
        await run_seed(await connect(), Settings.from_env().task_queue, typer.echo)

    _run(action)


@app.command()
def worker() -> None:
    """A worker against the configured Temporal server (TEMPORAL_ADDRESS, profiles ...)."""
    from worker import main

    main()


# -- starting cases and sending commands -----------------------------------------------------


@start_app.command("new-service")
def start_new_service(proposal_file: Path, actor: Actor) -> None:
    """Start establishing a new service from a proposal (demand record); prints the workflow id."""

    async def action() -> str:
        proposal = cases.parse_proposal(load_document(proposal_file))
        client = await connect()
        workflow_id = await cases.start_new_service(
            client, proposal, actor, Settings.from_env().task_queue
        )
        # The worker checks the demand against its directory: wait for its yes or no.
        await _wait_for_verdict(client, workflow_id)
        return workflow_id

    typer.echo(_run(action))


@start_app.command("onboard")
def onboard(
    contract_file: Path,
    actor: Actor,
    budget_file: Annotated[
        Path, typer.Option("--budget", help="the service's current budget (YAML/JSON)")
    ],
    team: Annotated[
        list[str] | None,
        typer.Option("--team", help="a team member (repeat); they may not assess the service"),
    ] = None,
) -> None:
    """Onboard an existing service (L2) at the stage its contract states; prints the workflow
    id. The contract names its service_manager and lifecycle_stage."""

    async def action() -> str:
        contract = _model(ServiceContract, load_document(contract_file), "the contract")
        budget = _model(BudgetAllocation, load_document(budget_file), "the budget")
        client = await connect()
        workflow_id = await cases.onboard_service(
            client, contract, actor, budget, tuple(team or ()), Settings.from_env().task_queue
        )
        await _wait_for_verdict(client, workflow_id)
        return workflow_id

    typer.echo(_run(action))


@start_app.command("coe")
def open_coe(
    actor: Actor,
    service: Annotated[str, typer.Option(help="the service where the problem arose (SVC-nnn)")],
    problem: Annotated[str, typer.Option(help="what went wrong, in a sentence")],
    detected: Annotated[str, typer.Option(help="when it was detected (ISO 8601 with zone)")],
    mitigated: Annotated[str, typer.Option(help="when it was mitigated (ISO 8601 with zone)")],
    coe_id: Annotated[
        str | None, typer.Option("--id", help="CoE id (default: the next COE-<year>-<nnn>)")
    ] = None,
    users_impacted: Annotated[
        int | None, typer.Option(help="users affected (0 for a near miss)")
    ] = None,
    severity: Annotated[str | None, typer.Option(help="SEV1 to SEV4 (orders reviews)")] = None,
    related: Annotated[
        list[str] | None, typer.Option("--related", help="a ticket or link (repeat)")
    ] = None,
) -> None:
    """Open a Correction of Error for a problem in a service (C1, with or without user impact);
    prints the workflow id. The Service Manager, or a team member for them, opens it."""
    opening: dict[str, Any] = {
        "service_id": service,
        "problem": problem,
        "detected_at": detected,
        "mitigated_at": mitigated,
        "opened_by": actor,
        "users_impacted": users_impacted,
        "severity": severity,
        "related_items": related or [],
    }
    if coe_id:
        opening["coe_id"] = coe_id

    async def action() -> str:
        client = await connect()
        workflow_id = await cases.open_coe(client, opening, Settings.from_env().task_queue)
        await _wait_for_verdict(client, workflow_id)
        return workflow_id

    typer.echo(_run(action))


@review_app.command("now")
def review_now() -> None:
    """Start a review session now (as the schedule would); prints its workflow id, then the
    CoEs it drew."""

    async def action() -> list[str]:
        client = await connect()
        await _ensure_schedule(client)
        workflow_id = await start_session_now(client)
        # A session opens once its draw is done: waiting for it waits for the draw.
        opened = await _wait_for_verdict(client, workflow_id)
        return [workflow_id, *([_drawn(opened)] if opened else [])]

    for line in _run(action):
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

    for line in _run(action):
        typer.echo(line)


async def _ensure_schedule(client: Client) -> ScheduleHandle:
    settings = Settings.from_env()
    policy = load_policy(settings.policy_path).coe_review
    return await ensure_review_schedule(client, policy, settings.task_queue)


@app.command()
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
    workflow_id = cases.workflow_id_for(case)

    async def action() -> CommandResult:
        content = load_document(artefact_file)
        artefact_kind = kind or content.pop("kind", None)
        content.pop("kind", None)
        submission = _command(
            ArtefactSubmission,
            decision_id=decision_id or uuid.uuid4().hex,
            actor=actor,
            reason=reason,
            kind=artefact_kind or "",
            content=content,
        )
        return await cases.submit(await connect(), workflow_id, submission)

    _print_result(_run(action))


@app.command()
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
    workflow_id = cases.workflow_id_for(case)

    async def action() -> CommandResult | None:
        decision = _command(
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

    result = _run(action)
    if result:
        _print_result(result)


@app.command("reload-directory")
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
            command = _command(
                DirectoryReload, decision_id=uuid.uuid4().hex, actor=actor, reason=reason
            )
            try:
                result = await cases.reload_directory(client, workflow_id, command)
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

    if _run(action):
        raise typer.Exit(REFUSED)


# -- inspecting ------------------------------------------------------------------------------


@app.command()
def status(
    case: CaseRef,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """State, what blocks the case, who it waits for, the deadline and the last audit entries."""
    workflow_id = cases.workflow_id_for(case)

    async def action() -> CaseStatus:
        return await cases.status(await connect(), workflow_id)

    result = _run(action)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    _print_status(result)


def _print_status(s: CaseStatus) -> None:
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
    for kind, ref in s.artefacts.items():
        typer.echo(f"artefact: {kind} v{ref.version} {ref.markdown_path}")
    typer.echo("recent:")
    for e in s.recent:
        moved = f"{e.from_state or '∅'} -> {e.to_state}"
        why = f" — {e.reason or e.message}" if (e.reason or e.message) else ""
        who = f"{e.actor} ({e.role})"
        typer.echo(f"  {e.at:%Y-%m-%d %H:%M} {e.outcome:8} {e.command} by {who} {moved}{why}")


@app.command()
def inbox(
    actor: Actor,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """What waits for a person across all cases, soonest deadline first, with the commands."""

    async def action() -> list[Any]:
        from osom.views import inbox

        return await inbox(await connect(), actor, _progress("reading cases"))

    items = _run(action)
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


@app.command()
def services(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Every service: phase, Service Manager, next assessment, corrective actions, blockers."""

    async def action() -> list[Any]:
        from osom.views import services

        return await services(await connect(), _progress("reading services"))

    rows = _run(action)
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


@app.command("log")
def audit(case: CaseRef) -> None:
    """The whole audit log of a case as JSON lines."""
    workflow_id = cases.workflow_id_for(case)

    async def action() -> list[Any]:
        return await cases.audit_log(await connect(), workflow_id)

    for entry in _run(action):
        typer.echo(entry.model_dump_json())


@app.command()
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

    if target in PROCESSES:
        definition = PROCESSES[target]
        typer.echo(definition.mermaid())
        if svg:
            svg.write_text(process_svg(definition), encoding="utf-8")
        return

    async def action() -> tuple[str, CaseStatus]:
        client = await connect()
        workflow_id = cases.workflow_id_for(target)
        return await cases.diagram(client, workflow_id), await cases.status(client, workflow_id)

    mermaid, status = _run(action)
    typer.echo(mermaid)
    if svg:
        blocked = {b.trigger: b.missing for b in status.blockers if b.missing}
        picture = process_svg(BY_NAME[status.process], status.state, blocked)
        svg.write_text(picture, encoding="utf-8")


@app.command()
def docs() -> None:
    """Regenerate docs/processes/*.md and the README's diagrams from the definitions."""
    from osom.docs import expected_files

    for path, content in expected_files(Path.cwd()).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        typer.echo(f"wrote {path}")


@app.command()
def outbox(
    to: Annotated[
        str | None, typer.Option("--to", help="only notifications to this person")
    ] = None,
) -> None:
    """Notifications the engine has sent (the outbox in the data folder)."""
    for n in Outbox(Settings.from_env().outbox_root).read(to):
        typer.echo(f"{n.at:%Y-%m-%d %H:%M} {n.kind:10} to {','.join(n.to)}: {n.subject}")


def main() -> None:
    """Console entry point: run the command, then leave without interpreter teardown.

    The Temporal SDK's native threads can abort a finishing interpreter ("PyGILState_Release",
    DESIGN §7), which would turn a clean exit into status 134; ``os._exit`` after flushing keeps
    the exit status the command's own.
    """
    code = 0
    try:
        app()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else int(done.code is not None)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()

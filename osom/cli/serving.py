"""Commands that serve the engine's front doors or prepare them: ``osom api``, ``osom api-token``
and ``osom seed``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from temporalio.client import Client

from activities.directory import load_policy
from models.errors import OsomError
from osom.cli.common import REFUSED, opened_record, print_refusal, record_location, run
from osom.client import connect
from osom.logging import configure_logging
from osom.settings import Settings

if TYPE_CHECKING:
    import uvicorn

    from activities.record import RecordStore

API_CONNECTIONS = 100


def api_server(
    settings: Settings,
    client: Client | None,
    host: str,
    port: int,
    record: RecordStore | None = None,
) -> uvicorn.Server:
    """The HTTP API as a uvicorn server, on ``client`` or a connection opened at the first
    request, and on ``record`` or the one the settings name (its schema brought up to date)."""
    import uvicorn

    from activities.record import RecordStore
    from osom.api import create_app

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
        record or RecordStore.open(settings.record),
        settings.task_queue,
        load_policy(settings.policy_path).max_payload_bytes,
        settings.public_url,
    )
    # Held-open connections get 503 past this many instead of using up file descriptors; a
    # header time-out belongs to the proxy in front (uvicorn's h11 server has none).
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", limit_concurrency=API_CONNECTIONS
    )
    return uvicorn.Server(config)


def api(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
) -> None:
    """The HTTP API (OpenAPI at /docs) against the configured Temporal server; callers
    authenticate with bearer tokens from `osom api-token`."""
    configure_logging()
    settings = Settings.from_env()
    asyncio.run(api_server(settings, None, host, port).serve())


def api_token(
    person: Annotated[str, typer.Option(help="the directory person the token acts as")],
    label: Annotated[str, typer.Option(help="what the token is for (a form, a ticket tool)")] = "",
    revoke: Annotated[bool, typer.Option(help="revoke every token of the person instead")] = False,
    expires_in_days: Annotated[
        int | None, typer.Option(help="the token expires this many days from now")
    ] = None,
    expires_at: Annotated[
        datetime | None,
        typer.Option(
            help="the token expires then (ISO 8601 with its zone)",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z"],
        ),
    ] = None,
) -> None:
    """Issue a bearer token for the HTTP API; it is printed once, only its hash is kept.

    Tokens are kept in the record (OSOM_RECORD_URL), shared by every API instance. --revoke
    revokes every token of the person instead."""
    from activities.directory import load_directory
    from osom import tokens

    settings = Settings.from_env()
    lifetime = timedelta(days=expires_in_days) if expires_in_days is not None else None
    # The same moment in UTC: SQLite keeps a moment without its offset.
    until = expires_at.astimezone(UTC) if expires_at and expires_at.tzinfo else expires_at
    try:
        with opened_record(settings) as record:
            where = record_location(record)
            if revoke:
                count = tokens.revoke(record, person)
                typer.echo(f"revoked {count} token(s) of {person}")
                return
            load_directory(settings.directory_path).person(person)
            token = tokens.issue(record, person, label, expires_in=lifetime, expires_at=until)
    except OsomError as err:
        print_refusal(err)
        raise typer.Exit(REFUSED) from None
    typer.echo(token)
    typer.echo(f"acts as {person}; its hash is kept in the record ({where})", err=True)


def seed() -> None:
    """Example cases in different states (a proposal, services live and in beta, CoEs), to try
    `osom inbox`, `osom services` and the Web UI on a fresh engine."""
    from osom.seed import seed as run_seed

    async def action() -> None:
        await run_seed(await connect(), Settings.from_env().task_queue, typer.echo)

    run(action)

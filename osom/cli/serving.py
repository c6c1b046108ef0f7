"""Commands that serve the engine's front doors or prepare them: ``osom api``, ``osom api-token``
and ``osom seed``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from temporalio.client import Client

from activities.directory import load_policy
from models.errors import OsomError
from osom.cli.common import REFUSED, print_refusal, run
from osom.client import connect
from osom.logging import configure_logging
from osom.settings import Settings

if TYPE_CHECKING:
    import uvicorn

API_CONNECTIONS = 100


def api_server(settings: Settings, client: Client | None, host: str, port: int) -> uvicorn.Server:
    """The HTTP API as a uvicorn server, on ``client`` or a connection opened at the first
    request."""
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
        print_refusal(err)
        raise typer.Exit(REFUSED) from None
    typer.echo(token)
    typer.echo(f"acts as {person}; hash kept in {settings.api_tokens}", err=True)


def seed() -> None:
    """Example cases in different states (a proposal, services live and in beta, CoEs), to try
    `osom inbox`, `osom services` and the Web UI on a fresh engine."""
    from osom.seed import seed as run_seed

    async def action() -> None:
        await run_seed(await connect(), Settings.from_env().task_queue, typer.echo)

    run(action)

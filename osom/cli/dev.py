"""``osom dev``, the embedded default: a Temporal dev server (SQLite in the data folder), a
worker and the HTTP API in one process.

The worker itself belongs to the composition root: ``main.py`` declares the command and hands
``run_dev`` the function that runs a worker, so the front doors never import it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import typer
from temporalio.client import Client

from models.errors import TemporalUnreachable
from osom.cli.serving import api_server
from osom.client import connect
from osom.devserver import (
    DevServer,
    ServerExited,
    ensure_search_attributes,
    listened_on,
    log_tail,
    wait_for_server,
)
from osom.logging import configure_logging
from osom.settings import Settings

# Runs a worker on the client until cancelled (``worker.run_worker``).
RunWorker = Callable[[Settings, Client], Awaitable[None]]

# Each port `osom dev` takes (by the dev server's name for it): its flag, and the variable
# `make dev` passes to that flag.
PORT_FLAGS = {
    "frontend": ("--port", "PORT"),
    "UI": ("--ui-port", "UI_PORT"),
    "API": ("--api-port", "API_PORT"),
    "frontend HTTP": ("--http-port", "HTTP_PORT"),
    "metrics": ("--metrics-port", "METRICS_PORT"),
}
PORT_CHOICES = (
    ", ".join(flag for flag, _ in PORT_FLAGS.values())
    + " (make dev "
    + " ".join(f"{variable}=N" for _, variable in PORT_FLAGS.values())
    + ")"
)


def run_dev(
    run_worker: RunWorker,
    data_dir: Path | None,
    ui_port: int,
    port: int,
    api_port: int,
    http_port: int | None,
    metrics_port: int | None,
) -> None:
    """Start the dev server, wait for it, then run the worker and the API until Ctrl-C."""
    configure_logging()
    settings = Settings.from_env()
    if not os.environ.get("OSOM_PUBLIC_URL"):  # links point at this API, on its port
        settings = dataclasses.replace(settings, public_url=f"http://127.0.0.1:{api_port}")
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
            f"running? Stop it, or pick others: {PORT_CHOICES}.",
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
            raise server_failed(what, log_file, logged_before, ports) from None
        except TemporalUnreachable:
            what = f"the Temporal dev server did not answer on {server.address} within a minute"
            raise server_failed(what, log_file, logged_before, ports) from None
        typer.echo("[2/3] server up; registering search attributes ...")
        added = await ensure_search_attributes(client)
        typer.echo(f"      added: {', '.join(added)}" if added else "      all present")
        typer.echo("[3/3] worker running. Ctrl-C stops the worker and the server.")
        typer.secho(f"\n  Temporal Web UI:  {server.ui_url}", fg="green", bold=True)
        typer.echo(f"  Temporal server:  {server.address} (namespace {client.namespace})")
        typer.echo(f"  HTTP API:         http://127.0.0.1:{api_port}/docs (tokens: osom api-token)")
        typer.echo(f"  Record:           {hidden_password(settings.record)}")
        typer.echo(f"  Notifications:    {notifications_go(settings)}\n")
        api = api_server(settings, client, "127.0.0.1", api_port)
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


def hidden_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def server_failed(what: str, log_file: Path, since: int, ports: dict[str, int]) -> typer.Exit:
    """Print what the dev server itself said (its log since ``since``) and how to change each
    port it names; the exit to raise instead of a traceback."""
    said = log_tail(log_file, since=since)
    typer.secho(f"error: {what}; it said (in {log_file}):", err=True, fg="red")
    for line in said or ["(nothing)"]:
        typer.echo(f"  {line}", err=True)
    named = [name for name, port in ports.items() if re.search(rf"\b{port}\b", "\n".join(said))]
    for name in named:
        flag, variable = PORT_FLAGS[name]
        typer.echo(
            f"To use another {name} port than {ports[name]}: `osom dev {flag} N` "
            f"(or `make dev {variable}=N`).",
            err=True,
        )
    if not named:
        typer.echo(f"If a port is taken, pick others: {PORT_CHOICES}.", err=True)
    return typer.Exit(1)


def notifications_go(settings: Settings) -> str:
    """Where notifications go, said once at start so nobody waits for a mail that never comes."""
    if settings.smtp_url:
        host = settings.smtp_url.split("@")[-1].split("/")[0]
        return f"e-mailed through {host} (OSOM_SMTP_URL), and to people's webhooks"
    return "recorded in the outbox only (`osom outbox`); set OSOM_SMTP_URL to e-mail them"

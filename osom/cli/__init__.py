"""``osom``: run the engine, start cases, send decisions and artefacts, inspect cases.

Every refusal prints the error type and what to do about it, exits with status 2, and leaves the
case unchanged. Connection settings come from Temporal's standard client configuration.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import typer

from osom.cli import commands, diagrams, inspecting, recording, serving
from osom.cli.review import review_app
from osom.cli.start import start_app

# A typer command function; what it returns is not used.
Command = Callable[..., object]


def build_app(dev: Command | None = None, worker: Command | None = None) -> typer.Typer:
    """The ``osom`` command. The front doors' commands are all here; the composition root
    (``main.py``) passes in ``osom dev`` and ``osom worker``, which run a worker, so that this
    package never imports one. Commands are listed in ``--help`` in the order given here."""
    app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
    app.add_typer(start_app, name="start")
    app.add_typer(review_app, name="review")
    if dev is not None:
        app.command("dev")(dev)
    app.command("api")(serving.api)
    app.command("api-token")(serving.api_token)
    app.command("seed")(serving.seed)
    if worker is not None:
        app.command("worker")(worker)
    app.command("submit")(commands.submit)
    app.command("decide")(commands.decide)
    app.command("reload-directory")(commands.reload_directory)
    app.command("status")(inspecting.status)
    app.command("inbox")(inspecting.inbox)
    app.command("services")(inspecting.services)
    app.command("log")(inspecting.audit)
    app.command("diagram")(diagrams.diagram)
    app.command("docs")(diagrams.docs)
    app.command("outbox")(inspecting.outbox)
    app.command("verify")(recording.verify)
    app.command("migrate-store")(recording.migrate_store)
    return app


# The front doors alone (`python -m osom.cli`): every command but `dev` and `worker`.
app = build_app()


def run_app(app: typer.Typer) -> None:
    """Run the command, then leave without interpreter teardown.

    The Temporal SDK's native threads can abort a finishing interpreter ("PyGILState_Release",
    DESIGN §7), which would turn a clean exit into status 134; ``os._exit`` after flushing keeps
    the exit status the command's own.
    """
    code = 0
    try:
        app()
    except SystemExit as done:
        if isinstance(done.code, str):  # SystemExit("why") says why, as the interpreter would
            print(done.code, file=sys.stderr)
        code = done.code if isinstance(done.code, int) else int(done.code is not None)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main() -> None:
    """Entry point of the front doors alone; ``osom`` itself is ``main:main``."""
    run_app(app)

"""``osom``, the console command: the front doors' commands (``osom.cli``) and the two that run
a worker, ``osom dev`` and ``osom worker``. The composition root: only here (and in worker.py)
do the front doors meet the worker, so no package imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from osom.cli import build_app, run_app


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
    from osom.cli.dev import run_dev
    from worker import run_worker

    run_dev(run_worker, data_dir, ui_port, port, api_port, http_port, metrics_port)


def worker(
    metrics_address: Annotated[
        str | None,
        typer.Option(help="serve Prometheus metrics at http://HOST:PORT/metrics (default: off)"),
    ] = None,
) -> None:
    """A worker against the configured Temporal server (TEMPORAL_ADDRESS, profiles ...)."""
    from worker import main as run

    run(metrics_address)


app = build_app(dev=dev, worker=worker)


def main() -> None:
    """Console entry point (``[project.scripts] osom = "main:main"``)."""
    run_app(app)


if __name__ == "__main__":
    main()

"""What every command shares: the arguments that name a case and a person, running one async
action with refusals printed as a person can act on them, and printing a command's answer."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from temporalio.client import Client
from temporalio.service import RPCError

from models.case_view import CaseStatus
from models.commands import ArtefactRef, CommandResult
from models.errors import NoAnswer, OsomError, invalid
from osom import cases
from osom.settings import Settings

if TYPE_CHECKING:
    from activities.record import RecordStore

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

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
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def run(action: Callable[[], Coroutine[object, None, T]]) -> T:
    """Run one async action; print a refusal as a person can act on it and exit non-zero."""
    try:
        return asyncio.run(action())
    except NoAnswer as err:  # not a refusal: the outcome is not known yet
        typer.secho(f"error: {err.type}: {err.message}", err=True, fg="red")
        if "decision_id" in err.details:
            typer.echo(f"decision id: {err.details['decision_id']}", err=True)
        raise typer.Exit(1) from None
    except OsomError as err:
        print_refusal(err)
        raise typer.Exit(REFUSED) from None
    except RPCError as err:  # the server refused something that is not a domain decision
        typer.secho(f"error: Temporal said {err.status.name}: {err.message}", err=True, fg="red")
        raise typer.Exit(1) from None


def print_refusal(err: OsomError) -> None:
    typer.secho(f"refused: {err.type}: {err.message}", err=True, fg="red")
    for item in err.details.get("missing", []):
        typer.echo(f"  missing: {item}", err=True)
    for item in err.details.get("problems", []):
        typer.echo(f"  problem: {item}", err=True)
    for item in err.details.get("errors", []):
        typer.echo(f"  field {item['field']}: {item['message']}", err=True)
    typer.echo("Nothing was changed.", err=True)


def print_result(result: CommandResult) -> None:
    again = " (already applied earlier; nothing changed now)" if result.replayed else ""
    typer.secho(f"accepted: {result.message}{again}", fg="green")
    typer.echo(f"decision id: {result.decision_id}")
    if result.artefact:
        typer.echo(f"stored: {describe(result.artefact)}")
        typer.echo(f"sha256: {result.artefact.sha256}")


def describe(ref: ArtefactRef) -> str:
    """``kind vN`` and where it is read: its URL in the HTTP API (the file of a version stored
    before the record, in the history of an older case)."""
    where = ref.url or (f"{ref.markdown_path} (file store)" if ref.markdown_path else "")
    return f"{ref.label} {where}".rstrip()


@contextmanager
def opened_record(settings: Settings | None = None) -> Iterator[RecordStore]:
    """The record the settings name (OSOM_RECORD_URL, or the SQLite file in the data folder),
    its schema brought up to date, closed afterwards. RecordUnavailable if it cannot be
    reached: inside ``run``, a refusal like any other."""
    from activities.record import RecordStore

    record = RecordStore.open((settings or Settings.from_env()).record)
    try:
        yield record
    finally:
        record.close()


def record_location(record: RecordStore) -> str:
    """The record's URL without its password, to say where something was read or kept."""
    return record.engine.url.render_as_string(hide_password=True)


async def wait_for_verdict(client: Client, workflow_id: str) -> CaseStatus | None:
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


def progress(what: str) -> Callable[[int, int], None]:
    """A counter on the terminal (standard error) while many cases are read; silent when
    there are few, or when the output is not a terminal."""

    def show(done: int, total: int) -> None:
        if total < 10 or not sys.stderr.isatty():
            return
        end = "\n" if done == total else ""
        typer.echo(f"\r{what}: {done}/{total}", err=True, nl=False)
        typer.echo(end, err=True, nl=False)

    return show


def model(model: type[M], document: dict[str, object], what: str) -> M:
    """A document read from a file as ``model`` (its ``kind`` dropped), or the refusal."""
    document.pop("kind", None)
    try:
        return model.model_validate(document)
    except ValidationError as err:
        raise invalid(what, err) from err


def command(model: type[M], **fields: object) -> M:
    """A command from the options given, or the refusal."""
    try:
        return model.model_validate(fields)
    except ValidationError as err:
        raise invalid("the command", err) from err

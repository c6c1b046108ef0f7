"""Reading a signal's raw payload without trusting its shape.

A signal cannot be refused back to its sender and is already in history, so whatever it carries
(nothing, several values, null, a list, binary, deeply nested JSON, an unknown encoding) must
become either a validated message or a typed refusal for the audit log: never an exception that
fails the workflow task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from models.errors import InvalidArtefact, MalformedInput, invalid

M = TypeVar("M", bound=BaseModel)


def _readable(args: Sequence[RawValue]) -> Any:
    """The one value a signal carries, as plain JSON data; MalformedInput if it cannot be read."""
    if len(args) != 1:
        raise InvalidArtefact(
            f"a signal carries one JSON object; this one carried {len(args)} values",
            errors=[{"field": "(root)", "message": f"{len(args)} values"}],
        )
    try:
        return workflow.payload_converter().from_payload(args[0].payload)
    except Exception as err:  # any encoding or parser error: the payload is unreadable
        raise MalformedInput(
            f"the signal's payload could not be read as JSON ({type(err).__name__})",
            errors=[{"field": "(root)", "message": "not readable JSON"}],
        ) from None


def decoded_signal(name: str, args: Sequence[RawValue], model: type[M]) -> M:
    """The signal's payload validated as ``model``, or a typed refusal naming what is wrong."""
    value = _readable(args)
    if not isinstance(value, dict):
        raise InvalidArtefact(
            f"the {name} signal takes a JSON object, not {type(value).__name__}",
            errors=[
                {"field": "(root)", "message": f"expected an object, got {type(value).__name__}"}
            ],
        )
    try:
        return model.model_validate(value)
    except ValidationError as err:
        raise invalid(f"the {name} signal", err) from None
    except RecursionError:
        raise InvalidArtefact(
            f"the {name} signal is nested too deeply",
            errors=[{"field": "(root)", "message": "nested too deeply"}],
        ) from None


def _text(value: object, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) else None


@dataclass(frozen=True)
class SignalSender:
    """What a refused signal claimed to be (unverified), for its line in the audit log."""

    command: str
    actor: str
    decision_id: str

    @classmethod
    def of(cls, name: str, args: Sequence[RawValue]) -> SignalSender:
        try:
            value = _readable(args)
        except InvalidArtefact:
            value = None
        said: dict[str, Any] = value if isinstance(value, dict) else {}
        kind = _text(said.get("kind"), 60)
        command = _text(said.get("trigger"), 80) or (f"submit:{kind}" if kind else None)
        return cls(
            command=command or name[:80],
            actor=_text(said.get("actor"), 40) or "?",
            decision_id=_text(said.get("decision_id"), 100) or "?",
        )

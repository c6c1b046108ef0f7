"""One hierarchy of domain errors: every refusal the engine gives names its problem.

The class name travels as the Temporal ``ApplicationError.type``, so the CLI, the API and the
audit log all speak the same vocabulary. ``details`` carries the machine-readable part.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError


class OsomError(Exception):
    """A refusal: the command was not applied and the case is unchanged."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    @property
    def type(self) -> str:
        return type(self).__name__


class NotAuthorised(OsomError):
    """The actor does not hold a role (or delegation) that may send this command."""


class UnknownPerson(NotAuthorised):
    """The actor is not in the directory of people."""


class IllegalTransition(OsomError):
    """The trigger does not exist, or is not legal from the case's current state."""


class CaseClosed(IllegalTransition):
    """The case is in a terminal state and takes no more commands."""


class ArtefactsMissing(OsomError):
    """The move needs artefacts that are missing or incomplete; ``missing`` lists them."""


class GuardFailed(OsomError):
    """A rule of the process refuses the move; ``problems`` lists why."""


class InvalidArtefact(OsomError):
    """An artefact or command payload failed validation; ``errors`` holds field-level messages."""


class PayloadTooLarge(InvalidArtefact):
    """The payload is larger than the policy allows."""


class MalformedInput(InvalidArtefact):
    """The input could not be parsed as YAML or JSON."""


class DecisionIdReused(OsomError):
    """The decision id was already used for a different command."""


class DirectoryUnavailable(OsomError):
    """The directory of people could not be read or is not valid."""


class NoAnswer(OsomError):
    """No worker answered in time; nothing is known to have changed."""


class CommandQueued(NoAnswer):
    """No worker took the command in time: it is kept on the server as a signal, under the
    same decision id, and applied in order when a worker runs."""


class TemporalUnreachable(NoAnswer):
    """The Temporal server could not be reached at all; nothing was sent."""


class UnknownCase(OsomError):
    """No workflow exists with that id."""


class ArtefactConflict(OsomError):
    """An artefact version already exists with different content (versions are immutable)."""


class RecordUnavailable(OsomError):
    """The record store (the engine's database) cannot be reached or written right now. Nothing
    was changed; send the same command again, with the same decision id, once it is back."""

    retryable = True


class ArtefactNotFound(UnknownCase):
    """The record holds no such artefact version of the case."""


ALL_ERRORS: dict[str, type[OsomError]] = {
    cls.__name__: cls
    for cls in (
        OsomError,
        NotAuthorised,
        UnknownPerson,
        IllegalTransition,
        CaseClosed,
        ArtefactsMissing,
        GuardFailed,
        InvalidArtefact,
        PayloadTooLarge,
        MalformedInput,
        UnknownCase,
        ArtefactConflict,
        RecordUnavailable,
        ArtefactNotFound,
        DecisionIdReused,
        DirectoryUnavailable,
        NoAnswer,
        TemporalUnreachable,
        CommandQueued,
    )
}


def payload_size(payload: object) -> int:
    """Bytes the payload takes as JSON: what the size limits of the policy count."""
    return len(json.dumps(payload, default=str).encode())


def invalid(what: str, err: ValidationError) -> InvalidArtefact:
    """An InvalidArtefact carrying pydantic's field-level messages in a form people can read."""
    errors = [
        {"field": ".".join(str(p) for p in e["loc"]) or "(root)", "message": e["msg"]}
        for e in err.errors(include_url=False)
    ]
    listed = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return InvalidArtefact(f"{what} is not valid: {listed}", errors=errors)


class CaseExists(OsomError):
    """A case with that business key already exists."""


ALL_ERRORS[CaseExists.__name__] = CaseExists

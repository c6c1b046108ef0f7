"""The HTTP API's refusals: ``application/problem+json`` (RFC 9457) with the CLI's error type
names, the HTTP status of each type (a retryable one with its Retry-After), and the problem
documents the OpenAPI schema lists."""

from __future__ import annotations

import json
from collections.abc import Mapping

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from models.errors import (
    ArtefactConflict,
    ArtefactNotFound,
    ArtefactsMissing,
    CaseClosed,
    CaseExists,
    CommandQueued,
    DecisionIdReused,
    DirectoryUnavailable,
    GuardFailed,
    IllegalTransition,
    InvalidArtefact,
    MalformedInput,
    NoAnswer,
    NotAuthorised,
    OsomError,
    PayloadTooLarge,
    RecordUnavailable,
    TemporalUnreachable,
    UnknownCase,
)
from osom.tokens import TokensUnavailable

PROBLEM = "application/problem+json"


class Unauthenticated(OsomError):
    """No bearer token, or one the engine did not issue."""


class UnsupportedMediaType(MalformedInput):
    """A body that does not say it is JSON."""


class BodyTimeout(OsomError):
    """The client did not send the body it declared in time."""


# HTTP status per refusal; the body names the error type itself. Looked up along the error's
# class hierarchy, most specific first (``status_of``), never by its message.
STATUS_FOR: dict[type[OsomError], int] = {
    NotAuthorised: 403,
    UnknownCase: 404,
    ArtefactNotFound: 404,
    CaseClosed: 409,
    IllegalTransition: 409,
    ArtefactsMissing: 409,
    GuardFailed: 409,
    DecisionIdReused: 409,
    CaseExists: 409,
    ArtefactConflict: 409,
    PayloadTooLarge: 413,
    InvalidArtefact: 422,
    DirectoryUnavailable: 503,
    NoAnswer: 504,
    CommandQueued: 202,  # kept on the server; the decision id gets its answer later
    TemporalUnreachable: 503,
    Unauthenticated: 401,
    UnsupportedMediaType: 415,
    BodyTimeout: 408,
    TokensUnavailable: 503,
    RecordUnavailable: 503,
}

# Refusals worth sending again shortly: the seconds a client is told to wait (Retry-After).
RETRY_AFTER: dict[type[OsomError], int] = {
    RecordUnavailable: 5,
}


class Problem(BaseModel):
    """A refusal (RFC 9457 problem details): ``title`` is the error type, as the CLI names it;
    ``missing``, ``problems`` or field-level ``errors`` come with some."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:osom:error:ArtefactsMissing"])
    title: str
    status: int
    detail: str


def problem_responses() -> dict[int | str, dict[str, object]]:
    """Every refusal status with the error types that give it, for the OpenAPI document."""
    titles: dict[int, set[str]] = {
        400: {"OsomError"},  # a refusal type without a status of its own
        411: {"InvalidArtefact"},  # a body without a Content-Length
        500: {"OsomError"},
        502: {"NoAnswer", "OsomError"},  # Temporal refused the call; an untyped refusal
    }
    for kind, status in STATUS_FOR.items():
        titles.setdefault(status, set()).add(kind.__name__)
    content = {PROBLEM: {"schema": Problem.model_json_schema()}}
    return {
        status: {"description": ", ".join(sorted(names)), "content": content}
        for status, names in sorted(titles.items())
    }


def status_of(err: OsomError) -> int:
    """The status of the most specific class of ``err`` that has one."""
    for kind in type(err).__mro__:
        if kind in STATUS_FOR:
            return STATUS_FOR[kind]
    return 502 if type(err) is OsomError else 400


def retry_after(err: OsomError) -> int | None:
    """Seconds to wait before sending the same request again, if the refusal says so."""
    for kind in type(err).__mro__:
        if kind in RETRY_AFTER:
            return RETRY_AFTER[kind]
    return None


def problem_response(
    err: OsomError, status: int | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The refusal as problem+json, with the status of its type unless told."""
    status = status_of(err) if status is None else status
    body = {
        "type": f"urn:osom:error:{err.type}",
        "title": err.type,
        "status": status,
        "detail": err.message,
        **{k: v for k, v in err.details.items() if _jsonable(v)},
    }
    sent = dict(headers or {}) | ({"WWW-Authenticate": "Bearer"} if status == 401 else {})
    if (wait := retry_after(err)) is not None:
        sent.setdefault("Retry-After", str(wait))
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=sent)


def _jsonable(value: object) -> bool:
    try:
        json.dumps(value)
    except TypeError:
        return False
    return True

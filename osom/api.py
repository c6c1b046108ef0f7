"""The HTTP front door (``osom api``): start cases, send decisions and artefacts, read cases,
an approver's inbox and the service network.

Every request carries a bearer token that stands for one person of the directory
(``osom.tokens``); that person is the actor of every command sent, whatever the body says.
Refusals are ``application/problem+json`` with the same error type names as the CLI, and a
refused command changes nothing: the engine checks it before anything is written.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import RequestResponseEndpoint
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from models.audit import AuditEntry
from models.case_view import BlockerView, CaseStatus
from models.coe import CoeReport
from models.commands import ArtefactSubmission, CommandResult, Decision, DecisionId, Reason
from models.errors import (
    InvalidArtefact,
    MalformedInput,
    NoAnswer,
    OsomError,
    PayloadTooLarge,
    UnknownCase,
    invalid,
)
from models.ids import workflow_id_for
from models.proposal import Proposal
from osom import cases, views
from osom.api_errors import (
    PROBLEM,
    BodyTimeout,
    Unauthenticated,
    UnsupportedMediaType,
    problem_response,
    problem_responses,
)
from osom.json_body import parse_json_body
from osom.tokens import TokenBook, TokensUnavailable

__all__ = ["BODY_READ_SECONDS", "PROBLEM", "create_app"]

# How long a client has to send the body it declared, once its headers are in: a client that
# declares more than it sends must not hold a connection (and a request) open.
BODY_READ_SECONDS = 5.0

M = TypeVar("M", bound=BaseModel)


class DecisionRequest(BaseModel):
    """A decision; the actor is the person the token stands for."""

    model_config = ConfigDict(extra="forbid")

    trigger: Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,59}$")]
    data: dict[str, object] = Field(default_factory=dict)
    reason: Reason | None = None
    decision_id: DecisionId | None = Field(default=None, description="reuse to retry safely")


class ArtefactRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,59}$")]
    content: dict[str, object]
    reason: Reason | None = None
    decision_id: DecisionId | None = None


BEARER = HTTPBearer(auto_error=False, description="a token from `osom api-token`")


async def current_person(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> str:
    """The directory person the bearer token stands for (checked before the body is read):
    the actor of every command."""
    person: str = request.state.person
    return person


Person = Annotated[str, Depends(current_person)]


def _authenticated(request: Request, book: TokenBook) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("send 'Authorization: Bearer <token>' (osom api-token)")
    found = book.person_for(token.strip())
    if found is None:
        raise Unauthenticated("this token was not issued by this engine, or was revoked")
    return found


async def _body_refused(request: Request, limit: int) -> JSONResponse | None:
    """A body must say its length (so it cannot stream past the limit), keep within it, say it
    is JSON, arrive in full in time and parse, before any route (or Temporal) sees it."""
    if not _takes_a_body(request):
        return None  # the router answers (405 to a method the path does not take)
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        err = InvalidArtefact(
            "send the body with a Content-Length (chunked bodies are not taken)",
            errors=[{"field": "(body)", "message": "Content-Length required"}],
        )
        return problem_response(err, 411)
    if int(declared) > limit:
        err = PayloadTooLarge(
            f"the request body is {declared} bytes; at most {limit} are taken",
            errors=[{"field": "(body)", "message": f"{declared} bytes > {limit}"}],
        )
        return problem_response(err, 413)
    if not _says_json(request.headers.get("content-type", "")):
        return problem_response(
            UnsupportedMediaType("send application/json (the Content-Type header)")
        )
    try:
        async with asyncio.timeout(BODY_READ_SECONDS):
            raw = await request.body()  # kept for the route to read again
    except TimeoutError:
        late = BodyTimeout(
            f"the body did not arrive within {BODY_READ_SECONDS:g} seconds "
            f"({declared} bytes were declared)"
        )
        return problem_response(late, headers={"Connection": "close"})
    except ClientDisconnect:
        return problem_response(BodyTimeout("the client went away before sending its body"))
    try:
        parse_json_body(raw)
    except MalformedInput as err:
        return problem_response(err)
    return None


def _takes_a_body(request: Request) -> bool:
    """Whether the request goes to a route that reads a JSON body."""
    return any(
        isinstance(route, APIRoute)
        and route.body_field is not None
        and route.matches(request.scope)[0] is Match.FULL
        for route in request.app.router.routes
    )


def _says_json(content_type: str) -> bool:
    """``application/json`` or ``application/<x>+json``, as FastAPI reads a body as JSON."""
    media = content_type.partition(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


class Started(BaseModel):
    workflow_id: str
    status: CaseStatus | None = Field(description="None if no worker has taken it up yet")


def create_app(
    client: Callable[[], Awaitable[Client]],
    tokens: Callable[[], TokenBook],
    task_queue: str,
    max_body_bytes: int = 64 * 1024,
) -> FastAPI:
    """The API over a Temporal client (connected on first use) and the operator's tokens."""
    app = FastAPI(
        title="OSOM workflow engine",
        version="1",
        description=__doc__,
        responses=problem_responses(),
    )
    app.state.tokens = tokens

    @app.middleware("http")
    async def guard(request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Who is calling, then how big the body is before any of it is read, then the body."""
        if request.url.path.startswith("/v1/"):
            try:
                request.state.person = _authenticated(request, tokens())
            except (TokensUnavailable, Unauthenticated) as err:
                return problem_response(err)
            refused = await _body_refused(request, max_body_bytes)
            if refused is not None:
                return refused
        return await call_next(request)

    @app.exception_handler(OsomError)
    async def refused(request: Request, err: OsomError) -> JSONResponse:
        return problem_response(err)

    @app.exception_handler(RPCError)
    async def temporal_refused(request: Request, err: RPCError) -> JSONResponse:
        unavailable = err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)
        problem = NoAnswer(f"Temporal said {err.status.name}: {err.message}")
        return problem_response(problem, 503 if unavailable else 502)

    @app.exception_handler(StarletteHTTPException)
    async def not_routed(request: Request, err: StarletteHTTPException) -> JSONResponse:
        problem = (
            UnknownCase(str(err.detail)) if err.status_code == 404 else OsomError(str(err.detail))
        )
        return problem_response(problem, err.status_code, err.headers)  # a 405's Allow, say

    @app.exception_handler(Exception)
    async def failed(request: Request, err: Exception) -> JSONResponse:
        return problem_response(OsomError(f"the engine failed: {type(err).__name__}"), 500)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, err: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in err.errors()
        ]
        listed = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        problem = InvalidArtefact(f"the request is not valid: {listed}", errors=errors)
        return problem_response(problem, 422)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/proposals", status_code=201, tags=["start"])
    async def start_proposal(proposal: Proposal, who: Person) -> Started:
        """Start establishing a new service (E1); the token's person is the proposer."""
        temporal = await client()
        workflow_id = await cases.start_new_service(temporal, proposal, who, task_queue)
        return Started(
            workflow_id=workflow_id, status=await cases.wait_until_open(temporal, workflow_id)
        )

    @app.post("/v1/coes", status_code=201, tags=["start"])
    async def open_coe(opening: CoeReport, who: Person) -> Started:
        """Open a Correction of Error (C1); the token's person opens it."""
        temporal = await client()
        fields = opening.model_dump(mode="json", exclude_none=True) | {"opened_by": who}
        workflow_id = await cases.open_coe(temporal, fields, task_queue)
        return Started(
            workflow_id=workflow_id, status=await cases.wait_until_open(temporal, workflow_id)
        )

    @app.post("/v1/cases/{case:path}/decisions", tags=["commands"])
    async def decide(case: str, request: DecisionRequest, who: Person) -> CommandResult:
        """Fire a trigger as the token's person; refused with the CLI's error types."""
        decision = _command(
            Decision,
            decision_id=request.decision_id or uuid.uuid4().hex,
            actor=who,
            trigger=request.trigger,
            data=request.data,
            reason=request.reason,
        )
        return await cases.decide(await client(), workflow_id_for(case), decision)

    @app.post("/v1/cases/{case:path}/artefacts", tags=["commands"])
    async def submit(case: str, request: ArtefactRequest, who: Person) -> CommandResult:
        submission = _command(
            ArtefactSubmission,
            decision_id=request.decision_id or uuid.uuid4().hex,
            actor=who,
            kind=request.kind,
            content=request.content,
            reason=request.reason,
        )
        return await cases.submit(await client(), workflow_id_for(case), submission)

    @app.get("/v1/cases/{case:path}/blockers", tags=["read"])
    async def blockers(case: str, who: Person) -> list[BlockerView]:
        return (await cases.status(await client(), workflow_id_for(case))).blockers

    @app.get("/v1/cases/{case:path}/audit", tags=["read"])
    async def audit(case: str, who: Person) -> list[AuditEntry]:
        return await cases.audit_log(await client(), workflow_id_for(case))

    @app.get("/v1/cases/{case:path}", tags=["read"])
    async def status(case: str, who: Person) -> CaseStatus:
        """(Declared after /blockers and /audit: a workflow id may hold a slash.)"""
        return await cases.status(await client(), workflow_id_for(case))

    @app.get("/v1/services", tags=["read"])
    async def services(who: Person) -> list[views.ServiceRow]:
        return await views.services(await client())

    @app.get("/v1/inbox", tags=["read"])
    async def inbox(who: Person) -> list[views.InboxItem]:
        """What waits for the token's person across all cases."""
        return await views.inbox(await client(), who)

    return app


def _command(model: type[M], **fields: object) -> M:
    try:
        return model.model_validate(fields)
    except ValidationError as err:
        raise invalid("the command", err) from err

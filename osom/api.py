"""The HTTP front door (``osom api``): start cases, send decisions and artefacts, read cases,
their recorded artefact versions, an approver's inbox, the caller's notifications and the
service network.

Every request carries a bearer token that stands for one person of the directory
(``osom.tokens``, kept in the record); that person is the actor of every command sent, whatever
the body says. Refusals are ``application/problem+json`` with the same error type names as the
CLI, and a refused command changes nothing: the engine checks it before anything is written.
A case's view and audit log are read from the record once its workflow is gone.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import RequestResponseEndpoint
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.artefact_store import artefact_url
from activities.record import RecordStore
from models.audit import AuditEntry
from models.case_view import BlockerView, CaseStatus
from models.coe import CoeReport
from models.commands import ArtefactSubmission, CommandResult, Decision, DecisionId, Reason
from models.errors import (
    ArtefactNotFound,
    InvalidArtefact,
    NoAnswer,
    OsomError,
    RecordUnavailable,
    UnknownCase,
    invalid,
)
from models.ids import workflow_id_for
from models.proposal import Proposal
from models.record import ArtefactListing, DeliveryState, RecordedNotification, StoredArtefact
from osom import cases, record_reads, tokens, views
from osom.api_documents import PAGE_HEADERS, artefact_page, negotiate
from osom.api_errors import (
    PROBLEM,
    Unauthenticated,
    problem_response,
    problem_responses,
)
from osom.api_requests import BODY_READ_SECONDS, allowed_methods, body_refused

__all__ = ["BODY_READ_SECONDS", "PROBLEM", "create_app"]

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")

# The highest version number a record holds (a 32-bit INTEGER column in PostgreSQL).
MAX_VERSION = 2**31 - 1


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


class NotificationQuery(BaseModel):
    """What ``GET /v1/notifications`` takes: nothing it does not know."""

    model_config = ConfigDict(extra="forbid")

    state: DeliveryState | None = Field(default=None, description="only those in this state")


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


async def _authenticated(request: Request, record: RecordStore) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send 'Authorization: Bearer <token>' (osom api-token)")
    found = await asyncio.to_thread(tokens.person_for, record, token.strip())
    if found is None:
        # One answer for a token never issued, expired or revoked: the caller learns nothing.
        raise Unauthenticated("this token was not issued by this engine, or is no longer valid")
    return found


class Started(BaseModel):
    workflow_id: str
    status: CaseStatus | None = Field(description="None if no worker has taken it up yet")


def create_app(
    client: Callable[[], Awaitable[Client]],
    record: RecordStore,
    task_queue: str,
    max_body_bytes: int = 64 * 1024,
    public_url: str = "http://127.0.0.1:8000",
) -> FastAPI:
    """The API over a Temporal client (connected on first use) and the record (its schema
    brought up to date by the caller: ``RecordStore.open``), which holds the tokens, the
    artefact versions, the outbox and the view of cases whose workflow is gone. Links to
    artefacts are made with ``public_url``, the API's address as people reach it."""
    app = FastAPI(
        title="OSOM workflow engine",
        version="1",
        description=__doc__,
        responses=problem_responses(),
    )
    app.state.record = record

    async def read(call: Callable[..., R], *args: object) -> R:
        """A record read in a thread: the store is synchronous, the event loop must not wait."""
        return await asyncio.to_thread(call, *args)

    @app.middleware("http")
    async def guard(request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Who is calling, then how big the body is before any of it is read, then the body."""
        if request.url.path.startswith("/v1/"):
            try:
                request.state.person = await _authenticated(request, record)
            except (RecordUnavailable, Unauthenticated) as err:
                return problem_response(err)
            refused = await body_refused(request, max_body_bytes)
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
        headers = dict(err.headers or {})  # a 405's Allow, say
        if err.status_code == 405:
            # Starlette names the methods of the first route on the path only; GET and POST
            # on /artefacts are two routes.
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(problem, err.status_code, headers)

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
        workflow_id = _case_id(case)
        return await cases.decide(await client(), workflow_id, decision)

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
        workflow_id = _case_id(case)
        return await cases.submit(await client(), workflow_id, submission)

    @app.get(
        "/v1/cases/{case:path}/artefacts/{kind}/v{version}",
        tags=["read"],
        response_model=StoredArtefact,
        responses={
            200: {
                "description": "the version: JSON, its Markdown document or that as HTML (Accept)",
                "content": {
                    "text/markdown": {"schema": {"type": "string"}},
                    "text/html": {"schema": {"type": "string"}},
                },
            }
        },
    )
    async def artefact(
        case: str,
        kind: Annotated[str, Path(pattern=r"^[a-z][a-z_]{0,59}$")],
        version: Annotated[int, Path(ge=1, le=MAX_VERSION)],
        request: Request,
        who: Person,
    ) -> Response:
        """One recorded artefact version, as the Accept header asks: ``application/json``
        (the default), ``text/markdown`` (its document) or ``text/html`` (that document as a
        page)."""
        case_id = _case_id(case)
        stored = await read(record.artefact, case_id, kind, version)
        if stored is None:
            raise ArtefactNotFound(
                f"the record holds no {kind} v{version} of {case}",
                case_id=case_id,
                kind=kind,
                version=version,
            )
        vary = {"Vary": "Accept"}
        wanted = negotiate(request.headers.get("accept", ""))
        if wanted == "text/markdown":
            return Response(stored.document, media_type="text/markdown", headers=vary)
        if wanted == "text/html":
            return HTMLResponse(artefact_page(stored), headers=vary | PAGE_HEADERS)
        return JSONResponse(stored.model_dump(mode="json"), headers=vary)

    @app.get("/v1/cases/{case:path}/artefacts", tags=["read"])
    async def artefacts(case: str, who: Person) -> list[ArtefactListing]:
        """Every recorded version of every artefact of the case, with those it keeps under
        it (a service's assessment reports), each with where to read it."""
        case_id = _case_id(case)
        stored = await read(record.artefacts, case_id)
        if not stored and await read(record.case, case_id) is None:
            raise UnknownCase(f"the record knows no case {case}", case_id=case_id)
        return [
            ArtefactListing(
                kind=one.kind,
                version=one.version,
                sha256=one.sha256,
                submitted_by=one.submitted_by,
                submitted_at=one.submitted_at,
                url=artefact_url(public_url, one.case_id, one.kind, one.version),
            )
            for one in stored
        ]

    @app.get("/v1/cases/{case:path}/blockers", tags=["read"])
    async def blockers(case: str, who: Person) -> list[BlockerView]:
        workflow_id = _case_id(case)
        return (await record_reads.status(await client(), record, workflow_id)).blockers

    @app.get("/v1/cases/{case:path}/audit", tags=["read"])
    async def audit(case: str, who: Person) -> list[AuditEntry]:
        """The case's audit log; from the record once its workflow is gone."""
        workflow_id = _case_id(case)
        return await record_reads.audit_log(await client(), record, workflow_id)

    @app.get("/v1/cases/{case:path}", tags=["read"])
    async def status(case: str, who: Person) -> CaseStatus:
        """The case's view; from the record once its workflow is gone. (Declared after the
        routes under a case: a workflow id may hold a slash.)"""
        workflow_id = _case_id(case)
        return await record_reads.status(await client(), record, workflow_id)

    @app.get("/v1/services", tags=["read"])
    async def services(who: Person) -> list[views.ServiceRow]:
        return await views.services(await client())

    @app.get("/v1/inbox", tags=["read"])
    async def inbox(who: Person) -> list[views.InboxItem]:
        """What waits for the token's person across all cases."""
        return await views.inbox(await client(), who)

    @app.get("/v1/notifications", tags=["read"])
    async def notifications(
        who: Person, query: Annotated[NotificationQuery, Query()]
    ) -> list[RecordedNotification]:
        """The notifications addressed to the token's person, oldest first, with where their
        delivery stands; in one ``state`` only if given."""
        mine = functools.partial(record.notifications, person=who, state=query.state)
        return await read(mine)

    return app


def _case_id(case: str) -> str:
    """The workflow id (and record id) of what the path calls a case. No case id holds a
    control character (Temporal refuses one, PostgreSQL takes no NUL in a string), so a name
    that does is a case nobody knows, answered without asking either."""
    if not case.strip():  # also what Starlette's path pattern leaves of a lone line break
        raise UnknownCase("name a case: /v1/cases/<business key or workflow id>")
    if any(ord(char) < 32 or ord(char) == 127 for char in case):
        raise UnknownCase("there is no case whose name holds a control character")
    return workflow_id_for(case)


def _command(model: type[M], **fields: object) -> M:
    try:
        return model.model_validate(fields)
    except ValidationError as err:
        raise invalid("the command", err) from err

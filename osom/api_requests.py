"""What a request must be before any route reads it: a declared length within the limit, JSON,
a body that arrives in time and parses (and which methods a path takes, for a 405)."""

from __future__ import annotations

import asyncio

from fastapi import Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from models.errors import InvalidArtefact, MalformedInput, PayloadTooLarge
from osom.api_errors import BodyTimeout, UnsupportedMediaType, problem_response
from osom.json_body import parse_json_body

# How long a client has to send the body it declared, once its headers are in: a client that
# declares more than it sends must not hold a connection (and a request) open.
BODY_READ_SECONDS = 5.0


async def body_refused(request: Request, limit: int) -> JSONResponse | None:
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


def allowed_methods(request: Request) -> list[str]:
    """The methods of the path the request's path matches first (as the router tried them),
    from every route on that path: what the OpenAPI document lists for it."""
    routes = [route for route in request.app.router.routes if isinstance(route, APIRoute)]
    first = next(
        (route.path for route in routes if route.matches(request.scope)[0] is not Match.NONE),
        None,
    )
    return sorted(
        {method for route in routes if route.path == first for method in route.methods or ()}
    )


def _says_json(content_type: str) -> bool:
    """``application/json`` or ``application/<x>+json``, as FastAPI reads a body as JSON."""
    media = content_type.partition(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))

"""The HTTP API over the wire: `osom api` (uvicorn) against a real dev server and `osom worker`,
driven by requests schemathesis generates from the API's own OpenAPI document, valid and
invalid, as a real person of examples/fenmoor; and by a client that declares a body it never
sends."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi import checks

from activities.record import RecordStore
from osom.api import BODY_READ_SECONDS, PROBLEM, create_app
from osom.settings import REPO_ROOT
from tests.e2e.conftest import OSOM, Osom, stop

pytestmark = pytest.mark.e2e

# Examples per operation: enough to reach every route with valid and broken input, while the
# whole module stays well under two minutes on two cores.
EXAMPLES = 25
PERSON = "P-011"  # a Service Manager of examples/fenmoor


@pytest.fixture(scope="module")
def live_api(osom: Osom, engine_env: dict[str, str], e2e_root: Path) -> Iterator[str]:
    """`osom api` on a free port; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_path = e2e_root / "api.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(OSOM), "api", "--port", str(port)],
            cwd=REPO_ROOT,
            env=engine_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text(encoding="utf-8", errors="replace")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "osom api did not start"
            time.sleep(0.1)
        yield base
    finally:
        stop(process)


@pytest.fixture(scope="module")
def token(osom: Osom) -> str:
    """A token issued the operator's way, for a person of the directory."""
    return osom.ok("api-token", "--person", PERSON, "--label", "fuzz").stdout.strip()


async def _no_temporal() -> Any:
    raise AssertionError("the OpenAPI document is built without Temporal")


# The document is the app's own, built here at import (schemathesis' fixture-based loader does
# not run under pytest 9); the requests go to the live `osom api`, which serves the same one.
# Building it opens no database: the record (in memory) is never asked anything.
OPENAPI = create_app(_no_temporal, RecordStore("sqlite://"), "osom").openapi()
# Invalid requests must be refused: schemathesis' own list of refusals, and a body past the size
# limit (413) or without a length (411), which the API refuses before reading it.
REFUSALS = [
    *("400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"),
    *("411", "413"),
]
schema = schemathesis.openapi.from_dict(
    OPENAPI,
    config=SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}}}
    ),
)


def refusals_are_problems(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Every 4xx and 5xx is problem+json naming its error type."""
    if response.status_code < 400:
        return None
    assert response.headers.get("content-type") == [PROBLEM], response.headers
    body = response.json()
    assert body["type"] == f"urn:osom:error:{body['title']}", body
    assert body["status"] == response.status_code, body
    return None


# Schemathesis' checks of one response, all but positive_data_acceptance (the models hold rules
# across fields a schema cannot say, such as mitigated_at not before detected_at: a request
# that fits the schema can still be a 422) and those that need a stateful run.
CHECKS = [
    not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.missing_required_header,
    checks.unsupported_method,
    checks.allow_header_conformance,
    checks.ignored_auth,
    refusals_are_problems,
]


def test_the_live_api_serves_the_document_fuzzed(live_api: str) -> None:
    assert httpx.get(f"{live_api}/openapi.json").json() == OPENAPI


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_breaks_the_api(case: Case[Any], live_api: str, token: str) -> None:
    case.call_and_validate(
        base_url=live_api,
        headers={"Authorization": f"Bearer {token}"},
        checks=CHECKS,
        timeout=60,
    )


def test_a_body_that_never_arrives_is_given_up_on(live_api: str, token: str) -> None:
    """A client that declares more than it sends (slowloris) is answered 408 within the body
    read time and its connection closed, instead of holding the connection for ever."""
    port = int(live_api.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=BODY_READ_SECONDS * 4) as conn:
        conn.sendall(
            (
                "POST /v1/cases/COE-FUZZ/decisions HTTP/1.1\r\nHost: osom\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                'Content-Length: 100\r\n\r\n{"trigger": '
            ).encode()
        )
        began = time.monotonic()
        answer = b""
        while chunk := conn.recv(4096):  # until the server closes the connection
            answer += chunk
        waited = time.monotonic() - began
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in head.lower()
    assert b'"title":"BodyTimeout"' in body
    assert BODY_READ_SECONDS - 0.5 < waited < BODY_READ_SECONDS + 5

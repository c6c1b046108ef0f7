"""The API's front gate, before anything reaches Temporal: a broken token file, bodies that are
not JSON, nest too deep or do not say they are JSON. The app is the real one (over httpx's ASGI
transport); the Temporal client it is given counts the requests that got past the gate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from models.commands import nesting_depth
from models.errors import NoAnswer
from osom.api import PROBLEM, create_app
from osom.json_body import MAX_BODY_DEPTH, parse_json_body
from osom.tokens import TokenBook

URL = "/v1/cases/COE-2026-001/decisions"
JSON = {"content-type": "application/json"}


class Gate:
    """The app with one issued token, and how often it asked for Temporal."""

    def __init__(self, tokens: Path) -> None:
        book = TokenBook()
        self.token = book.issue("P-011", "gate test")
        book.save(tokens)
        self.tokens = tokens
        self.reached_temporal = 0

    async def client(self) -> Client:
        self.reached_temporal += 1
        raise NoAnswer("no Temporal in this test")

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def gate(tmp_path: Path) -> Gate:
    return Gate(tmp_path / "api-tokens.yaml")


@pytest.fixture
async def api(gate: Gate) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(gate.client, lambda: TokenBook.load(gate.tokens), "osom")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://osom") as http:
        yield http


def problem(response: httpx.Response, status: int, title: str) -> str:
    """The refusal's detail, once it is the problem+json expected."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert (body["title"], body["status"], body["type"]) == (
        title,
        status,
        f"urn:osom:error:{title}",
    )
    detail: str = body["detail"]
    return detail


def nested(levels: int, marker: str = "x") -> bytes:
    """A decision whose data nests ``levels`` objects deep in all."""
    inner = '{"a":' * (levels - 1) + f'"{marker}"' + "}" * (levels - 1)
    return f'{{"trigger":"coe_published","data":{inner}}}'.encode()


@pytest.mark.parametrize(
    ("text", "problem_named"),
    [
        (b"tokens: [unclosed\n", "not valid YAML at line 2"),
        (b"tokens: {}\n", "tokens"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
async def test_a_broken_token_file_is_503_naming_the_problem(
    api: httpx.AsyncClient, gate: Gate, text: bytes, problem_named: str
) -> None:
    gate.tokens.write_bytes(text)
    detail = problem(await api.get("/v1/inbox", headers=gate.auth), 503, "TokensUnavailable")
    assert problem_named in detail
    assert gate.reached_temporal == 0


@pytest.mark.parametrize(
    ("body", "problem_named"),
    [
        (b'{"trigger": "coe_published", "reason": "\xff"}', "not UTF-8 (byte 40"),
        (b"{not json", "not JSON (Expecting property name"),
        (b"", "not JSON (Expecting value at character 0)"),
        (nested(MAX_BODY_DEPTH + 1, "PAYLOAD"), f"nests deeper than {MAX_BODY_DEPTH} levels"),
        (b"[" * 30_000 + b"]" * 30_000, "nests deeper than"),  # past the parser's own limit
        (b'{"a":' * 12_000, "nests deeper than"),
    ],
)
async def test_a_body_that_is_not_json_within_the_bound_is_422_and_goes_no_further(
    api: httpx.AsyncClient, gate: Gate, body: bytes, problem_named: str
) -> None:
    answer = await api.post(URL, content=body, headers=gate.auth | JSON)
    assert problem_named in problem(answer, 422, "MalformedInput")
    assert answer.json()["errors"] == [{"field": "(body)", "message": answer.json()["detail"]}]
    assert "PAYLOAD" not in answer.text
    assert gate.reached_temporal == 0


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
async def test_a_body_that_does_not_say_it_is_json_is_415(
    api: httpx.AsyncClient, gate: Gate, content_type: str | None
) -> None:
    headers = gate.auth | ({"content-type": content_type} if content_type else {})
    answer = await api.post(URL, content=b'{"trigger": "coe_published"}', headers=headers)
    assert "send application/json" in problem(answer, 415, "UnsupportedMediaType")
    assert gate.reached_temporal == 0


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/x+json"])
async def test_a_json_body_within_the_bound_goes_on_to_the_engine(
    api: httpx.AsyncClient, gate: Gate, content_type: str
) -> None:
    answer = await api.post(
        URL, content=nested(8), headers=gate.auth | {"content-type": content_type}
    )
    problem(answer, 504, "NoAnswer")  # what this test's Temporal answers
    assert gate.reached_temporal == 1


def test_a_body_may_nest_as_deep_as_a_commands_data_may_and_its_envelope() -> None:
    at_the_bound = parse_json_body(nested(MAX_BODY_DEPTH))
    assert nesting_depth(at_the_bound) == MAX_BODY_DEPTH
    assert nesting_depth(at_the_bound["data"]) == MAX_BODY_DEPTH - 1

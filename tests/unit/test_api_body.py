"""The API's front gate, before anything reaches Temporal: tokens the record does not hold live,
a record that cannot be reached, bodies that are not JSON, nest too deep or do not say they are
JSON; and how an artefact version is chosen and shown by Accept. The app is the real one (over
httpx's ASGI transport, on a real record); the Temporal client it is given counts the requests
that got past the gate."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from activities.record import RecordStore
from models.commands import nesting_depth
from models.errors import (
    ArtefactNotFound,
    NoAnswer,
    OsomError,
    RecordUnavailable,
    TemporalUnreachable,
    UnknownCase,
)
from models.record import StoredArtefact
from osom import api_documents, tokens
from osom.api import PROBLEM, create_app
from osom.api_documents import artefact_page, negotiate, preformatted
from osom.api_errors import problem_response, status_of
from osom.json_body import MAX_BODY_DEPTH, parse_json_body

URL = "/v1/cases/COE-2026-001/decisions"
JSON = {"content-type": "application/json"}


# Nothing listens on port 1: the connection is refused at once.
UNREACHABLE = "postgresql+psycopg://x@127.0.0.1:1/none"


class Gate:
    """The app's record with one issued token, and how often the app asked for Temporal."""

    def __init__(self, record: RecordStore) -> None:
        self.record = record
        self.token = tokens.issue(record, "P-011", "gate test")
        self.reached_temporal = 0

    async def client(self) -> Client:
        self.reached_temporal += 1
        raise NoAnswer("no Temporal in this test")

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    record = RecordStore.open(f"sqlite:///{tmp_path / 'record.sqlite3'}")
    try:
        yield Gate(record)
    finally:
        record.close()


def serve(gate: Gate, record: RecordStore | None = None) -> httpx.AsyncClient:
    app = create_app(gate.client, record or gate.record, "osom")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://osom")


@pytest.fixture
async def api(gate: Gate) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(gate) as http:
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


async def test_an_unreachable_record_is_503_with_retry_after_and_goes_no_further(
    gate: Gate,
) -> None:
    """The tokens are in the record: with the record down nobody can be authenticated, and
    the client is told to try again shortly."""
    down = RecordStore(UNREACHABLE)
    try:
        async with serve(gate, down) as http:
            answer = await http.get("/v1/inbox", headers=gate.auth)
            detail = problem(answer, 503, "RecordUnavailable")
            assert "the record store is unavailable" in detail
            assert answer.headers["retry-after"] == "5"
            posted = await http.post(URL, json={"trigger": "coe_published"}, headers=gate.auth)
            assert problem(posted, 503, "RecordUnavailable")
    finally:
        down.close()
    assert gate.reached_temporal == 0


async def test_an_expired_revoked_or_unknown_token_is_refused_alike(
    api: httpx.AsyncClient, gate: Gate
) -> None:
    past = datetime.now(UTC) - timedelta(days=2)
    expired = tokens.issue(gate.record, "P-001", expires_in=timedelta(days=1), now=past)
    revoked = tokens.issue(gate.record, "P-015")
    assert tokens.revoke(gate.record, "P-015") == 1
    answers = [
        await api.get("/v1/inbox", headers={"Authorization": f"Bearer {token}"})
        for token in (expired, revoked, "osom_never_issued")
    ]
    details = {problem(answer, 401, "Unauthenticated") for answer in answers}
    assert len(details) == 1  # the same words whichever it was
    assert {answer.headers["www-authenticate"] for answer in answers} == {"Bearer"}
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


def test_a_refusal_takes_the_status_of_its_most_specific_type() -> None:
    assert status_of(ArtefactNotFound("no v9")) == 404
    assert status_of(UnknownCase("no case")) == 404
    assert status_of(RecordUnavailable("down")) == 503
    assert status_of(TemporalUnreachable("down")) == 503
    assert status_of(OsomError("untyped")) == 502
    kept = problem_response(RecordUnavailable("the record store is unavailable: refused"))
    assert (kept.status_code, kept.headers["retry-after"]) == (503, "5")
    assert "retry-after" not in problem_response(TemporalUnreachable("down")).headers
    # Mapped by type, never by what the message says.
    assert status_of(OsomError("RecordUnavailable: ArtefactNotFound")) == 502


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("text/markdown", "text/markdown"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        ("text/*", "text/markdown"),
        ("text/markdown;q=0.5, text/html;q=0.9", "text/html"),
        ("application/json;q=0, */*", "text/markdown"),
        ("image/png", "application/json"),  # nothing offered is acceptable: JSON
        ("text/html;q=nan, text/markdown;q=2", "application/json"),
        ("garbage, ;;, /", "application/json"),
    ],
)
def test_the_accept_header_chooses_how_a_version_is_shown(accept: str, chosen: str) -> None:
    assert negotiate(accept) == chosen


def _typed(text: str) -> StoredArtefact:
    from activities.documents import render_markdown

    content = {"title": text, "problem": text, "summary": text}
    return StoredArtefact(
        case_id="coe/COE-2026-001",
        kind="coe_document",
        version=1,
        sha256="0" * 64,
        content=content,
        document=render_markdown("coe_document", 1, "coe/COE-2026-001", content),
        recorded_at=datetime.now(UTC),
    )


TYPED = "<script>alert(1)</script> <img src=x onerror=alert(2)> [a](javascript:alert(3))"


@pytest.mark.parametrize("rendered", ["markdown-it", "fallback"])
def test_the_html_page_of_a_version_escapes_what_people_typed(
    rendered: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if rendered == "fallback":
        monkeypatch.setattr(api_documents, "markdown_html", lambda: preformatted)
    page = artefact_page(_typed(TYPED))
    assert page.startswith("<!doctype html>")
    assert "<title>coe document v1 of coe/COE-2026-001</title>" in page
    for raw in ("<script", "<img", "onerror=alert(2)>", 'href="javascript'):
        assert raw not in page
    assert "alert(1)" in page  # shown, as text


def test_the_fallback_page_escapes_raw_markup_as_it_is() -> None:
    assert preformatted("<b>&</b>") == "<pre>&lt;b&gt;&amp;&lt;/b&gt;</pre>\n"


@pytest.mark.parametrize("query", ["x=1", "=25", "state=failed&also=1", "state=lost"])
async def test_the_notifications_take_no_query_they_do_not_know(
    api: httpx.AsyncClient, gate: Gate, query: str
) -> None:
    problem(await api.get(f"/v1/notifications?{query}", headers=gate.auth), 422, "InvalidArtefact")
    assert (await api.get("/v1/notifications?state=failed", headers=gate.auth)).json() == []


@pytest.mark.parametrize(
    "url",
    [
        "/v1/cases/%0A",
        "/v1/cases/%20",
        "/v1/cases/COE%00-1/audit",
        "/v1/cases/COE-1%09x/blockers",
        "/v1/cases/a%7Fb/artefacts",
        "/v1/cases/a%00b/artefacts/coe_document/v1",
    ],
)
async def test_a_case_name_with_no_name_or_a_control_character_is_unknown(
    api: httpx.AsyncClient, gate: Gate, url: str
) -> None:
    """Answered 404 without asking Temporal (which refuses such an id) or the record."""
    problem(await api.get(url, headers=gate.auth), 404, "UnknownCase")
    posted = await api.post("/v1/cases/%0A/decisions", json={"trigger": "x"}, headers=gate.auth)
    problem(posted, 404, "UnknownCase")
    assert gate.reached_temporal == 0

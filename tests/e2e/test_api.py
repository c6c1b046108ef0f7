"""The HTTP API against a real dev server and `osom worker` (the app runs in this process over
httpx's ASGI transport; Temporal is not mocked). Each route, and each refusal leaving the case as
it was."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from activities.record import RecordStore
from osom.api import PROBLEM, create_app
from tests.e2e.conftest import EXAMPLES, Osom, Server
from tests.examples import artefact, load_yaml

pytestmark = pytest.mark.e2e

TASK_QUEUE = "osom"  # the e2e worker's (OSOM_TASK_QUEUE is not set for it)


@pytest.fixture
async def api(
    server: Server, osom: Osom, record: RecordStore, tokens: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    async def client() -> Any:
        return server.client

    app = create_app(client, record, TASK_QUEUE, 64 * 1024)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://osom", timeout=60) as http:
        yield http


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def snapshot(api: httpx.AsyncClient, token: str, case: str) -> tuple[Any, Any]:
    status = (await api.get(f"/v1/cases/{case}", headers=auth(token))).json()
    audit = (await api.get(f"/v1/cases/{case}/audit", headers=auth(token))).json()
    return status, audit


def problem(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert (body["title"], body["status"]) == (error, status)
    return body


async def test_a_trigger_starts_a_proposal_with_one_authenticated_call(
    api: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    proposal = load_yaml(EXAMPLES / "proposal.yaml") | {"id": "PRO-901"}
    started = await api.post("/v1/proposals", json=proposal, headers=auth(tokens["P-015"]))
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["workflow_id"] == "new-service/PRO-901"
    assert body["status"]["state"] == "PROPOSED"
    audit = (await api.get("/v1/cases/PRO-901/audit", headers=auth(tokens["P-015"]))).json()
    assert audit[0]["actor"] == "P-015"  # the token's person, not a field of the body


async def test_decisions_artefacts_and_reads_act_as_the_tokens_person(
    api: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    opened = await api.post(
        "/v1/coes",
        json={
            "coe_id": "COE-API-1",
            "service_id": "SVC-002",
            "problem": "expired certificate",
            "detected_at": "2026-11-23T07:04:00Z",
            "mitigated_at": "2026-11-23T07:49:00Z",
        },
        headers=auth(tokens["P-011"]),
    )
    assert opened.status_code == 201, opened.text
    sm = auth(tokens["P-011"])
    document = artefact("coe-document.yaml")
    draft = await api.post(
        "/v1/cases/COE-API-1/artefacts",
        json={"kind": "coe_document", "content": json.loads(json.dumps(document, default=str))},
        headers=sm,
    )
    assert draft.status_code == 200, draft.text
    published = await api.post(
        "/v1/cases/COE-API-1/decisions", json={"trigger": "coe_published"}, headers=sm
    )
    assert published.json()["to_state"] == "PUBLISHED"
    blockers = (await api.get("/v1/cases/COE-API-1/blockers", headers=sm)).json()
    assert {b["trigger"] for b in blockers} == {"coe_closed"}
    inbox = (await api.get("/v1/inbox", headers=auth(tokens["P-001"]))).json()
    assert "COE-API-1" in {item["case_id"] for item in inbox}
    assert (await api.get("/v1/services", headers=sm)).status_code == 200
    schema = (await api.get("/openapi.json")).json()
    assert "/v1/cases/{case}/decisions" in schema["paths"]


async def test_refusals_are_problems_and_change_nothing(
    api: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    case = "COE-API-2"
    sm = auth(tokens["P-011"])
    opened = await api.post(
        "/v1/coes",
        json={
            "coe_id": case,
            "service_id": "SVC-002",
            "problem": "a near miss",
            "detected_at": "2026-11-23T07:04:00Z",
            "mitigated_at": "2026-11-23T07:49:00Z",
        },
        headers=sm,
    )
    assert opened.status_code == 201, opened.text
    before = await snapshot(api, tokens["P-011"], case)
    url = f"/v1/cases/{case}/decisions"

    problem(await api.post(url, json={"trigger": "coe_published"}), 401, "Unauthenticated")
    wrong = await api.post(url, json={"trigger": "coe_published"}, headers=auth("osom_forged"))
    assert wrong.headers["www-authenticate"] == "Bearer"
    problem(wrong, 401, "Unauthenticated")
    body = problem(
        await api.post(url, json={"trigger": "coe_voided", "reason": "dup"}, headers=sm),
        403,
        "NotAuthorised",
    )
    assert "needs EXEC" in body["detail"]
    # The actor cannot be chosen in the body: an extra field is refused.
    body = problem(
        await api.post(url, json={"trigger": "coe_published", "actor": "P-001"}, headers=sm),
        422,
        "InvalidArtefact",
    )
    assert body["errors"][0]["field"] == "body.actor"
    malformed = await api.post(
        url, content=b"{not json", headers=sm | {"content-type": "application/json"}
    )
    problem(malformed, 422, "MalformedInput")
    deep = b'{"trigger": "coe_published", "data": ' + b'{"a": ' * 40 + b"1" + b"}" * 41
    problem(
        await api.post(url, content=deep, headers=sm | {"content-type": "application/json"}),
        422,
        "MalformedInput",
    )
    as_text = await api.post(
        url, content=b'{"trigger": "coe_published"}', headers=sm | {"content-type": "text/plain"}
    )
    assert "send application/json" in problem(as_text, 415, "UnsupportedMediaType")["detail"]
    oversized = json.dumps({"trigger": "coe_published", "data": {"x": "y" * 70_000}})
    problem(
        await api.post(url, content=oversized, headers=sm | {"content-type": "application/json"}),
        413,
        "PayloadTooLarge",
    )
    body = problem(
        await api.post(url, json={"trigger": "coe_published"}, headers=sm),
        409,
        "ArtefactsMissing",
    )
    assert body["missing"] == ["the nine OSOM fields: no draft submitted yet (coe_document)"]
    problem(
        await api.get("/v1/cases/COE-API-NONE", headers=sm),
        404,
        "UnknownCase",
    )
    assert await snapshot(api, tokens["P-011"], case) == before


async def test_seeded_cases_show_in_the_inbox_and_the_service_network(osom: Osom) -> None:
    seeded = osom.ok("seed").stdout.splitlines()
    assert seeded[0] == "[1/5] proposal PRO-004 (waiting for triage)"
    assert seeded[-1].startswith("[5/5] COE-SEED-2")
    again = osom.ok("seed").stdout.splitlines()
    assert all(line.endswith("already there") for line in again)

    def listed(args: tuple[str, ...], ready: Callable[[list[dict[str, Any]]], bool]) -> Any:
        """The command's JSON once visibility (a moment behind the cases) has caught up."""
        for _ in range(50):
            found: list[dict[str, Any]] = json.loads(osom.ok(*args).stdout)
            if ready(found):
                return found
            time.sleep(0.2)
        raise AssertionError(f"osom {' '.join(args)} never showed the seeded cases: {found}")

    services = listed(
        ("services", "--json"),
        lambda rows: (
            {"SVC-101", "SVC-102"} <= {r["service_id"] for r in rows}
            and any(r["open_corrective_actions"] == 2 for r in rows)
        ),
    )
    rows = {row["service_id"]: row for row in services}
    assert (rows["SVC-101"]["phase"], rows["SVC-101"]["open_corrective_actions"]) == ("LIVE", 2)
    assert rows["SVC-102"]["phase"] == "BETA"
    assert any("BETA_EXIT report" in b for b in rows["SVC-102"]["blocked_by"])

    inbox = listed(
        ("inbox", "--as", "P-002", "--json"),
        lambda items: "PRO-004" in {i["case_id"] for i in items},
    )
    triage = next(item for item in inbox if item["case_id"] == "PRO-004")
    assert "osom decide PRO-004 triage_started --as P-002" in triage["commands"]
    listed(
        ("inbox", "--as", "P-012", "--json"),
        lambda items: "COE-SEED-2" in {i["case_id"] for i in items},
    )


async def test_the_token_is_checked_before_the_body_and_bodies_say_their_length(
    api: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    url = "/v1/cases/COE-API-1/decisions"
    json_type = {"content-type": "application/json"}
    problem(await api.post(url, content=b"{not json", headers=json_type), 401, "Unauthenticated")

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"trigger": '
        yield b'"coe_published"}'

    streamed = await api.post(url, content=chunks(), headers=auth(tokens["P-011"]) | json_type)
    body = problem(streamed, 411, "InvalidArtefact")
    assert "Content-Length" in body["detail"]
    # A workflow id (with its slash) reaches the case as well as its business key does.
    by_id = await api.get("/v1/cases/coe/COE-API-1/audit", headers=auth(tokens["P-011"]))
    assert by_id.status_code == 200, by_id.text


async def test_an_unreachable_temporal_is_a_problem_too(
    record: RecordStore, tokens: dict[str, str]
) -> None:
    from osom.client import connect

    async def nowhere() -> Any:
        return await connect("127.0.0.1:9")  # nothing listens on the discard port

    app = create_app(nowhere, record, TASK_QUEUE)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://osom") as http:
        answer = await http.get("/v1/cases/COE-API-1", headers=auth(tokens["P-011"]))
    body = problem(answer, 503, "TemporalUnreachable")
    assert "cannot reach Temporal at 127.0.0.1:9" in body["detail"]


async def test_a_decision_no_worker_takes_is_queued_as_a_signal_202(
    api: httpx.AsyncClient,
    server: Server,
    tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from temporalio.api.enums.v1 import EventType

    from models.establishment import NewServiceInput
    from models.proposal import Proposal
    from osom import cases

    monkeypatch.setattr(cases, "ACCEPT_WAIT", timedelta(seconds=1))
    proposal = Proposal.model_validate(load_yaml(EXAMPLES / "proposal.yaml") | {"id": "PRO-907"})
    handle = await server.client.start_workflow(
        "NewService",
        NewServiceInput(proposal=proposal, proposer="P-015"),
        id="new-service/PRO-907",
        task_queue="no-worker-polls-this",  # the case waits, as with every worker down
    )

    answer = await api.post(
        "/v1/cases/PRO-907/decisions",
        json={"trigger": "triage_started", "decision_id": "queued-1"},
        headers=auth(tokens["P-001"]),
    )

    body = problem(answer, 202, "CommandQueued")
    assert body["decision_id"] == "queued-1"
    signals = [
        event.workflow_execution_signaled_event_attributes.signal_name
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert signals == ["decide_signal"]
    await handle.terminate("test over")

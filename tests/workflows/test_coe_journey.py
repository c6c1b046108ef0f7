"""Corrections of Error on a real server with time skipping: a late draft, publication, the
review drawn by the schedule, corrective actions one of them overdue, closure; a near miss; an
empty pool; and a lifecycle gate held by a long-overdue action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.case_view import CaseStatus
from models.coe_actions import CorrectiveAction
from models.coe_review import MinutesRecord
from models.criteria import AssessmentType
from models.errors import GuardFailed
from models.policy import CoeReviewPolicy
from models.record import StoredArtefact
from osom.review_schedule import ensure_review_schedule, start_session_now
from tests.examples import artefact
from tests.workflows.coes import Coe, Session
from tests.workflows.conftest import Engine
from tests.workflows.driver import assert_refused_unchanged, start_fails
from tests.workflows.services import onboarded_service
from workflows._clock import add_working_days


def svc(unique: str) -> str:
    return f"SVC-{unique}"


def recorded(engine: Engine, status: CaseStatus, kind: str) -> StoredArtefact:
    """The version of ``kind`` the case names, as the record holds it (the same sha256)."""
    ref = status.artefacts[kind]
    stored = engine.artefact(ref.case_id, ref.kind, ref.version)
    assert stored.sha256 == ref.sha256
    return stored


async def test_a_coe_from_late_draft_through_review_to_closure(engine: Engine, unique: str) -> None:
    service = await onboarded_service(engine, svc(unique), "LIVE")
    coe = await Coe.open(engine, f"COE-T{unique}", service.service_id, manager="P-013")
    opened = await coe.status()
    assert opened.state == "DRAFT"
    assert opened.facts["Service Manager"] == "P-013"
    assert [d.label for d in opened.deadlines] == [
        "First draft due (after mitigation)",
        "Publication due (after the incident was resolved)",
    ]

    # Drafted late: a reminder after a working day, the escalation at the due date.
    draft_due = opened.deadlines[0].due_at
    await coe.skip(add_working_days(await coe.now(), 1) - await coe.now() + timedelta(minutes=1))
    notes = await engine.outbox_once(coe, lambda n: any(x.kind == "reminder" for x in n))
    assert any("First draft due" in n.subject and "P-013" in n.to for n in notes)
    await coe.skip(draft_due - await coe.now() + timedelta(minutes=1))
    notes = await engine.outbox_once(coe, lambda n: any(x.kind == "escalation" for x in n))
    escalation = next(n for n in notes if n.kind == "escalation")
    assert "P-001" in escalation.to
    assert "First draft due" in escalation.subject

    content = await coe.document(due_in_days=(30, 3))
    await coe.write(content)
    drafted = await coe.status()
    assert [d.label for d in drafted.deadlines] == [
        "Publication due (after the incident was resolved)"
    ]
    await coe.publish()
    published = await coe.status()
    assert published.state == "PUBLISHED"
    ref = published.artefacts["coe_document"]
    assert (ref.case_id, ref.version) == (coe.workflow_id, 2)
    record = recorded(engine, published, "coe_document")
    assert (record.content["status"], record.content["version"]) == ("PUBLISHED", 2)
    assert [a["status"] for a in record.content["corrective_actions"]] == ["OPEN", "OPEN"]
    markdown = record.document
    assert "Expired TLS certificate" in markdown
    assert "Lessons learned" in markdown

    # The schedule starts a session; it draws this CoE, the only one in its pool.
    policy = CoeReviewPolicy(enabled=False)  # paused: only this test's trigger starts a session
    await ensure_review_schedule(
        engine.client, policy, engine.settings.task_queue, services=(service.service_id,)
    )
    await coe.in_the_pool()
    session = Session(engine, await start_session_now(engine.client))
    agenda = await session.until(lambda s: s.state == "AGENDA_SET", "agenda set")
    assert agenda.facts["Agenda"] == f"{coe.coe_id} ({service.service_id})"
    selected = await coe.until(lambda s: s.state == "SELECTED_FOR_REVIEW", "drawn")
    assert selected.facts["Review"].startswith(f"drawn by {session.workflow_id}")
    presenter = await engine.outbox_once(
        coe, lambda n: any("review session" in x.subject for x in n)
    )
    assert any("P-013" in n.to for n in presenter if "review session" in n.subject)

    # Action A-2 (due in 3 days) goes overdue, then long overdue, while the CoE is reviewed.
    a2 = CorrectiveAction.model_validate(
        {**content["corrective_actions"][1], "created_at": await coe.now()}
    )
    await coe.skip(a2.due_end - await coe.now() + timedelta(minutes=1))
    overdue = await coe.until(lambda s: s.overdue_actions == 1, "A-2 overdue")
    assert "A-2 IN_PROGRESS" not in overdue.facts["Corrective actions"]
    assert "A-2 OPEN OVERDUE" in overdue.facts["Corrective actions"]
    notes = await engine.outbox_once(
        coe, lambda n: any("Overdue: corrective" in x.subject for x in n)
    )
    assert {"P-013", "P-020"} <= set(next(n for n in notes if "Overdue" in n.subject).to)

    await session.skip(meeting_of(agenda) - await session.now() + timedelta(minutes=1))
    await session.decide("session_held", "P-004", data={"attendees": ["P-001", "P-013"]})
    minutes = {
        "items": [
            {
                "coe_id": coe.coe_id,
                "outcome": "reviewed",
                "outputs": [{"kind": "guidance_candidate", "note": "name renewal owners"}],
            }
        ]
    }
    await session.decide("minutes_recorded", "P-004", data=minutes)
    minuted = await session.status()
    assert minuted.state == "MINUTED"
    stored = MinutesRecord.model_validate(recorded(engine, minuted, "review_minutes").content)
    assert [(i.coe_id, i.applied) for i in stored.items] == [(coe.coe_id, True)]
    reviewed = await coe.status()
    assert reviewed.state == "REVIEWED"

    await coe.skip(a2.escalation_at(10) - await coe.now() + timedelta(minutes=1))
    notes = await engine.outbox_once(
        coe, lambda n: any(x.kind == "escalation" and "A-2" in x.subject for x in n)
    )
    assert "P-001" in next(n for n in notes if "ESCALATED: corrective" in n.subject).to

    await coe.complete("A-1", "P-011")
    await coe.complete("A-2", "P-020")
    assert (await coe.status()).overdue_actions == 0
    await coe.decide("closure_requested", "P-013")
    await coe.decide("coe_closed", "P-001")
    closed = await coe.status()
    assert closed.state == "CLOSED"
    final = recorded(engine, closed, "coe_document").content
    assert (final["status"], final["version"]) == ("CLOSED", 3)
    assert [a["status"] for a in final["corrective_actions"]] == ["DONE", "DONE"]
    assert final["review_outputs"] == [
        {"kind": "guidance_candidate", "note": "name renewal owners"}
    ]


def meeting_of(status: CaseStatus) -> datetime:
    when = status.facts["Meeting"].split(" UTC")[0]
    return datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


async def test_a_near_miss_without_user_impact_is_published(engine: Engine, unique: str) -> None:
    # SVC-003 is a directory service (no lifecycle in the engine): its SM is P-012, team P-021.
    coe = await Coe.open(engine, f"COE-N{unique}", "SVC-003", manager="P-012", opened_by="P-021")
    content = await coe.document("coe-near-miss.yaml", due_in_days=(14,))
    assert content["users_impacted"] == 0
    await coe.submit_artefact("coe_document", "P-021", content)  # the team drafts
    await coe.publish()
    status = await coe.status()
    assert status.state == "PUBLISHED"
    assert (
        status.facts["Corrective actions"]
        == f"A-1 OPEN (owner P-021, due {content['corrective_actions'][0]['due']})"
    )
    record = recorded(engine, status, "coe_document").content
    assert record["users_impacted"] == 0
    assert record["owner_sm"] == "P-012"
    assert record["author"] == "P-021"


async def test_a_session_with_an_empty_pool_cancels_itself(engine: Engine, unique: str) -> None:
    session = await Session.start(engine, f"empty-{unique}", services=(svc(unique),))
    status = await session.status()
    assert status.state == "CANCELLED"
    assert status.terminal
    last = (await session.audit_log())[-1]
    assert last.reason == "no published CoE waits for review (pool of 0)"
    assert await session.handle.result() == "CANCELLED"


async def test_a_gate_waits_while_a_corrective_action_is_long_overdue(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, svc(unique), "BETA")
    await service.report_metrics("2027-09")
    beta = await service.next_assessment(AssessmentType.BETA_EXIT)
    report = await beta.run_through("GO_LIVE")
    coe = await Coe.open(engine, f"COE-G{unique}", service.service_id, manager="P-013")
    content = await coe.document(due_in_days=(60, 1))
    await coe.write(content)
    await service.until(lambda s: "Open corrective actions" in s.facts, "actions known")

    # A-2 goes more than the policy's 10 working days overdue.
    a2 = CorrectiveAction.model_validate(
        {**content["corrective_actions"][1], "created_at": await coe.now()}
    )
    long_overdue = a2.escalation_at(10) + timedelta(minutes=1)
    await coe.skip(long_overdue - await coe.now())
    await coe.until(lambda s: s.overdue_actions == 1, "A-2 overdue")
    await service.skip(long_overdue - await service.now())
    go_live = {"report": report, "budget": artefact("live-budget.yaml")}
    err = await assert_refused_unchanged(
        service, GuardFailed, lambda: service.decide("go_live_approved", "P-001", data=go_live)
    )
    assert f"{coe.coe_id} A-2 'Route renewal-job failures to on-call' (owner P-020" in err.message
    assert "more than 10 working days overdue" in err.message

    await coe.complete("A-2", "P-020")
    await service.until(
        lambda s: f"{coe.coe_id} A-2" not in s.facts.get("Open corrective actions", ""), "A-2 done"
    )
    await service.decide("go_live_approved", "P-001", data=go_live)
    assert (await service.status()).state == "LIVE"


async def test_an_incident_tool_opens_a_coe_by_starting_its_workflow(
    engine: Engine, unique: str
) -> None:
    """Any system with a Temporal client: workflow type, id and a JSON body, nothing of ours."""
    coe_id = f"COE-INC{unique}"
    mitigated = datetime.now(UTC) - timedelta(minutes=30)
    await engine.client.start_workflow(
        "CorrectionOfError",
        {
            "coe_id": coe_id,
            "service_id": "SVC-002",
            "problem": "Login failures after a certificate rotation",
            "detected_at": (mitigated - timedelta(minutes=20)).isoformat(),
            "mitigated_at": mitigated.isoformat(),
            "opened_by": "P-020",
            "users_impacted": 40,
            "related_items": ["INC-4711"],
        },
        id=f"coe/{coe_id}",
        task_queue=engine.settings.task_queue,
    )
    coe = Coe(engine, coe_id, "SVC-002", manager="P-011")
    status = await coe.until(lambda s: s.state == "DRAFT", "opened")
    assert status.facts["Users impacted"] == "40"
    assert (await coe.audit_log())[0].role == "TEAM (for P-011)"


async def test_a_coe_never_drawn_for_weeks_is_flagged_to_the_executive(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, svc(unique), "LIVE")
    coe = await Coe.open(engine, f"COE-V{unique}", service.service_id, manager="P-013")
    await coe.write(await coe.document(due_in_days=(200, 200)))
    await coe.publish()
    waiting = await coe.status()
    never_drawn = next(d for d in waiting.deadlines if d.label == "Not drawn for review yet")
    published_at = (await coe.audit_log())[-1].at
    assert abs(never_drawn.due_at - published_at - timedelta(weeks=8)) < timedelta(seconds=1)
    await coe.skip(never_drawn.due_at - await coe.now() + timedelta(minutes=1))
    notes = await engine.outbox_once(
        coe, lambda n: any("Not drawn for review yet" in x.subject for x in n)
    )
    flagged = next(n for n in notes if "Not drawn for review yet" in n.subject)
    assert flagged.kind == "escalation"
    assert {"P-001", "P-004"} <= set(flagged.to)


async def test_a_coe_started_under_another_id_is_refused_naming_its_own(
    engine: Engine, unique: str
) -> None:
    coe_id = f"COE-ID{unique}"
    mitigated = datetime.now(UTC) - timedelta(minutes=30)
    start = {
        "coe_id": coe_id,
        "service_id": "SVC-002",
        "problem": "Started under the wrong id",
        "detected_at": (mitigated - timedelta(minutes=20)).isoformat(),
        "mitigated_at": mitigated.isoformat(),
        "opened_by": "P-020",
    }
    cause = await start_fails(engine, "CorrectionOfError", start, f"incident-{coe_id}")
    assert cause.type == "GuardFailed"
    assert f"coe/{coe_id}, not incident-{coe_id}" in cause.message

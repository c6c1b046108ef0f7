"""Every refusal the CoE issue names, on a real server: a clear typed error, and the case (status,
audit log and history) exactly as it was."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from temporalio.api.sdk.v1 import WorkflowMetadata

from activities.case_calls import execute_update
from models.case_view import CaseStatus
from models.coe import ReviewDraw
from models.errors import (
    ArtefactConflict,
    ArtefactsMissing,
    GuardFailed,
    IllegalTransition,
    InvalidArtefact,
    NotAuthorised,
)
from tests.workflows.coes import Coe, Session
from tests.workflows.conftest import Engine
from tests.workflows.driver import assert_refused_unchanged
from tests.workflows.services import Service, onboarded_service


def svc(unique: str) -> str:
    return f"SVC-{unique}"


def content_of(engine: Engine, status: CaseStatus, kind: str) -> dict[str, Any]:
    """The content of the version of ``kind`` the case names, as the record holds it."""
    ref = status.artefacts[kind]
    stored = engine.artefact(ref.case_id, ref.kind, ref.version)
    assert stored.sha256 == ref.sha256
    return stored.content


async def published_coe(engine: Engine, unique: str, prefix: str = "C") -> Coe:
    service = await onboarded_service(engine, svc(unique), "LIVE")
    coe = await Coe.open(engine, f"COE-{prefix}{unique}", service.service_id, manager="P-013")
    await coe.write()
    await coe.publish()
    return coe


async def test_publishing_needs_every_osom_field(engine: Engine, unique: str) -> None:
    service = await onboarded_service(engine, svc(unique), "LIVE")
    coe = await Coe.open(engine, f"COE-F{unique}", service.service_id, manager="P-013")
    err = await assert_refused_unchanged(coe, ArtefactsMissing, lambda: coe.publish())
    assert "no draft submitted yet" in err.message

    content = await coe.document()
    for field in ("impact", "root_cause", "tradeoffs_to_avoid"):
        content[field] = ""
    content["doctrine_elements"] = []
    await coe.write(content)
    err = await assert_refused_unchanged(coe, ArtefactsMissing, lambda: coe.publish())
    assert err.details["missing"] == [
        f"the nine OSOM fields: {name} is empty"
        for name in ("impact", "root_cause", "tradeoffs_to_avoid", "doctrine_elements")
    ]


async def test_only_the_services_manager_publishes(engine: Engine, unique: str) -> None:
    service = await onboarded_service(engine, svc(unique), "LIVE")
    coe = await Coe.open(engine, f"COE-P{unique}", service.service_id, manager="P-013")
    await coe.write()
    for person in ("P-020", "P-001", "P-010"):  # a team member elsewhere, the Executive, an SM

        async def publish(by: str = person) -> object:
            return await coe.decide("coe_published", by)

        err = await assert_refused_unchanged(coe, NotAuthorised, publish)
        assert "needs SERVICE_MANAGER" in err.message
    await coe.publish()
    assert (await coe.status()).state == "PUBLISHED"


@pytest.mark.parametrize(
    ("change", "error", "says"),
    [
        ({"owner": None}, InvalidArtefact, "corrective_actions.1.owner"),
        ({"due": None}, InvalidArtefact, "corrective_actions.1.due"),
        ({"owner": "P-999"}, GuardFailed, "A-2: P-999 is not in the directory"),
        ({"due": "2020-01-01"}, GuardFailed, "A-2: the due date 2020-01-01 is in the past"),
    ],
    ids=["no owner", "no due date", "unknown owner", "due in the past"],
)
async def test_an_action_needs_one_known_owner_and_a_due_date_ahead(
    engine: Engine, unique: str, change: dict[str, Any], error: type[Exception], says: str
) -> None:
    service = await onboarded_service(engine, svc(unique), "LIVE")
    coe = await Coe.open(engine, f"COE-A{unique}", service.service_id, manager="P-013")
    content = await coe.document()
    action = content["corrective_actions"][1]
    for key, value in change.items():
        if value is None:
            del action[key]
        else:
            action[key] = value
    err = await assert_refused_unchanged(coe, error, lambda: coe.write(content))  # type: ignore[arg-type]
    assert says in str(err)


async def test_actions_added_after_publication_follow_the_same_rules(
    engine: Engine, unique: str
) -> None:
    coe = await published_coe(engine, unique)
    yesterday = ((await coe.now()) - timedelta(days=1)).date().isoformat()
    new = {"id": "A-3", "description": "Renewal runbook", "owner": "P-020", "due": yesterday}
    await assert_refused_unchanged(
        coe, GuardFailed, lambda: coe.decide("action_added", "P-013", data=new)
    )
    await assert_refused_unchanged(
        coe, GuardFailed, lambda: coe.decide("action_added", "P-013", data=new | {"id": "A-1"})
    )
    tomorrow = ((await coe.now()) + timedelta(days=1)).date().isoformat()
    await coe.decide("action_added", "P-013", data=new | {"due": tomorrow})
    assert "A-3 OPEN (owner P-020" in (await coe.status()).facts["Corrective actions"]


async def test_actions_are_worked_on_by_their_owner_or_the_manager(
    engine: Engine, unique: str
) -> None:
    coe = await published_coe(engine, unique)
    err = await assert_refused_unchanged(coe, NotAuthorised, lambda: coe.complete("A-1", "P-020"))
    assert "owned by P-011" in err.message
    await assert_refused_unchanged(
        coe,
        InvalidArtefact,
        lambda: coe.decide("action_completed", "P-011", data={"action_id": "A-1"}),
    )
    await coe.decide("action_started", "P-011", data={"action_id": "A-1"})
    await coe.complete("A-1", "P-011")
    err = await assert_refused_unchanged(coe, GuardFailed, lambda: coe.complete("A-1", "P-011"))
    assert "A-1 is DONE already" in err.message
    cancel = {"action_id": "A-2", "rationale": "replaced by a platform alert"}
    await assert_refused_unchanged(
        coe, NotAuthorised, lambda: coe.decide("action_cancelled", "P-001", data=cancel)
    )
    later = ((await coe.now()) + timedelta(days=60)).date().isoformat()
    move = {"action_id": "A-2", "due": later, "reason": "waits for the new ingress"}
    await coe.decide("action_due_date_changed", "P-013", data=move)
    await coe.decide("action_cancelled", "P-013", data=cancel)
    # The register is stored (and the lifecycle told) just after each change.
    status = await coe.until(
        lambda s: "CANCELLED" in json.dumps(content_of(engine, s, "corrective_actions")),
        "register stored",
    )
    actions = content_of(engine, status, "corrective_actions")["actions"]
    assert [(a["id"], a["status"]) for a in actions] == [("A-1", "DONE"), ("A-2", "CANCELLED")]
    assert actions[1]["due_changes"][0]["reason"] == "waits for the new ingress"


async def test_closing_needs_every_action_finished_and_a_review(
    engine: Engine, unique: str
) -> None:
    coe = await published_coe(engine, unique)
    err = await assert_refused_unchanged(
        coe, GuardFailed, lambda: coe.decide("closure_requested", "P-013")
    )
    assert "A-1 'Alert when any certificate expires within 21 days'" in err.message
    assert "not yet reviewed at a session, nor considered by the Executive" in err.message
    await assert_refused_unchanged(coe, GuardFailed, lambda: coe.decide("coe_closed", "P-001"))

    await coe.complete("A-1", "P-011")
    await coe.complete("A-2", "P-020")
    await assert_refused_unchanged(
        coe, GuardFailed, lambda: coe.decide("closure_requested", "P-013")
    )
    await coe.decide("exec_considered", "P-001", data={"guidance_candidate": "renewal owners"})
    err = await assert_refused_unchanged(
        coe, GuardFailed, lambda: coe.decide("coe_closed", "P-001")
    )
    assert "the Service Manager has not asked to close it" in err.message
    await coe.decide("closure_requested", "P-013")
    await assert_refused_unchanged(coe, NotAuthorised, lambda: coe.decide("coe_closed", "P-013"))
    await coe.decide("coe_closed", "P-001")
    assert (await coe.status()).state == "CLOSED"


async def test_only_a_drawn_coe_is_reviewed_and_only_once(engine: Engine, unique: str) -> None:
    coe = await published_coe(engine, unique)
    outcome = {"session_id": "coe-review-made-up", "outputs": [{"kind": "none"}]}
    await assert_refused_unchanged(
        coe,
        IllegalTransition,
        lambda: coe.decide("presented_and_discussed", "P-001", data=outcome),
    )

    await coe.in_the_pool()
    session = await Session.start(engine, f"first-{unique}", services=(coe.service_id,))
    assert (await session.status()).state == "AGENDA_SET"
    await coe.until(lambda s: s.state == "SELECTED_FOR_REVIEW", "drawn")

    # Only a review session draws, under its own id; another may not draw it again, nor review it.
    forged = ReviewDraw(
        session_id="my-own-review",
        session_workflow_id="my-own-review",
        meeting_at=datetime.now(UTC) + timedelta(days=2),
    )
    await assert_refused_unchanged(
        coe,
        GuardFailed,
        lambda: execute_update(
            engine.client, coe.workflow_id, "draw_for_review", forged.model_dump(mode="json")
        ),
    )
    draw = ReviewDraw(
        session_id="coe-review-second",
        session_workflow_id="coe-review-second",
        meeting_at=datetime.now(UTC) + timedelta(days=2),
    )
    err = await assert_refused_unchanged(
        coe,
        IllegalTransition,
        lambda: execute_update(
            engine.client, coe.workflow_id, "draw_for_review", draw.model_dump(mode="json")
        ),
    )
    assert f"on the agenda of {session.workflow_id}" in err.message
    err = await assert_refused_unchanged(
        coe,
        GuardFailed,
        lambda: coe.decide("presented_and_discussed", "P-001", data=outcome),
    )
    assert f"was drawn by {session.workflow_id}, not by coe-review-made-up" in err.message

    # The session's minutes cover exactly what it drew.
    other = {"coe_id": "COE-NOT-DRAWN", "outcome": "reviewed", "outputs": [{"kind": "none"}]}
    mine = {"coe_id": coe.coe_id, "outcome": "deferred"}
    await session.skip(timedelta(days=5))
    await session.decide("session_held", "P-001")
    err = await assert_refused_unchanged(
        session,
        GuardFailed,
        lambda: session.decide("minutes_recorded", "P-001", data={"items": [other, mine]}),
    )
    assert "COE-NOT-DRAWN was not drawn by this session" in err.message
    await assert_refused_unchanged(
        session,
        GuardFailed,
        lambda: session.decide(
            "minutes_recorded", "P-001", data={"items": [mine | {"outcome": "reviewed"}]}
        ),
    )
    # The minutes are stored before any CoE moves: a store that refuses them moves nothing.
    engine.record.put_artefact(session.workflow_id, "review_minutes", 1, {"not": "these"}, "")
    before = (await session.status(), await session.audit_log(), await coe.status())
    with pytest.raises(ArtefactConflict):  # found by the handler: its store attempt is history
        await session.decide("minutes_recorded", "P-001", data={"items": [mine]})
    assert (await session.status(), await session.audit_log(), await coe.status()) == before
    assert engine.artefact(session.workflow_id, "review_minutes", 1).content == {"not": "these"}
    with engine.record.engine.begin() as connection:  # the squatter goes (only a test may)
        connection.execute(
            text("DELETE FROM artefacts WHERE case_id = :case AND kind = 'review_minutes'"),
            {"case": session.workflow_id},
        )
    await session.decide("minutes_recorded", "P-001", data={"items": [mine]})
    back = await coe.until(lambda s: s.state == "PUBLISHED", "deferred back to the pool")
    assert "Review" not in back.facts


async def test_the_minutes_answer_says_per_coe_whether_it_moved_or_refused(
    engine: Engine, unique: str
) -> None:
    moved = await published_coe(engine, unique, prefix="M")
    refusing = await Coe.open(engine, f"COE-N{unique}", moved.service_id, manager="P-013")
    await refusing.write()
    await refusing.publish()
    for coe in (moved, refusing):
        await coe.in_the_pool()
    session = await Session.start(engine, f"answers-{unique}", services=(moved.service_id,))
    agenda = await session.status()
    assert agenda.state == "AGENDA_SET"
    assert agenda.facts["Draw"] == "2-3 published CoEs at random from the pool"  # the policy's
    # The minutes clock sends no reminders: no next reminder, not a placeholder a century away.
    assert [(d.label, d.next_reminder_at) for d in agenda.deadlines] == [
        ("Minutes of the review due", None)
    ]
    for coe in (moved, refusing):
        await coe.until(lambda s: s.state == "SELECTED_FOR_REVIEW", "drawn")
    # A chair defers one by hand before the minutes: its minute can no longer move it.
    deferral = {"session_id": session.workflow_id, "notes": "presenter away"}
    await refusing.decide("review_deferred", "P-004", data=deferral)
    await refusing.until(lambda s: s.state == "PUBLISHED", "deferred by hand")

    await session.skip(timedelta(days=5))
    await session.decide("session_held", "P-004")
    reviewed = {"outcome": "reviewed", "outputs": [{"kind": "none"}]}
    minutes = {"items": [{"coe_id": c.coe_id} | reviewed for c in (moved, refusing)]}
    result = await session.decide("minutes_recorded", "P-004", data=minutes, decision_id=unique)

    refusal = (
        f"{refusing.coe_id}: refused — IllegalTransition: C7 presented_and_discussed is not "
        "possible from PUBLISHED"
    )
    lines = result.message.splitlines()
    assert lines[0] == "R4 minutes_recorded applied: HELD -> MINUTED; per CoE:"
    assert lines[1] == f"  {moved.coe_id}: applied (reviewed)"
    assert lines[2].startswith(f"  {refusal}")
    again = await session.decide("minutes_recorded", "P-004", data=minutes, decision_id=unique)
    assert (again.replayed, again.message) == (True, result.message)
    entry = next(e for e in await session.audit_log() if e.command == "minutes_recorded")
    assert entry.message is not None
    assert entry.message.splitlines() == [line.strip() for line in lines[1:]]

    # The minutes were recorded: the session is MINUTED, its page saying what each CoE did.
    minuted = await session.status()
    assert minuted.state == "MINUTED"
    assert minuted.facts[f"Minutes for {moved.coe_id}"] == "applied (reviewed)"
    assert minuted.facts[f"Minutes for {refusing.coe_id}"].startswith(refusal.split(": ", 1)[1])
    metadata = await session.handle.query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    assert f"**Minutes for {refusing.coe_id}:** refused — IllegalTransition" in (
        metadata.current_details
    )
    await moved.until(lambda s: s.state == "REVIEWED", "reviewed")
    assert (await refusing.status()).state == "PUBLISHED"


async def test_publishing_warns_about_names_until_acknowledged(engine: Engine, unique: str) -> None:
    service = await onboarded_service(engine, svc(unique), "LIVE")
    coe = await Coe.open(engine, f"COE-B{unique}", service.service_id, manager="P-013")
    content = await coe.document()
    content["root_cause"] = "Ravi Mehta did not watch the renewal job logs."
    content["five_whys"].append("Why? Okafor was on leave.")
    await coe.write(content)
    err = await assert_refused_unchanged(coe, GuardFailed, lambda: coe.publish())
    assert "the analysis names P-020 (Ravi Mehta) in root_cause" in err.message
    assert "P-011 (Tom Okafor) in five_whys" in err.message
    await coe.publish(acknowledged="the named engineer asked to be credited for the fix")
    status = await coe.status()
    record = content_of(engine, status, "coe_document")
    assert record["names_acknowledged"] == "the named engineer asked to be credited for the fix"


async def test_a_coe_is_opened_for_a_known_service_by_its_own_people(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, svc(unique), "LIVE")
    with pytest.raises(NotAuthorised, match="its Service Manager \\(P-013\\) or a member"):
        await Coe.open(engine, f"COE-W{unique}", service.service_id, manager="P-010")
    with pytest.raises(GuardFailed, match="SVC-999999 is not a service of the engine"):
        await Coe.open(engine, f"COE-U{unique}", "SVC-999999", manager="P-013")
    with pytest.raises(GuardFailed, match="mitigated_at in the future"):
        await Coe.open(
            engine, f"COE-L{unique}", service.service_id, "P-013", mitigated_hours_ago=-3
        )


async def test_a_new_service_manager_takes_over_the_coe_and_their_predecessors_actions(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, svc(unique), "LIVE")
    coe = await Coe.open(engine, f"COE-H{unique}", service.service_id, manager="P-013")
    content = await coe.document()
    content["corrective_actions"][0]["owner"] = "P-013"  # the Service Manager owns A-1
    await coe.write(content)
    await service.until(lambda s: "Open corrective actions" in s.facts, "the CoE is known")

    await service.decide(
        "service_manager_replaced", "P-001", data={"person": "P-012"}, reason="moved on"
    )
    taken = await coe.until(lambda s: s.facts["Service Manager"] == "P-012", "taken over")
    assert taken.facts["Corrective actions"].startswith("A-1 OPEN (owner P-012")
    assert "A-2 OPEN (owner P-020" in taken.facts["Corrective actions"]
    await assert_refused_unchanged(coe, NotAuthorised, lambda: coe.decide("coe_published", "P-013"))
    await coe.decide("coe_published", "P-012")
    assert (await coe.status()).state == "PUBLISHED"


async def test_a_coe_whose_session_never_minutes_it_is_flagged(engine: Engine, unique: str) -> None:
    coe = await published_coe(engine, unique, prefix="S")
    await coe.in_the_pool()
    session = await Session.start(engine, f"silent-{unique}", services=(coe.service_id,))
    drawn = await coe.until(lambda s: s.state == "SELECTED_FOR_REVIEW", "drawn")
    outcome_due = next(d for d in drawn.deadlines if d.label.startswith("Review outcome due"))
    await session.handle.terminate("an operator ended the session")
    await coe.skip(outcome_due.due_at - await coe.now() + timedelta(minutes=1))
    notes = await engine.outbox_once(
        coe, lambda n: any(x.kind == "escalation" and "Review outcome" in x.subject for x in n)
    )
    escalation = next(n for n in notes if "Review outcome" in n.subject)
    assert {"P-001", "P-004"} <= set(escalation.to)


async def test_the_chair_pins_a_coe_and_a_cancelled_session_returns_its_coes(
    engine: Engine, unique: str
) -> None:
    first = await published_coe(engine, unique, prefix="P")
    await first.in_the_pool()
    session = await Session.start(engine, f"pin-{unique}", services=(first.service_id,))
    await first.until(lambda s: s.state == "SELECTED_FOR_REVIEW", "drawn")
    second = await Coe.open(engine, f"COE-Q{unique}", first.service_id, manager="P-013")
    await second.write()
    await second.publish()
    await second.in_the_pool()

    err = await assert_refused_unchanged(
        session,
        GuardFailed,
        lambda: session.decide("item_pinned", "P-001", data={"coe_id": first.coe_id}),
    )
    assert f"{first.coe_id} is on the agenda already" in err.message
    await assert_refused_unchanged(
        session,
        NotAuthorised,
        lambda: session.decide("item_pinned", "P-013", data={"coe_id": second.coe_id}),
    )
    await session.decide("item_pinned", "P-001", data={"coe_id": second.coe_id})
    agenda = (await session.status()).facts["Agenda"]
    assert second.coe_id in agenda
    await second.until(lambda s: s.state == "SELECTED_FOR_REVIEW", "pinned")

    await assert_refused_unchanged(
        session, GuardFailed, lambda: session.decide("session_cancelled", "P-004")
    )
    await session.decide("session_cancelled", "P-004", reason="the Executive is away")
    assert (await session.status()).state == "CANCELLED"
    for coe in (first, second):
        back = await coe.until(lambda s: s.state == "PUBLISHED", "back in the pool")
        assert "Review" not in back.facts


async def test_revision_further_discussion_reopening_and_voiding(
    engine: Engine, unique: str
) -> None:
    coe = await published_coe(engine, unique, prefix="R")
    document = await coe.document()
    document["timeline"][0]["event"] = "certificate expired at 07:02"
    revision = {"document": document, "change_note": "timeline corrected"}
    await assert_refused_unchanged(
        coe, NotAuthorised, lambda: coe.decide("coe_revised", "P-020", data=revision)
    )
    await coe.decide("coe_revised", "P-013", data=revision)
    record = content_of(engine, await coe.status(), "coe_document")
    assert (record["version"], record["change_note"]) == (3, "timeline corrected")

    await coe.in_the_pool()
    session = await Session.start(engine, f"more-{unique}", services=(coe.service_id,))
    await session.skip(timedelta(days=5))
    await session.decide("session_held", "P-004")
    minute = {"coe_id": coe.coe_id, "outcome": "further_discussion"}
    await session.decide("minutes_recorded", "P-004", data={"items": [minute]})
    further = await coe.until(lambda s: s.state == "FURTHER_DISCUSSION", "more time")
    assert [d.label for d in further.deadlines] == ["Follow-up discussion due"]
    await assert_refused_unchanged(
        coe, InvalidArtefact, lambda: coe.decide("follow_up_held", "P-004", data={"outputs": []})
    )
    outputs = {"outputs": [{"kind": "mandate", "note": "renewal owners for shared parts"}]}
    await coe.decide("follow_up_held", "P-004", data=outputs)
    await coe.complete("A-1", "P-011")
    await coe.complete("A-2", "P-020")
    await coe.decide("closure_requested", "P-013")
    await coe.decide("coe_closed", "P-001")

    await assert_refused_unchanged(coe, GuardFailed, lambda: coe.decide("coe_reopened", "P-001"))
    await assert_refused_unchanged(
        coe, NotAuthorised, lambda: coe.decide("coe_reopened", "P-013", reason="it recurred")
    )
    await coe.decide("coe_reopened", "P-001", reason="it recurred")
    assert (await coe.status()).state == "REVIEWED"

    duplicate = await Coe.open(engine, f"COE-D{unique}", coe.service_id, manager="P-013")
    await duplicate.write()
    service = Service(engine, coe.service_id)
    await service.until(
        lambda s: duplicate.coe_id in s.facts.get("Open corrective actions", ""), "known"
    )
    itself = {"duplicate_of": duplicate.coe_id}
    await assert_refused_unchanged(
        duplicate,
        GuardFailed,
        lambda: duplicate.decide("coe_voided", "P-001", data=itself, reason="dup"),
    )
    await assert_refused_unchanged(
        duplicate,
        NotAuthorised,
        lambda: duplicate.decide(
            "coe_voided", "P-013", data={"duplicate_of": coe.coe_id}, reason="dup"
        ),
    )
    await duplicate.decide("coe_voided", "P-001", data={"duplicate_of": coe.coe_id}, reason="dup")
    assert (await duplicate.status()).state == "VOIDED"
    # A voided CoE's actions no longer hold the service.
    await service.until(
        lambda s: duplicate.coe_id not in s.facts.get("Open corrective actions", ""), "dropped"
    )

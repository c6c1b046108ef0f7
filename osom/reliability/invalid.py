"""The invalid commands sent before each valid one: each with the typed refusal it must get."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from models.commands import ArtefactSubmission, Decision
from models.ids import proposal_workflow_id
from osom.reliability.doors import Door, Doors, Outcome
from osom.reliability.journeys import OUTSIDER, STEPS, UNKNOWN_PERSON, Journey, valid_command


@dataclass(frozen=True)
class Invalid:
    """An invalid command: what it is, the refusal it must get, how it is sent."""

    what: str
    expected: str
    send: Callable[[Doors, Door], Awaitable[Outcome]]


def _decision(decision_id: str, trigger: str, actor: str, data: dict[str, object]) -> Decision:
    return Decision(decision_id=decision_id, trigger=trigger, actor=actor, data=data)


def invalid_commands(journey: Journey, step: int, door: Door, new_id: str) -> list[Invalid]:
    """The invalid commands that make sense before ``step`` at ``door``; ``new_id`` is the
    decision id of those that need one of their own."""
    verb, name, _, _, _ = STEPS[step]
    state = STEPS[step - 1][4] if step else "PROPOSED"
    case = journey.workflow_id
    valid = valid_command(journey, step)

    def as_person(person: str) -> Decision | ArtefactSubmission:
        return valid.model_copy(update={"decision_id": new_id, "actor": person})

    def command(cmd: Decision | ArtefactSubmission) -> Callable[[Doors, Door], Awaitable[Outcome]]:
        return lambda doors, door: doors.send(door, case, cmd)

    illegal = "triage_started" if state == "READY_TO_ESTABLISH" else "service_established"
    found = [
        Invalid("a person without the role", "NotAuthorised", command(as_person(OUTSIDER))),
        Invalid(
            "a person not in the directory", "UnknownPerson", command(as_person(UNKNOWN_PERSON))
        ),
        Invalid(
            f"{illegal} from {state}",
            "IllegalTransition",
            command(_decision(new_id, illegal, "P-001", {})),
        ),
        Invalid(
            "a trigger the process does not have",
            "IllegalTransition",
            command(_decision(new_id, "made_up_move", "P-001", {})),
        ),
        Invalid(
            "a case that does not exist",
            "UnknownCase",
            lambda doors, door: doors.send(
                door, proposal_workflow_id(f"{journey.proposal_id}-NOPE"), valid
            ),
        ),
    ]
    if journey.sent:
        reused = valid.model_copy(update={"decision_id": journey.sent[-1]})
        found.append(Invalid("a reused decision id", "DecisionIdReused", command(reused)))
    if step in (3, 4, 5):  # drafting, before everything the draft needs is in
        found.append(
            Invalid(
                "draft_completed before the draft is complete",
                "ArtefactsMissing",
                command(_decision(new_id, "draft_completed", "P-001", {})),
            )
        )
        bad = ArtefactSubmission(
            decision_id=new_id,
            actor="P-001",
            kind="service_contract",
            content={"service_id": "seven", "colour": "blue"},
        )
        found.append(Invalid("an invalid contract", "InvalidArtefact", command(bad)))
    if step == 7:  # ready, but no discovery plan yet
        found.append(
            Invalid(
                "service_established without a discovery plan",
                "ArtefactsMissing",
                command(_decision(new_id, "service_established", "P-001", {})),
            )
        )
    if door == "http":
        path = f"/v1/cases/{case}/{'decisions' if verb == 'decide' else 'artefacts'}"
        body = {"trigger": name} if verb == "decide" else {"kind": name, "content": {}}
        deep: object = "leaf"
        for _ in range(40):
            deep = [deep]
        actor = STEPS[step][2]

        def post(raw: bytes) -> Callable[[Doors, Door], Awaitable[Outcome]]:
            return lambda doors, door: doors.post(actor, path, raw)

        found += [
            Invalid("a body that is not JSON", "MalformedInput", post(b'{"trigger": ')),
            Invalid(
                "a body naming an actor",
                "InvalidArtefact",
                post(json.dumps(body | {"actor": "P-001"}).encode()),
            ),
            Invalid(
                "a body nested 40 levels deep",
                "MalformedInput",
                post(json.dumps(body | {"data": {"deep": deep}}).encode()),
            ),
            Invalid(
                "a body larger than the limit",
                "PayloadTooLarge",
                post(json.dumps(body | {"reason": "x" * 70_000}).encode()),
            ),
        ]
    return found

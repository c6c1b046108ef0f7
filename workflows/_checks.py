"""The checks every command passes before it changes a case.

Each is a function of the definition, the case, the command and the moment it is checked at
(nothing else: no workflow calls, nothing kept on the case), so an update validator can refuse
before anything reaches history and the handler can check again, in the command's turn,
against the case as it is then. The rules get the moment and the sender as a ``Context``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from models.case_state import CaseState, Context
    from models.commands import ArtefactSubmission, Decision, DirectoryReload
    from models.errors import (
        ArtefactsMissing,
        CaseClosed,
        GuardFailed,
        IllegalTransition,
        InvalidArtefact,
        PayloadTooLarge,
        invalid,
        payload_size,
    )
    from models.people import ActingAs
    from models.permits import ANY_ETM, EXECUTIVE
    from workflows import _view
    from workflows._definition import ProcessDefinition, TransitionSpec
    from workflows._machine import ProcessMachine

CaseT = TypeVar("CaseT", bound=CaseState)

# Who may make a running case take in a changed directory of people.
DIRECTORY_KEEPERS = (EXECUTIVE, ANY_ETM)


@dataclass(frozen=True)
class Checked:
    """A command that passed every check: how the actor acts, its validated data, and the
    context its rules saw (which its record then gets)."""

    acting: ActingAs
    at: Context
    data: BaseModel | None = None


class CaseChecks(Generic[CaseT]):
    """The definition's rules applied to one case."""

    def __init__(
        self, definition: ProcessDefinition[CaseT], case: CaseT, machine: ProcessMachine
    ) -> None:
        self.definition = definition
        self.case = case
        self.machine = machine

    def decision(self, cmd: Decision, now: datetime) -> Checked:
        case, definition = self.case, self.definition
        spec = definition.transition(cmd.trigger)
        if spec is None:
            known = ", ".join(t.trigger for t in definition.transitions)
            raise IllegalTransition(
                f"'{cmd.trigger}' is not a trigger of {definition.title}; triggers: {known}",
                trigger=cmd.trigger,
            )
        self._refuse_if_closed(cmd.trigger)
        if spec.automatic:
            raise IllegalTransition(
                f"{spec.id} {cmd.trigger} is recorded by the engine itself: {spec.description}",
                trigger=cmd.trigger,
            )
        pending = case.pending
        if pending is not None and pending.trigger == cmd.trigger:
            raise GuardFailed(
                f"{spec.id} {cmd.trigger} was already approved by {pending.actor} "
                f"(decision {pending.decision_id}); it waits for {pending.waiting_for}",
                problems=[f"waiting for {pending.waiting_for}"],
            )
        if not self.machine.is_legal(cmd.trigger):
            raise IllegalTransition(
                f"{spec.id} {cmd.trigger} is not possible from {case.state}; "
                f"possible from here: {', '.join(self.people_triggers())}",
                trigger=cmd.trigger,
                state=case.state,
            )
        acting = case.directory.authorise(
            cmd.actor, spec.who, case.relations(), f"fire {spec.id} {cmd.trigger}"
        )
        at = Context(now=now, actor=cmd.actor, role=acting.role)
        if spec.reason_required and not cmd.reason:
            raise GuardFailed(
                f"{spec.id} {cmd.trigger} needs a reason", problems=["a reason is required"]
            )
        data = self.validated(spec.data, cmd.data, f"data for {cmd.trigger}")
        missing, problems = self.what_stops(spec, data, at)
        if missing:
            also = f". Also refused: {'; '.join(problems)}" if problems else ""
            raise ArtefactsMissing(
                f"{spec.id} {spec.trigger} needs: " + "; ".join(missing) + also,
                missing=missing,
                problems=problems,
            )
        if problems:
            raise GuardFailed(
                f"{spec.id} {cmd.trigger} refused: {'; '.join(problems)}", problems=problems
            )
        return Checked(acting=acting, at=at, data=data)

    def submission(self, cmd: ArtefactSubmission, now: datetime) -> Checked:
        case, definition = self.case, self.definition
        spec = definition.artefact(cmd.kind)
        if spec is None:
            kinds = ", ".join(a.kind for a in definition.artefacts)
            raise InvalidArtefact(
                f"'{cmd.kind}' is not an artefact of {definition.title}; it takes: {kinds}",
                errors=[{"field": "kind", "message": f"unknown kind {cmd.kind}"}],
            )
        self._refuse_if_closed(f"submit {cmd.kind}")
        if case.state not in spec.states:
            raise IllegalTransition(
                f"a {cmd.kind} can be submitted in {', '.join(spec.states)}; "
                f"the case is {case.state}",
                state=case.state,
            )
        acting = case.directory.authorise(
            cmd.actor, spec.who, case.relations(), f"submit a {cmd.kind}"
        )
        at = Context(now=now, actor=cmd.actor, role=acting.role)
        artefact = self.validated(spec.model, cmd.content, spec.label)
        problems = [p for g in spec.guards for p in g.check(case, artefact, at)]
        if problems:
            raise GuardFailed(f"{spec.label} refused: {'; '.join(problems)}", problems=problems)
        return Checked(acting=acting, at=at, data=artefact)

    def reload(self, cmd: DirectoryReload, now: datetime) -> Checked:
        self._refuse_if_closed("reload the directory")
        acting = self.case.directory.authorise(
            cmd.actor, DIRECTORY_KEEPERS, {}, "reload the directory"
        )
        return Checked(acting=acting, at=Context(now=now, actor=cmd.actor, role=acting.role))

    def _refuse_if_closed(self, what: str) -> None:
        if self.definition.state(self.case.state).terminal:
            raise CaseClosed(
                f"{self.case.case_id} is {self.case.state}, a final state: '{what}' is not "
                "possible",
                state=self.case.state,
            )

    def validated(
        self, model: type[BaseModel] | None, payload: dict[str, Any], what: str
    ) -> BaseModel | None:
        size = payload_size(payload)
        limit = self.case.policy.max_payload_bytes
        if size > limit:
            raise PayloadTooLarge(
                f"{what} is {size} bytes; the policy allows at most {limit}",
                errors=[{"field": "(root)", "message": f"{size} bytes > {limit}"}],
            )
        if model is None:
            if payload:
                raise InvalidArtefact(
                    f"{what}: this trigger takes no data",
                    errors=[{"field": "data", "message": "must be empty"}],
                )
            return None
        try:
            return model.model_validate(payload)
        except ValidationError as err:
            raise invalid(what, err) from err

    def what_stops(
        self, spec: TransitionSpec[CaseT, Any], data: BaseModel | None, at: Context
    ) -> tuple[list[str], list[str]]:
        """What the move lacks (artefacts, labelled) and which rules refuse it."""
        case = self.case
        missing = [
            f"{r.label}: {p}" for r in spec.needs if not r.condition for p in r.check(case, at)
        ]
        problems = [p for r in spec.needs if r.condition for p in r.check(case, at)]
        problems += [p for g in spec.guards for p in g.check(case, data, at)]
        return missing, problems

    def people_triggers(self) -> list[str]:
        return _view.people_triggers(self.definition, self.machine.legal_triggers())

"""Decisions approved but held until something arrives (say, the next phase's budget): holding
one, and applying it once nothing holds it any more, as its approver made it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case_state import CaseState, Context, PendingMove
    from models.commands import Decision
    from models.errors import OsomError
    from workflows import _events
    from workflows._definition import TransitionSpec

if TYPE_CHECKING:
    from workflows._case import CaseEngine

CaseT = TypeVar("CaseT", bound=CaseState)


class HeldMoves(Generic[CaseT]):
    """The case's one held decision, over its engine."""

    def __init__(self, engine: CaseEngine[CaseT]) -> None:
        self._engine = engine

    def hold(self, cmd: Decision, role: str, waiting_for: str) -> None:
        self._engine.case.pending = PendingMove(
            trigger=cmd.trigger,
            decision_id=cmd.decision_id,
            actor=cmd.actor,
            role=role,
            data=cmd.data,
            reason=cmd.reason,
            accepted_at=workflow.now(),
            waiting_for=waiting_for,
        )
        self._engine.log(_events.PENDING_HELD, trigger=cmd.trigger, waiting_for=waiting_for)

    async def apply_if_free(self) -> bool:
        """Apply the held decision if nothing holds it any more. True if that brought the case
        up to date (applied, or failed and shown as it is); False if there is nothing to do."""
        engine = self._engine
        case = engine.case
        pending = case.pending
        if pending is None:
            return False
        spec = engine.definition.transition(pending.trigger)
        assert spec is not None
        if not engine.machine.is_legal(pending.trigger):
            case.pending = None  # the case moved on another way
            return False
        if not self._still_authorised(pending, spec):
            case.pending = None
            return False
        data = engine.checks.validated(spec.data, pending.data, f"data for {pending.trigger}")
        at = Context(now=workflow.now(), actor=pending.actor, role=pending.role)
        if spec.defer and spec.defer(case, data) is not None:
            return False
        missing, problems = engine.checks.what_stops(spec, data, at)
        if missing or problems:
            return False
        try:
            source, target, _ = await engine.move(spec, data, at)
        except OsomError as err:  # it stays held; the next change tries again
            engine.log(
                _events.PENDING_FAILED,
                logging.WARNING,
                trigger=pending.trigger,
                error_type=err.type,
            )
            engine.refresh()
            return True
        reason = (
            f"{spec.id} {pending.trigger} approved by {pending.actor} "
            f"(decision {pending.decision_id}) applies now: {pending.waiting_for} arrived"
        )
        engine.audit(engine.system, pending.trigger, source, target, "system", reason)
        engine.log(_events.PENDING_APPLIED, trigger=pending.trigger, source=source)
        await engine.moved(spec, pending.actor, pending.reason)
        return True

    def _still_authorised(self, pending: PendingMove, spec: TransitionSpec[CaseT, Any]) -> bool:
        """Whether the person who approved a held move may still make it (the directory may
        have been reloaded since); if not, the move is dropped and the audit log says so."""
        engine = self._engine
        case = engine.case
        try:
            case.directory.authorise(pending.actor, spec.who, case.relations(), f"fire {spec.id}")
        except OsomError as err:
            reason = f"held {pending.trigger} (decision {pending.decision_id}) dropped: {err}"
            engine.audit(engine.system, pending.trigger, case.state, case.state, "system", reason)
            return False
        return True

"""What a case does when one of its deadline clocks fires: remind, escalate, or do a recurring
duty (request the periodic assessment) and start the clock over. Every event is audited."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Generic, TypeVar

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from models.case_state import CaseState
    from models.errors import OsomError
    from workflows import _clock, _deadlines, _events, _view
    from workflows._timers import TimerEvent

if TYPE_CHECKING:
    from workflows._case import CaseEngine

CaseT = TypeVar("CaseT", bound=CaseState)


class DeadlineClocks(Generic[CaseT]):
    """The deadline timer of one case, over its engine."""

    def __init__(self, engine: CaseEngine[CaseT]) -> None:
        self._engine = engine

    async def keep(self) -> None:
        """Remind and escalate on the running clocks until the case reaches a final state."""
        await self._engine.timers.keep(self._next, self._fired, self._summary)

    def _next(self) -> TimerEvent | None:
        """What the deadline timer waits for: the first clock, when its event is, and which."""
        if self._engine.final():
            return None
        return _deadlines.next_deadline(self._engine.case)

    def _summary(self, name: str, kind: str) -> str:
        return f"{self._engine.case.clocks[name].label}: {kind}"

    async def _fired(self, name: str, kind: str) -> None:
        engine = self._engine
        case, definition = engine.case, engine.definition
        clock = case.clocks[name]
        spec = definition.clock(name)
        if kind == "escalate" and spec.on_due:
            # A recurring duty (the periodic assessment, the metric check): do it, start over.
            del case.clocks[name]
            command = f"deadline_{spec.on_due}"
            engine.audit(engine.system, command, case.state, case.state, "system", clock.label)
            engine.log(_events.DEADLINE_DUTY, clock=name, duty=spec.on_due)
            try:
                await engine.perform(spec.on_due)
            except (OsomError, FailureError) as err:  # the clock starts over; it tries again
                engine.log(_events.DEADLINE_DUTY_FAILED, logging.WARNING, duty=spec.on_due)
                reason = f"could not be done: {err}"
                engine.audit(engine.system, command, case.state, case.state, "system", reason)
            return
        escalation = kind == "escalate"
        overdue = workflow.now() >= clock.due_at
        verb = "ESCALATED: overdue" if escalation else ("Overdue" if overdue else "Reminder")
        engine.notify(
            "escalation" if escalation else "reminder",
            _view.people_holding(case, spec.escalate_to if escalation else spec.remind),
            f"{verb}: {clock.label} for {case.case_id} by {clock.due_at:%Y-%m-%d}",
            f"{case.title} is {case.state}.\n" + _view.blocker_summary(engine.status()),
        )
        policy = _deadlines.clock_policy(definition, case, name)
        reminders = policy.reminder_wd if policy else None
        case.clocks[name] = _clock.after_event(clock, kind, reminders, workflow.now())
        command = f"deadline_{kind}"
        engine.audit(engine.system, command, case.state, case.state, "system", clock.label)
        event = _events.DEADLINE_ESCALATED if escalation else _events.DEADLINE_REMINDED
        engine.log(event, clock=name, due_at=clock.due_at.isoformat())

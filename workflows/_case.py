"""The case engine: what every process's workflow does with commands, deadlines and its view.

A process's workflow class holds the Temporal handlers and delegates to one ``CaseEngine``. The
engine checks each command (``_checks``: pure functions of the case, so update validators can
refuse before anything reaches history), applies accepted ones under the case lock, writes the
audit log (``_audit``), queues notifications (``_outbox``), keeps the deadlines (``_timers``)
and mirrors the case into search attributes and the Web UI (``_visibility``). Runs only inside
a workflow.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from models.case_state import CaseState, Context
    from models.case_view import CaseStatus
    from models.commands import (
        ArtefactRef,
        ArtefactSubmission,
        CommandResult,
        Decision,
        DirectoryReload,
    )
    from models.errors import DecisionIdReused, DirectoryUnavailable, OsomError
    from models.people import ActingAs
    from workflows import _audit, _deadlines, _events, _records, _view, _visibility
    from workflows._activity import call
    from workflows._checks import CaseChecks
    from workflows._deadline_events import DeadlineClocks
    from workflows._definition import ProcessDefinition, TransitionSpec
    from workflows._errors import refusal
    from workflows._held import HeldMoves
    from workflows._machine import ProcessMachine
    from workflows._outbox import NotificationQueue
    from workflows._recorder import CaseRecorder
    from workflows._signals import SignalSender
    from workflows._timers import TimerLoop
    from workflows.activity_contracts import DirectoryActivities

CaseT = TypeVar("CaseT", bound=CaseState)
T = TypeVar("T")
Command = TypeVar("Command", Decision, ArtefactSubmission, DirectoryReload)
# A step the workflow itself performs for a move (publish a contract, request an assessment);
# gets the actor and the command's validated data.
WorkflowEffect = Callable[[str, BaseModel | None], Awaitable[ArtefactRef | None]]
SYSTEM = ActingAs(person="SYSTEM", role="SYSTEM")


class CaseEngine(Generic[CaseT]):
    """One case's command pipeline: check, apply under the lock, audit, effects, view."""

    def __init__(
        self,
        definition: ProcessDefinition[CaseT],
        case: CaseT,
        workflow_effects: Mapping[str, WorkflowEffect],
    ) -> None:
        steps = {name for name, effect in definition.effects.items() if not effect.recipients}
        if set(workflow_effects) != steps:
            raise ValueError(
                f"{definition.name}'s workflow performs {sorted(workflow_effects)}; its "
                f"definition's effects without recipients are {sorted(steps)}"
            )
        self.definition = definition
        self.case = case
        self.machine = ProcessMachine(
            definition, lambda: case.state, lambda state: setattr(case, "state", state)
        )
        self.checks = CaseChecks(definition, case, self.machine)
        self.lock = asyncio.Lock()
        self._workflow_effects = workflow_effects
        self.outbox = NotificationQueue()
        self.timers = TimerLoop(self.final, self.lock, after=self.settle)
        self.deadlines = DeadlineClocks(self)
        self.held = HeldMoves(self)
        self.audit = _audit.AuditLog(definition.name, case)
        self.recorder = CaseRecorder(definition.name, case, self.status)
        self.system = SYSTEM

    # -- the Temporal handlers' shared shapes ----------------------------------------------------

    def validate(self, cmd: Command, check: Callable[[Command, datetime], object]) -> None:
        """For update validators: refuse before anything reaches history (a repeat passes)."""
        try:
            if self.replayed(cmd) is None:
                check(cmd, workflow.now())
        except OsomError as err:
            raise refusal(err) from err

    async def handle(
        self, cmd: Command, apply: Callable[[Command], Awaitable[CommandResult]]
    ) -> CommandResult:
        """For update handlers, in the command's turn: apply, checking again (the case may have
        moved since the validator looked)."""
        try:
            return await apply(cmd)
        except OsomError as err:
            self.log(
                _events.COMMAND_REFUSED,
                command=cmd.name(),
                decision_id=cmd.decision_id,
                actor=cmd.actor,
                error_type=err.type,
            )
            raise refusal(err) from err

    def replayed(
        self, cmd: Decision | ArtefactSubmission | DirectoryReload
    ) -> CommandResult | None:
        """The first answer to this decision id, or None if it is new. Reuse for another command
        is refused: it would otherwise be reported as done without being done."""
        earlier = self.case.applied.get(cmd.decision_id)
        if earlier is None:
            return None
        if self.case.fingerprints.get(cmd.decision_id) != cmd.fingerprint():
            raise DecisionIdReused(
                f"decision id {cmd.decision_id} was already used for a different command "
                f"({earlier.command}); send this one with a new id",
                decision_id=cmd.decision_id,
            )
        return earlier.model_copy(update={"replayed": True})

    # -- applying accepted commands ------------------------------------------------------------

    async def apply_decision(self, cmd: Decision) -> CommandResult:
        if (earlier := self.replayed(cmd)) is not None:
            return earlier
        checked = self.checks.decision(cmd, workflow.now())
        await self.recorder.ready()
        spec = self.definition.transition(cmd.trigger)
        assert spec is not None
        source = self.case.state
        waiting = spec.defer(self.case, checked.data) if spec.defer else None
        if waiting:
            self.held.hold(cmd, checked.acting.role, waiting)
            message = f"{spec.id} {cmd.trigger} approved; it applies once {waiting} arrives"
            result = self._accepted(cmd, checked.acting, source, source, message, None)
            await self.settle()
            return result
        source, target, produced = await self.move(spec, checked.data, checked.at)
        result = self._accepted(
            cmd,
            checked.acting,
            source,
            target,
            f"{spec.id} {cmd.trigger} applied: {source} -> {target}",
            produced,
        )
        await self.moved(spec, cmd.actor, cmd.reason)
        return result

    async def fire_automatic(self, trigger: str, data: BaseModel | None, reason: str) -> None:
        """Fire a transition the engine records itself (say, a periodic report arrived)."""
        spec = self.definition.transition(trigger)
        assert spec is not None
        assert spec.automatic, f"{trigger} is not an automatic transition"
        source, target, _ = await self.move(spec, data, Context(now=workflow.now()))
        self.audit(SYSTEM, trigger, source, target, "system", reason)
        await self.moved(spec, SYSTEM.person, reason)

    async def move(
        self, spec: TransitionSpec[CaseT, Any], data: BaseModel | None, at: Context
    ) -> tuple[str, str, ArtefactRef | None]:
        """Record the data, fire the trigger and run the workflow's own steps for it. If a step
        fails, the case's state is put back as it was and the refusal goes to the sender. (An
        artefact a step already stored stays in the store; processes order their steps so that
        the store comes first and nothing after it fails on a person's input.)"""
        snapshot = self.case.model_copy(deep=True)
        queued = self.outbox.mark()
        source = self.case.state
        produced: ArtefactRef | None = None
        actor = at.actor
        try:
            if spec.record is not None:
                spec.record(self.case, data, at)
            produced = await self._steps(spec, data, actor, after_move=False)
            target = self.machine.fire(spec.trigger)
            produced = await self._steps(spec, data, actor, after_move=True) or produced
        except (OsomError, FailureError) as err:
            for name in type(self.case).model_fields:
                setattr(self.case, name, getattr(snapshot, name))
            self.outbox.back_to(queued)
            if isinstance(err, OsomError):
                raise
            raise OsomError(f"{spec.id} {spec.trigger} could not be completed: {err}") from err
        self.log(_events.TRANSITION_APPLIED, trigger=spec.trigger, source=source, actor=actor)
        return source, target, produced

    async def _steps(
        self,
        spec: TransitionSpec[CaseT, Any],
        data: BaseModel | None,
        actor: str,
        *,
        after_move: bool,
    ) -> ArtefactRef | None:
        produced: ArtefactRef | None = None
        for name in spec.effects:
            step = self._workflow_effects.get(name)
            if step is not None and self.definition.effects[name].after_move == after_move:
                produced = await step(actor, data) or produced
        return produced

    async def moved(self, spec: TransitionSpec[CaseT, Any], actor: str, reason: str | None) -> None:
        """After a move: drop a held decision it settled, tell people, bring the view up."""
        if self.case.pending and self.case.pending.trigger == spec.trigger:
            self.case.pending = None
        self.run_effects(
            spec.effects,
            f"{self.case.title}: {spec.description} ({self.case.state})",
            f"{spec.id} {spec.trigger} by {actor}." + (f" Reason: {reason}" if reason else ""),
        )
        await self.settle()

    async def settle(self) -> None:
        """After any change: apply a held decision that nothing holds any more, then bring the
        clocks and the operator's view up to date."""
        if not await self.held.apply_if_free():
            self.refresh()

    async def apply_submission(self, cmd: ArtefactSubmission) -> CommandResult:
        if (earlier := self.replayed(cmd)) is not None:
            return earlier
        checked = self.checks.submission(cmd, workflow.now())
        await self.recorder.ready()
        spec = self.definition.artefact(cmd.kind)
        assert spec is not None
        current = self.case.artefacts.get(cmd.kind)
        version = current.version + 1 if current else 1
        artefact = checked.data
        assert artefact is not None  # an artefact is always checked against its model
        ref = await _records.store(
            workflow.info().workflow_id, cmd.kind, version, artefact, checked.acting.person
        )
        spec.record(self.case, artefact, checked.at)
        self.case.artefacts[cmd.kind] = ref
        state = self.case.state
        message = f"{spec.label} accepted as version {version}"
        result = self._accepted(cmd, checked.acting, state, state, message, ref)
        await self.settle()
        return result

    async def apply_reload(self, cmd: DirectoryReload) -> CommandResult:
        if (earlier := self.replayed(cmd)) is not None:
            return earlier
        checked = self.checks.reload(cmd, workflow.now())
        await self.recorder.ready()
        try:
            self.case.directory = await call(
                DirectoryActivities.load_directory, summary="reload the directory of people"
            )
        except ActivityError as err:
            raise DirectoryUnavailable(
                f"the directory could not be reloaded, the case keeps the one it had: {err.cause}"
            ) from err
        state = self.case.state
        message = f"directory reloaded: {len(self.case.directory.people)} people"
        result = self._accepted(cmd, checked.acting, state, state, message, None)
        await self.settle()
        return result

    def _accepted(
        self,
        cmd: Decision | ArtefactSubmission | DirectoryReload,
        acting: ActingAs,
        source: str,
        target: str,
        message: str,
        artefact: ArtefactRef | None,
    ) -> CommandResult:
        """Audit an applied command and remember its answer for repeats of its decision id."""
        self.audit(acting, cmd.name(), source, target, "accepted", cmd.reason, cmd.decision_id)
        self.log(
            _events.COMMAND_ACCEPTED,
            command=cmd.name(),
            decision_id=cmd.decision_id,
            actor=acting.person,
            role=acting.role,
        )
        result = CommandResult(
            decision_id=cmd.decision_id,
            command=cmd.name(),
            from_state=source,
            to_state=target,
            message=message,
            artefact=artefact,
        )
        self.case.applied[cmd.decision_id] = result
        self.case.fingerprints[cmd.decision_id] = cmd.fingerprint()
        return result

    # -- effects -----------------------------------------------------------------------------------

    def run_effects(self, names: tuple[str, ...], subject: str, body: str) -> None:
        """Queue the notifications among ``names`` (the definition says to whom)."""
        for name in names:
            recipients = self.definition.effects[name].recipients
            self.notify("info", recipients(self.case) if recipients else [], subject, body)

    def notify(
        self,
        kind: Literal["info", "reminder", "escalation"],
        to: list[str],
        subject: str,
        body: str,
    ) -> None:
        """Queue a notification for the run loop to send."""
        self.outbox.compose(len(self.case.audit), kind, to, subject, body)

    def has_queued_notifications(self) -> bool:
        return self.outbox.busy

    async def deliver_notifications(self) -> None:
        """Send queued notifications until the case is final and every handler is done (a
        move that ends the case queues its notifications after its last step)."""
        await self.outbox.deliver(lambda: self.final() and workflow.all_handlers_finished())

    async def keep_record(self) -> None:
        """Write the audit entries to the record as they arise, until the case is final, every
        handler is done and the record holds every entry."""
        await self.recorder.keep(lambda: self.final() and workflow.all_handlers_finished())

    # -- deadlines -------------------------------------------------------------------------------

    async def keep_deadlines(self) -> None:
        """Remind and escalate on the running clocks until the case reaches a final state."""
        await self.deadlines.keep()

    def final(self) -> bool:
        return self.definition.state(self.case.state).terminal

    async def perform(self, step: str) -> None:
        """A step of the workflow's own that a clock calls for (request the periodic
        assessment)."""
        await self._workflow_effects[step](SYSTEM.person, None)

    def started(self, acting: ActingAs, command: str, reason: str | None) -> None:
        """The case's first entry (who opened it, as what), then its clocks and its view."""
        self.audit(acting, command, "", self.case.state, "accepted", reason)
        self.log(_events.CASE_STARTED, command=command, actor=acting.person, role=acting.role)
        self.refresh()

    async def in_turn(self, step: Callable[[], Awaitable[T]]) -> T:
        """Run ``step`` with the case to itself: no command or timer changes it meanwhile."""
        async with self.lock:
            return await step()

    @property
    def busy(self) -> bool:
        """A command, a timer event or an ``in_turn`` step is being applied right now."""
        return self.lock.locked()

    def resumed(self) -> None:
        """A case carried over from its previous run: its clocks and its view."""
        self.refresh()

    def refresh(self) -> None:
        """Start, keep or stop the deadline clocks for the case as it is now, and show it."""
        self.case.clocks = _deadlines.reconcile(self.definition, self.case, workflow.now())
        self.publish_status()

    # -- audit and what the operator sees -------------------------------------------------------

    def log(self, event: str, level: int = logging.INFO, **fields: object) -> None:
        _events.log(event, self.definition.name, self.case, level, **fields)

    def record_refusal(self, sender: SignalSender, err: OsomError) -> None:
        """A refused signal, as its sender claimed to be (unverified), with the reason."""
        if self.audit.refused(sender, err):
            self.publish_status()

    def status(self) -> CaseStatus:
        return _view.case_status(
            self.definition,
            self.case,
            workflow.info().workflow_id,
            self.machine.legal_triggers(),
            Context(now=workflow.now()),
        )

    def publish_status(self) -> None:
        """Mirror the case into its search attributes and the Web UI's current details."""
        status = self.status()
        workflow.upsert_search_attributes(_visibility.updates_for(status))
        names = {p.id: p.name for p in self.case.directory.people}
        page = _visibility.case_page(status, _view.last_decisions(self.case), names)
        workflow.set_current_details(page)

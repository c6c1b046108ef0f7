"""The case engine: what every process's workflow does with commands, deadlines and its view.

A process's workflow class holds the Temporal handlers and delegates to one ``CaseEngine``. The
engine checks each command against the process definition (as a pure function of the case, so
update validators can refuse before anything reaches history), applies accepted ones under the
case lock, keeps the deadlines, writes the audit log and mirrors the case into search attributes
and the Web UI's current details. Runs only inside a workflow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from activities.artefact_store import StoreRequest
    from activities.notifications import Notification
    from models.audit import AuditEntry
    from models.case_state import CaseState, PendingMove
    from models.case_view import CaseStatus
    from models.commands import (
        ArtefactRef,
        ArtefactSubmission,
        CommandResult,
        Decision,
        DirectoryReload,
    )
    from models.contract import ServiceContract
    from models.errors import (
        ArtefactConflict,
        ArtefactsMissing,
        CaseClosed,
        DecisionIdReused,
        DirectoryUnavailable,
        GuardFailed,
        IllegalTransition,
        InvalidArtefact,
        OsomError,
        PayloadTooLarge,
        invalid,
        payload_size,
    )
    from models.people import ActingAs, Directory, Permit, Role
    from workflows import _clock, _deadlines, _view, _visibility
    from workflows._activity import call
    from workflows._definition import ProcessDefinition, TransitionSpec
    from workflows._errors import refusal
    from workflows._machine import ProcessMachine
    from workflows._outbox import NotificationQueue
    from workflows._signals import SignalSender

CaseT = TypeVar("CaseT", bound=CaseState)
M = TypeVar("M", bound=BaseModel)
Command = TypeVar("Command", Decision, ArtefactSubmission, DirectoryReload)
# A step the workflow itself performs for a move (publish a contract, request an assessment);
# gets the actor and the command's validated data.
WorkflowEffect = Callable[[str, Any], Awaitable[ArtefactRef | None]]
SYSTEM = ActingAs(person="SYSTEM", role="SYSTEM")
# What a timer waits for: the name of the clock (or item), when, and which kind of event.
TimerEvent = tuple[str, datetime, str]

# Refused signals are recorded up to this many; past it they are only counted, so a sender
# retrying a bad signal forever cannot grow the history without bound.
MAX_RECORDED_REFUSALS = 100
# A store writes two small files: one that takes longer is on a broken disk or a dead worker,
# and the case's next command waits for it, so it is tried again soon.
STORE_TIMEOUT = timedelta(seconds=10)
# Who may make a running case take in a changed directory of people.
DIRECTORY_KEEPERS = (Permit(role=Role.EXEC), Permit(role=Role.ETM))


class Checked(BaseModel):
    """A command that passed every check, with how the actor acts and its validated data."""

    acting: ActingAs
    data: Any = None


class CaseEngine(Generic[CaseT]):
    """One case's rules, commands, deadlines and view; its workflow holds the handlers."""

    def __init__(
        self,
        definition: ProcessDefinition[CaseT],
        case: CaseT,
        workflow_effects: Mapping[str, WorkflowEffect],
    ) -> None:
        self.definition = definition
        self.case = case
        self.machine = ProcessMachine(
            definition, lambda: case.state, lambda state: setattr(case, "state", state)
        )
        self.lock = asyncio.Lock()
        self._workflow_effects = workflow_effects
        self.outbox = NotificationQueue()

    # -- the Temporal handlers' shared shapes ----------------------------------------------------

    def validate(self, cmd: Command, check: Callable[[Command], object]) -> None:
        """For update validators: refuse before anything reaches history (a repeat passes)."""
        try:
            with self._looking():
                if self.replayed(cmd) is None:
                    check(cmd)
        except OsomError as err:
            raise refusal(err) from err

    @contextmanager
    def _looking(self) -> Iterator[None]:
        """Validators and queries check the case as of their own moment, then leave the
        moment and the sender as a command being applied meanwhile had set them: they run
        between its steps, and on replay they do not run at all."""
        case = self.case
        saved = (case.as_of, case.acting_role, case.acting_person)
        try:
            yield
        finally:
            case.as_of, case.acting_role, case.acting_person = saved

    async def handle(
        self, cmd: Command, apply: Callable[[Command], Awaitable[CommandResult]]
    ) -> CommandResult:
        """For update handlers, in the command's turn: apply, checking again (the case may have
        moved since the validator looked)."""
        try:
            return await apply(cmd)
        except OsomError as err:
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

    # -- checks: pure functions of the case, shared by validators and handlers ------------------

    def check_decision(self, cmd: Decision) -> Checked:
        case, definition = self.case, self.definition
        case.as_of = workflow.now()
        spec = definition.transition(cmd.trigger)
        if spec is None:
            known = ", ".join(t.trigger for t in definition.transitions)
            raise IllegalTransition(
                f"'{cmd.trigger}' is not a trigger of {definition.title}; triggers: {known}",
                trigger=cmd.trigger,
            )
        self._check_open(cmd.trigger)
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
            cmd.actor, spec.permits, case.relations(), f"fire {spec.id} {cmd.trigger}"
        )
        case.acting_role = acting.role
        case.acting_person = cmd.actor
        if spec.reason_required and not cmd.reason:
            raise GuardFailed(
                f"{spec.id} {cmd.trigger} needs a reason", problems=["a reason is required"]
            )
        data = self._validated(spec.data, cmd.data, f"data for {cmd.trigger}")
        missing, problems = self._what_stops(spec, data)
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
        return Checked(acting=acting, data=data)

    def check_submission(self, cmd: ArtefactSubmission) -> Checked:
        case, definition = self.case, self.definition
        case.as_of = workflow.now()
        spec = definition.artefact(cmd.kind)
        if spec is None:
            kinds = ", ".join(a.kind for a in definition.artefacts)
            raise InvalidArtefact(
                f"'{cmd.kind}' is not an artefact of {definition.title}; it takes: {kinds}",
                errors=[{"field": "kind", "message": f"unknown kind {cmd.kind}"}],
            )
        self._check_open(f"submit {cmd.kind}")
        if case.state not in spec.states:
            raise IllegalTransition(
                f"a {cmd.kind} can be submitted in {', '.join(spec.states)}; "
                f"the case is {case.state}",
                state=case.state,
            )
        acting = case.directory.authorise(
            cmd.actor, spec.permits, case.relations(), f"submit a {cmd.kind}"
        )
        artefact = self._validated(spec.model, cmd.content, spec.label)
        problems = [p for g in spec.guards for p in g.check(case, artefact)]
        if problems:
            raise GuardFailed(f"{spec.label} refused: {'; '.join(problems)}", problems=problems)
        return Checked(acting=acting, data=artefact)

    def check_reload(self, cmd: DirectoryReload) -> Checked:
        self._check_open("reload the directory")
        acting = self.case.directory.authorise(
            cmd.actor, DIRECTORY_KEEPERS, {}, "reload the directory"
        )
        return Checked(acting=acting)

    def _check_open(self, what: str) -> None:
        if self.definition.state(self.case.state).terminal:
            raise CaseClosed(
                f"{self.case.case_id} is {self.case.state}, a final state: '{what}' is not "
                "possible",
                state=self.case.state,
            )

    def _validated(self, model: type[BaseModel] | None, payload: dict[str, Any], what: str) -> Any:
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

    # -- applying accepted commands ------------------------------------------------------------

    async def apply_decision(self, cmd: Decision) -> CommandResult:
        if (earlier := self.replayed(cmd)) is not None:
            return earlier
        checked = self.check_decision(cmd)
        spec = self.definition.transition(cmd.trigger)
        assert spec is not None
        source = self.case.state
        waiting = spec.defer(self.case, checked.data) if spec.defer else None
        if waiting:
            self.case.pending = PendingMove(
                trigger=cmd.trigger,
                decision_id=cmd.decision_id,
                actor=cmd.actor,
                role=checked.acting.role,
                data=cmd.data,
                reason=cmd.reason,
                accepted_at=workflow.now(),
                waiting_for=waiting,
            )
            message = f"{spec.id} {cmd.trigger} approved; it applies once {waiting} arrives"
            result = self._accepted(cmd, checked.acting, source, source, message, None)
            await self.settle()
            return result
        source, target, produced = await self._move(spec, checked.data, cmd.actor)
        result = self._accepted(
            cmd,
            checked.acting,
            source,
            target,
            f"{spec.id} {cmd.trigger} applied: {source} -> {target}",
            produced,
        )
        await self._moved(spec, cmd.actor, cmd.reason)
        return result

    async def fire_automatic(self, trigger: str, data: Any, reason: str) -> None:
        """Fire a transition the engine records itself (say, a periodic report arrived)."""
        spec = self.definition.transition(trigger)
        assert spec is not None
        assert spec.automatic, f"{trigger} is not an automatic transition"
        source, target, _ = await self._move(spec, data, SYSTEM.person)
        self.audit(SYSTEM, trigger, source, target, "system", reason)
        await self._moved(spec, SYSTEM.person, reason)

    async def _move(
        self, spec: TransitionSpec[CaseT], data: Any, actor: str
    ) -> tuple[str, str, ArtefactRef | None]:
        """Record the data, fire the trigger and run the workflow's own steps for it. If a step
        fails, the case's state is put back as it was and the refusal goes to the sender. (An
        artefact a step already stored stays in the store; processes order their steps so that
        the store comes first and nothing after it fails on a person's input.)"""
        snapshot = self.case.model_copy(deep=True)
        queued = self.outbox.mark()
        source = self.case.state
        produced: ArtefactRef | None = None
        self.case.as_of = workflow.now()  # what the record functions date things with
        try:
            if spec.record is not None:
                spec.record(self.case, data, actor)
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
        return source, target, produced

    async def _steps(
        self, spec: TransitionSpec[CaseT], data: Any, actor: str, *, after_move: bool
    ) -> ArtefactRef | None:
        produced: ArtefactRef | None = None
        for name in spec.effects:
            step = self._workflow_effects.get(name)
            if step is not None and self.definition.effects[name].after_move == after_move:
                produced = await step(actor, data) or produced
        return produced

    async def _moved(self, spec: TransitionSpec[CaseT], actor: str, reason: str | None) -> None:
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
        self.case.as_of = workflow.now()  # rules about dates read it
        pending = self.case.pending
        if pending is not None:
            spec = self.definition.transition(pending.trigger)
            assert spec is not None
            if not self.machine.is_legal(pending.trigger):
                self.case.pending = None  # the case moved on another way
            elif not self._still_authorised(pending, spec):
                self.case.pending = None
            else:
                data = self._validated(spec.data, pending.data, f"data for {pending.trigger}")
                still = spec.defer(self.case, data) if spec.defer else None
                if still is None and not self._blocked(spec, data):
                    try:
                        source, target, _ = await self._move(spec, data, pending.actor)
                    except OsomError as err:  # it stays held; the next change tries again
                        workflow.logger.warning(
                            "pending.failed", extra={"trigger": pending.trigger, "error": err.type}
                        )
                        self.refresh()
                        return
                    reason = (
                        f"{spec.id} {pending.trigger} approved by {pending.actor} "
                        f"(decision {pending.decision_id}) applies now: {pending.waiting_for} "
                        "arrived"
                    )
                    self.audit(SYSTEM, pending.trigger, source, target, "system", reason)
                    await self._moved(spec, pending.actor, pending.reason)
                    return
        self.refresh()

    def _still_authorised(self, pending: PendingMove, spec: TransitionSpec[CaseT]) -> bool:
        """Whether the person who approved a held move may still make it (the directory may
        have been reloaded since); if not, the move is dropped and the audit log says so."""
        try:
            self.case.directory.authorise(
                pending.actor, spec.permits, self.case.relations(), f"fire {spec.id}"
            )
        except OsomError as err:
            reason = f"held {pending.trigger} (decision {pending.decision_id}) dropped: {err}"
            self.audit(SYSTEM, pending.trigger, self.case.state, self.case.state, "system", reason)
            return False
        return True

    def _blocked(self, spec: TransitionSpec[CaseT], data: Any) -> bool:
        """Whether the move's requirements or guards fail now (a held move then keeps waiting)."""
        missing, problems = self._what_stops(spec, data)
        return bool(missing or problems)

    def _what_stops(self, spec: TransitionSpec[CaseT], data: Any) -> tuple[list[str], list[str]]:
        """What the move lacks (artefacts, labelled) and which rules refuse it."""
        case = self.case
        missing = [
            f"{r.label}: {p}" for r in spec.requires if not r.condition for p in r.check(case)
        ]
        problems = [p for r in spec.requires if r.condition for p in r.check(case)]
        problems += [p for g in spec.guards for p in g.check(case, data)]
        return missing, problems

    async def apply_submission(self, cmd: ArtefactSubmission) -> CommandResult:
        if (earlier := self.replayed(cmd)) is not None:
            return earlier
        checked = self.check_submission(cmd)
        spec = self.definition.artefact(cmd.kind)
        assert spec is not None
        current = self.case.artefacts.get(cmd.kind)
        version = current.version + 1 if current else 1
        ref = await self.store(workflow.info().workflow_id, cmd.kind, version, checked.data)
        spec.record(self.case, checked.data, cmd.actor)
        self.case.artefacts[cmd.kind] = ref
        state = self.case.state
        message = f"{spec.label} accepted as version {version}"
        result = self._accepted(cmd, checked.acting, state, state, message, ref)
        await self.settle()
        return result

    async def apply_reload(self, cmd: DirectoryReload) -> CommandResult:
        if (earlier := self.replayed(cmd)) is not None:
            return earlier
        checked = self.check_reload(cmd)
        try:
            self.case.directory = await call(
                "load_directory", result_type=Directory, summary="reload the directory of people"
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

    # -- side effects through activities --------------------------------------------------------

    async def store(
        self, case_id: str, kind: str, version: int, artefact: BaseModel
    ) -> ArtefactRef:
        request = StoreRequest(
            case_id=case_id, kind=kind, version=version, content=artefact.model_dump(mode="json")
        )
        try:
            ref = await call(
                "store_artefact",
                request,
                result_type=ArtefactRef,
                summary=f"store {kind} v{version}",
                start_to_close=STORE_TIMEOUT,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == ArtefactConflict.__name__:
                raise ArtefactConflict(cause.message) from err
            raise OsomError(f"could not store {kind} v{version}: {cause}") from err
        return ref

    async def read_stored(self, ref: ArtefactRef, model: type[M], summary: str) -> M | None:
        """A stored artefact version read back (its sha256 checked) as ``model``; None if it
        cannot be read or is not one. Other cases' messages are trusted only this way."""
        try:
            content = await call("read_artefact", ref, result_type=dict, summary=summary)
            return model.model_validate(content)
        except (ActivityError, ValidationError) as err:
            workflow.logger.warning(
                "artefact.unreadable", extra={"path": ref.json_path, "error": str(err)}
            )
            return None

    async def stored_contract(self, ref: ArtefactRef, service_id: str) -> ServiceContract | None:
        """A service's contract version as its lifecycle stored it (for the cases that follow
        the service: its open assessments and Corrections of Error)."""
        if ref.kind != "service_contract" or f"service/{service_id}/service_contract/" not in (
            ref.json_path
        ):
            return None
        summary = f"read {service_id}'s contract v{ref.version}"
        contract = await self.read_stored(ref, ServiceContract, summary)
        if contract is None or contract.service_id != service_id or contract.version != ref.version:
            return None
        return contract

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
        if not to:
            return
        self.outbox.add(
            Notification(
                id=f"{len(self.case.audit):04d}-{workflow.uuid4().hex[:8]}",
                case_id=workflow.info().workflow_id,
                kind=kind,
                to=sorted(set(to)),
                subject=subject,
                body=body,
                at=workflow.now(),
            )
        )

    def has_queued_notifications(self) -> bool:
        return self.outbox.busy

    async def deliver_notifications(self) -> None:
        """Send queued notifications until the case is final and every handler is done (a
        move that ends the case queues its notifications after its last step)."""
        await self.outbox.deliver(lambda: self.final() and workflow.all_handlers_finished())

    # -- deadlines -------------------------------------------------------------------------------

    async def keep_deadlines(self) -> None:
        """Remind and escalate on the running clocks until the case reaches a final state."""
        await self.keep_timer(self._deadline_key, self._clock_fired, self._clock_summary)

    async def keep_timer(
        self,
        next_event: Callable[[], TimerEvent | None],
        fire: Callable[[str, str], Awaitable[None]],
        summary: Callable[[str, str], str],
    ) -> None:
        """Until the case is final: sleep until ``next_event`` (when, what, which kind), or until
        that changes; then, under the lock and if it is still the next event, ``fire`` it.
        Commands that leave the next event as it is do not touch the timer, so a busy case does
        not fill its history with cancelled and restarted timers."""
        while not self.final():
            await self._next_timer(next_event, fire, summary)

    async def _next_timer(
        self,
        next_event: Callable[[], TimerEvent | None],
        fire: Callable[[str, str], Awaitable[None]],
        summary: Callable[[str, str], str],
    ) -> None:
        key = next_event()
        if key is None:
            await workflow.wait_condition(lambda: next_event() != key or self.final())
            return
        name, at, kind = key
        try:
            await workflow.wait_condition(
                lambda: next_event() != key,
                timeout=max(at - workflow.now(), timedelta(seconds=1)),
                timeout_summary=summary(name, kind),
            )
        except TimeoutError:
            async with self.lock:
                if next_event() == key:
                    await fire(name, kind)

    def final(self) -> bool:
        return self.definition.state(self.case.state).terminal

    def _deadline_key(self) -> TimerEvent | None:
        """What the deadline timer waits for: the first clock, when its event is, and which."""
        if self.final():
            return None
        return _deadlines.next_deadline(self.case)

    def _clock_summary(self, name: str, kind: str) -> str:
        return f"{self.case.clocks[name].label}: {kind}"

    async def _clock_fired(self, name: str, kind: str) -> None:
        case = self.case
        clock = case.clocks[name]
        spec = self.definition.clock(name)
        policy = _deadlines.clock_policy(self.definition, case, name)
        if kind == "escalate" and spec.on_due:
            # A recurring duty (the periodic assessment, the metric check): do it, start over.
            del case.clocks[name]
            self.audit(
                SYSTEM, f"deadline_{spec.on_due}", case.state, case.state, "system", clock.label
            )
            try:
                await self._workflow_effects[spec.on_due](SYSTEM.person, None)
            except (OsomError, FailureError) as err:  # the clock starts over; it tries again
                workflow.logger.warning("deadline.duty_failed", extra={"duty": spec.on_due})
                self.audit(
                    SYSTEM,
                    f"deadline_{spec.on_due}",
                    case.state,
                    case.state,
                    "system",
                    f"could not be done: {err}",
                )
            await self.settle()
            return
        escalation = kind == "escalate"
        overdue = workflow.now() >= clock.due_at
        verb = "ESCALATED: overdue" if escalation else ("Overdue" if overdue else "Reminder")
        self.notify(
            "escalation" if escalation else "reminder",
            _view.people_holding(self.case, spec.escalate_to if escalation else spec.remind),
            f"{verb}: {clock.label} for {case.case_id} by {clock.due_at:%Y-%m-%d}",
            f"{case.title} is {case.state}.\n" + _view.blocker_summary(self.status()),
        )
        reminders = policy.reminder_wd if policy else None
        case.clocks[name] = _clock.after_event(clock, kind, reminders, workflow.now())
        self.audit(SYSTEM, f"deadline_{kind}", case.state, case.state, "system", clock.label)
        await self.settle()

    def refresh(self) -> None:
        """Start, keep or stop the deadline clocks for the case as it is now, and show it."""
        self.case.clocks = _deadlines.reconcile(self.definition, self.case, workflow.now())
        self.publish_status()

    # -- audit and what the operator sees -------------------------------------------------------

    def audit(
        self,
        acting: ActingAs,
        command: str,
        source: str,
        target: str,
        outcome: Literal["accepted", "system"],
        reason: str | None,
        decision_id: str | None = None,
    ) -> None:
        self.case.audit.append(
            AuditEntry(
                at=workflow.now(),
                actor=acting.person,
                role=acting.role,
                command=command,
                from_state=source,
                to_state=target,
                outcome=outcome,
                decision_id=decision_id,
                reason=reason,
                artefact_versions=self.case.artefact_versions(),
            )
        )

    def record_refusal(self, sender: SignalSender, err: OsomError) -> None:
        """A refused signal, as its sender claimed to be (unverified), with the reason."""
        case = self.case
        workflow.logger.info(
            "decision.refused",
            extra={"command": sender.command, "error_type": err.type, "actor": sender.actor},
        )
        case.refused_signals += 1
        if case.refused_signals > MAX_RECORDED_REFUSALS:
            return
        case.audit.append(
            AuditEntry(
                at=workflow.now(),
                actor=sender.actor,
                role="unverified",
                command=sender.command,
                from_state=case.state,
                to_state=case.state,
                outcome="refused",
                decision_id=sender.decision_id,
                error_type=err.type,
                message=err.message,
                artefact_versions=case.artefact_versions(),
            )
        )
        self.publish_status()

    def status(self) -> CaseStatus:
        with self._looking():
            self.case.as_of = workflow.now()  # conditions such as "the date has come" read it
            return _view.case_status(
                self.definition,
                self.case,
                workflow.info().workflow_id,
                self.machine.legal_triggers(),
            )

    def publish_status(self) -> None:
        """Mirror the case into its search attributes and the Web UI's current details."""
        status = self.status()
        workflow.upsert_search_attributes(_visibility.updates_for(status))
        names = {p.id: p.name for p in self.case.directory.people}
        page = _visibility.case_page(status, _view.last_decisions(self.case), names)
        workflow.set_current_details(page)

    def people_triggers(self) -> list[str]:
        return _view.people_triggers(self.definition, self.machine.legal_triggers())

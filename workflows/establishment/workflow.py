"""The durable workflow of one proposal: a thin Temporal adapter over the process definition.

Commands arrive as updates (checked by a validator before anything reaches history) or as signals
(same checks; a refusal is recorded in the audit log). The handler re-checks under the case lock,
stores artefacts, fires the trigger, appends the audit entry and sends notifications.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from activities.artefact_store import StoreRequest
    from activities.directory import CaseContext
    from activities.notifications import Notification
    from models.audit import AuditEntry
    from models.case_view import BlockerView, CaseStatus, DeadlineView, EstablishmentOutcome
    from models.commands import (
        ArtefactRef,
        ArtefactSubmission,
        CommandResult,
        Decision,
        DirectoryReload,
    )
    from models.contract import LifecycleStage
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
    from models.establishment import (
        EstablishmentCase,
        NewServiceInput,
    )
    from models.people import ActingAs, CaseRole, Directory, Permit, Role
    from models.policy import Policy
    from workflows import _clock, _visibility
    from workflows._definition import TransitionSpec
    from workflows._errors import refusal
    from workflows._machine import ProcessMachine
    from workflows.establishment.definition import ESTABLISHMENT, check_demand

Command = TypeVar("Command", Decision, ArtefactSubmission, DirectoryReload)

DEFINITION = ESTABLISHMENT
PROCESS = DEFINITION.name
ACTIVITY_TIMEOUT = timedelta(seconds=30)
# Bounded retries: a handler waiting on an activity holds the case lock, so a broken store or
# directory must end in a refusal, not an endless retry.
BOUNDED_RETRY = RetryPolicy(maximum_attempts=5)
# Effects the workflow performs itself; every other effect is a notification (definition data).
WORKFLOW_EFFECTS = frozenset({"publish_contract"})
# Refused signals are recorded up to this many; past it they are only counted, so a sender
# retrying a bad signal forever cannot grow the history without bound.
MAX_RECORDED_REFUSALS = 100
# Who may make a running case take in a changed directory of people.
DIRECTORY_KEEPERS = (Permit(role=Role.EXEC), Permit(role=Role.ETM))


class _Checked(BaseModel):
    """A command that passed every check, with how the actor acts and its validated data."""

    acting: ActingAs
    data: Any = None


# A start input that fails validation (say, from the Web UI's form) fails the case with the
# field messages instead of retrying its first task forever. Commands validate their own input.
@workflow.defn(name="NewService", failure_exception_types=[ValidationError])
class NewServiceWorkflow:
    """One proposal for a new service, from demand raised to established (DOMAIN §9.3)."""

    @workflow.init
    def __init__(self, input: NewServiceInput) -> None:
        self._input = input
        self._case: EstablishmentCase | None = None
        self._lock = asyncio.Lock()
        self._machine: ProcessMachine | None = None
        if input.policy is not None and input.directory is not None:
            self._load(input, input.directory, input.policy)

    # -- run: load context, then keep the deadlines until the case ends ------------------------

    @workflow.run
    async def run(self, input: NewServiceInput) -> EstablishmentOutcome:
        expected_id = f"new-service/{input.proposal.id}"
        if self._case_id() != expected_id:
            raise refusal(
                GuardFailed(
                    f"a proposal's case id is {expected_id}, not {self._case_id()}",
                    problems=["workflow id must be new-service/<proposal id>"],
                )
            )
        if self._case is None:
            context = await workflow.execute_activity(
                "load_case_context",
                result_type=CaseContext,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=BOUNDED_RETRY,
                summary="load the directory and the policy in force",
            )
            self._load(input, input.directory or context.directory, input.policy or context.policy)
        case = self._require_case()
        try:
            acting = check_demand(case.proposal, input.proposer, case.directory)
        except OsomError as err:
            raise refusal(err) from err
        self._audit(acting, "demand_raised", "", case.state, "accepted", reason=None)
        self._enter_state(case.state)
        await self._run_effects(
            DEFINITION.start_effects,
            f"New proposal {case.proposal.id}: {case.proposal.name}",
            f"{case.proposal.summary}\nRaised by {input.proposer}; waiting for triage.",
        )
        while not DEFINITION.state(case.state).terminal:
            await self._wait_for_change_or_deadline()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if case.state != "ESTABLISHED":
            return EstablishmentOutcome(state=case.state, service_id=None, contract=None)
        return EstablishmentOutcome(
            state=case.state,
            service_id=case.service_id,
            contract=case.artefacts.get("service_contract"),
        )

    async def _wait_for_change_or_deadline(self) -> None:
        """Sleep until the running clock's next event, or until the clock itself changes.

        Commands that leave the clock as it is do not touch the timer, so a busy case does not
        fill its history with cancelled and restarted timers.
        """
        case = self._require_case()
        key = self._deadline_key()
        if key is None:
            await workflow.wait_condition(
                lambda: self._deadline_key() != key or DEFINITION.state(case.state).terminal
            )
            return
        label, at, kind = key
        try:
            await workflow.wait_condition(
                lambda: self._deadline_key() != key,
                timeout=max(at - workflow.now(), timedelta(seconds=1)),
                timeout_summary=f"{label}: {kind}",
            )
        except TimeoutError:
            async with self._lock:
                if self._deadline_key() == key:
                    await self._clock_fired(kind)

    def _deadline_key(self) -> tuple[str, datetime, str] | None:
        """What the deadline timer waits for: the clock, when its next event is, and which."""
        case = self._require_case()
        if case.clock is None or DEFINITION.state(case.state).terminal:
            return None
        at, kind = _clock.next_event(case.clock)
        return case.clock.label, at, kind

    async def _clock_fired(self, kind: str) -> None:
        case = self._require_case()
        clock = case.clock
        if clock is None:
            return
        spec = DEFINITION.clock(clock.name)
        policy = case.policy.clock(PROCESS, clock.name)
        permits = spec.escalate_to if kind == "escalate" else spec.remind
        overdue = workflow.now() >= clock.due_at
        verb = (
            "ESCALATED: overdue" if kind == "escalate" else ("Overdue" if overdue else "Reminder")
        )
        await self._notify(
            "escalation" if kind == "escalate" else "reminder",
            self._people(permits),
            f"{verb}: {clock.label} for {case.proposal.id} by {clock.due_at:%Y-%m-%d}",
            f"{case.proposal.name} is {case.state}. " + self._blocker_summary(),
        )
        case.clock = _clock.after_event(clock, kind, policy, workflow.now())
        system = ActingAs(person="SYSTEM", role="SYSTEM")
        self._audit(
            system, f"deadline_{kind}", case.state, case.state, "system", reason=clock.label
        )
        self._publish_status()

    # -- updates and signals ------------------------------------------------------------------

    @workflow.update(
        name="decide",
        description="Fire a trigger of the process (refused with a typed error if not allowed).",
    )
    async def decide(self, cmd: Decision) -> CommandResult:
        return await self._handle(cmd, self._apply_decision)

    @decide.validator
    def _validate_decide(self, cmd: Decision) -> None:
        self._validate(cmd, self._check_decision)

    @workflow.update(
        name="submit",
        description="Submit a new artefact version (refused with field-level messages if invalid).",
    )
    async def submit(self, cmd: ArtefactSubmission) -> CommandResult:
        return await self._handle(cmd, self._apply_submission)

    @submit.validator
    def _validate_submit(self, cmd: ArtefactSubmission) -> None:
        self._validate(cmd, self._check_submission)

    @workflow.update(
        name="reload_directory",
        description="Take in the directory as the worker reads it now (the policy stays pinned).",
    )
    async def reload_directory(self, cmd: DirectoryReload) -> CommandResult:
        return await self._handle(cmd, self._apply_reload)

    @reload_directory.validator
    def _validate_reload(self, cmd: DirectoryReload) -> None:
        self._validate(cmd, self._check_reload)

    def _validate(self, cmd: Command, check: Callable[[Command], object]) -> None:
        """Refuse before anything reaches history; a repeat of an applied id passes through."""
        if self._case is None:
            return  # the handler checks once the case has loaded
        try:
            if self._replayed(cmd) is None:
                check(cmd)
        except OsomError as err:
            raise refusal(err) from err

    async def _handle(
        self, cmd: Command, apply: Callable[[Command], Awaitable[CommandResult]]
    ) -> CommandResult:
        """Apply under the case lock, checking again: the state may have moved since validation."""
        await workflow.wait_condition(lambda: self._case is not None)
        async with self._lock:
            try:
                return await apply(cmd)
            except OsomError as err:
                raise refusal(err) from err

    def _replayed(
        self, cmd: Decision | ArtefactSubmission | DirectoryReload
    ) -> CommandResult | None:
        """The first answer to this decision id, or None if it is new; refuse reuse for another
        command, which would otherwise be reported as done without being done."""
        earlier = self._require_case().applied.get(cmd.decision_id)
        if earlier is None:
            return None
        if earlier.command != cmd.name():
            raise DecisionIdReused(
                f"decision id {cmd.decision_id} was already used for {earlier.command}; "
                f"send {cmd.name()} with a new id",
                decision_id=cmd.decision_id,
            )
        return earlier.model_copy(update={"replayed": True})

    @workflow.signal(
        name="decide_signal",
        description="Fire-and-forget form of ``decide``: a refusal is recorded in the audit log.",
    )
    async def decide_signal(self, payload: dict[str, Any]) -> None:
        await self._signalled(Decision, payload, self._apply_decision)

    @workflow.signal(
        name="submit_signal",
        description="Fire-and-forget form of ``submit``: a refusal is recorded in the audit log.",
    )
    async def submit_signal(self, payload: dict[str, Any]) -> None:
        await self._signalled(ArtefactSubmission, payload, self._apply_submission)

    async def _signalled(
        self,
        model: type[Command],
        payload: dict[str, Any],
        apply: Callable[[Command], Awaitable[CommandResult]],
    ) -> None:
        """A signal takes any JSON, so that even a malformed one is recorded as refused."""
        await workflow.wait_condition(lambda: self._case is not None)
        async with self._lock:
            try:
                try:
                    cmd = model.model_validate(payload)
                except ValidationError as err:
                    raise invalid(f"the {model.__name__} signal", err) from err
                await apply(cmd)
            except OsomError as err:
                self._record_refusal(payload, model.__name__, err)

    # -- queries ------------------------------------------------------------------------------

    @workflow.query(
        name="status",
        description="State, blockers, who the case waits for, the deadline, recent audit entries.",
    )
    def status(self) -> CaseStatus:
        return self._status() if self._case else self._starting_status()

    @workflow.query(
        name="blockers",
        description="Each way forward from the current state: who may take it, what is missing.",
    )
    def blockers(self) -> list[BlockerView]:
        return self._status().blockers if self._case else []

    @workflow.query(
        name="audit_log",
        description="Every accepted move, deadline event and refused signal, oldest first.",
    )
    def audit_log(self) -> list[AuditEntry]:
        return list(self._case.audit) if self._case else []

    @workflow.query(
        name="decision_result",
        description="The answer a decision id got, if applied (also after the case has finished).",
    )
    def decision_result(self, decision_id: str) -> CommandResult | None:
        applied = self._case.applied.get(decision_id) if self._case else None
        return applied.model_copy(update={"replayed": True}) if applied else None

    @workflow.query(
        name="diagram",
        description="The process as a Mermaid state diagram with the current state highlighted.",
    )
    def diagram(self) -> str:
        return DEFINITION.mermaid(current=self._case.state if self._case else None)

    # -- checks: pure functions of the case state, shared by validators and handlers ----------

    def _check_decision(self, cmd: Decision) -> _Checked:
        case = self._require_case()
        spec = DEFINITION.transition(cmd.trigger)
        if spec is None:
            known = ", ".join(t.trigger for t in DEFINITION.transitions)
            raise IllegalTransition(
                f"'{cmd.trigger}' is not a trigger of {DEFINITION.title}; triggers: {known}",
                trigger=cmd.trigger,
            )
        self._check_open(cmd.trigger)
        if not self._state_machine().is_legal(cmd.trigger):
            legal = ", ".join(self._state_machine().legal_triggers())
            raise IllegalTransition(
                f"{spec.id} {cmd.trigger} is not possible from {case.state}; "
                f"possible from here: {legal}",
                trigger=cmd.trigger,
                state=case.state,
            )
        acting = case.directory.authorise(
            cmd.actor, spec.permits, self._relations(), f"fire {spec.id} {cmd.trigger}"
        )
        if spec.reason_required and not cmd.reason:
            raise GuardFailed(
                f"{spec.id} {cmd.trigger} needs a reason", problems=["a reason is required"]
            )
        data = self._validated(spec.data, cmd.data, f"data for {cmd.trigger}")
        self._check_requirements(spec)
        problems = [p for g in spec.guards for p in g.check(case, data)]
        if problems:
            raise GuardFailed(
                f"{spec.id} {cmd.trigger} refused: {'; '.join(problems)}", problems=problems
            )
        return _Checked(acting=acting, data=data)

    def _check_requirements(self, spec: TransitionSpec[EstablishmentCase]) -> None:
        case = self._require_case()
        missing = [f"{r.label}: {p}" for r in spec.requires for p in r.check(case)]
        if missing:
            raise ArtefactsMissing(
                f"{spec.id} {spec.trigger} needs: " + "; ".join(missing), missing=missing
            )

    def _check_submission(self, cmd: ArtefactSubmission) -> _Checked:
        case = self._require_case()
        spec = DEFINITION.artefact(cmd.kind)
        if spec is None:
            kinds = ", ".join(a.kind for a in DEFINITION.artefacts)
            raise InvalidArtefact(
                f"'{cmd.kind}' is not an artefact of {DEFINITION.title}; it takes: {kinds}",
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
            cmd.actor, spec.permits, self._relations(), f"submit a {cmd.kind}"
        )
        artefact = self._validated(spec.model, cmd.content, spec.label)
        problems = [p for g in spec.guards for p in g.check(case, artefact)]
        if problems:
            raise GuardFailed(f"{spec.label} refused: {'; '.join(problems)}", problems=problems)
        return _Checked(acting=acting, data=artefact)

    def _check_reload(self, cmd: DirectoryReload) -> ActingAs:
        case = self._require_case()
        self._check_open("reload the directory")
        return case.directory.authorise(cmd.actor, DIRECTORY_KEEPERS, {}, "reload the directory")

    def _check_open(self, what: str) -> None:
        case = self._require_case()
        if DEFINITION.state(case.state).terminal:
            raise CaseClosed(
                f"{case.proposal.id} is {case.state}, a final state: '{what}' is not possible",
                state=case.state,
            )

    def _validated(self, model: type[BaseModel] | None, payload: dict[str, Any], what: str) -> Any:
        case = self._require_case()
        size = payload_size(payload)
        limit = case.policy.max_payload_bytes
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

    # -- applying accepted commands ----------------------------------------------------------

    async def _apply_decision(self, cmd: Decision) -> CommandResult:
        case = self._require_case()
        if (earlier := self._replayed(cmd)) is not None:
            return earlier
        checked = self._check_decision(cmd)
        spec = DEFINITION.transition(cmd.trigger)
        assert spec is not None
        source = case.state
        published: ArtefactRef | None = None
        if "publish_contract" in spec.effects:  # in WORKFLOW_EFFECTS: done before the move
            published = await self._publish_contract(cmd.actor)
        if spec.record is not None:
            spec.record(case, checked.data, cmd.actor)
        target = self._state_machine().fire(cmd.trigger)
        self._audit(
            checked.acting, cmd.trigger, source, target, "accepted", cmd.reason, cmd.decision_id
        )
        result = CommandResult(
            decision_id=cmd.decision_id,
            command=cmd.trigger,
            from_state=source,
            to_state=target,
            message=f"{spec.id} {cmd.trigger} applied: {source} -> {target}",
            artefact=published,
        )
        case.applied[cmd.decision_id] = result
        self._enter_state(target, changed_from=source)
        await self._run_effects(
            spec.effects,
            f"{case.proposal.id} {case.proposal.name}: {spec.description} ({case.state})",
            f"{spec.id} {cmd.trigger} by {cmd.actor}."
            + (f" Reason: {cmd.reason}" if cmd.reason else ""),
        )
        return result

    async def _apply_submission(self, cmd: ArtefactSubmission) -> CommandResult:
        case = self._require_case()
        if (earlier := self._replayed(cmd)) is not None:
            return earlier
        checked = self._check_submission(cmd)
        spec = DEFINITION.artefact(cmd.kind)
        assert spec is not None
        version = case.artefacts[cmd.kind].version + 1 if cmd.kind in case.artefacts else 1
        ref = await self._store(self._case_id(), cmd.kind, version, checked.data)
        spec.record(case, checked.data, cmd.actor)
        case.artefacts[cmd.kind] = ref
        self._audit(
            checked.acting,
            f"submit:{cmd.kind}",
            case.state,
            case.state,
            "accepted",
            cmd.reason,
            cmd.decision_id,
        )
        result = CommandResult(
            decision_id=cmd.decision_id,
            command=f"submit:{cmd.kind}",
            from_state=case.state,
            to_state=case.state,
            message=f"{spec.label} accepted as version {version}",
            artefact=ref,
        )
        case.applied[cmd.decision_id] = result
        self._publish_status()
        return result

    async def _apply_reload(self, cmd: DirectoryReload) -> CommandResult:
        case = self._require_case()
        if (earlier := self._replayed(cmd)) is not None:
            return earlier
        acting = self._check_reload(cmd)
        try:
            case.directory = await workflow.execute_activity(
                "load_directory",
                result_type=Directory,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=BOUNDED_RETRY,
                summary="reload the directory of people",
            )
        except ActivityError as err:
            raise DirectoryUnavailable(
                f"the directory could not be reloaded, the case keeps the one it had: {err.cause}"
            ) from err
        self._audit(
            acting,
            "directory_reloaded",
            case.state,
            case.state,
            "accepted",
            cmd.reason,
            cmd.decision_id,
        )
        result = CommandResult(
            decision_id=cmd.decision_id,
            command="reload_directory",
            from_state=case.state,
            to_state=case.state,
            message=f"directory reloaded: {len(case.directory.people)} people",
        )
        case.applied[cmd.decision_id] = result
        self._publish_status()
        return result

    async def _publish_contract(self, actor: str) -> ArtefactRef:
        """E10: contract v1, stage DISCOVERY, under the new service's own folder."""
        case = self._require_case()
        assert case.contract is not None
        contract = case.contract.model_copy(
            update={
                "version": 1,
                "published_at": workflow.now(),
                "published_by": actor,
                "service_manager": case.service_manager,
                "lifecycle_stage": LifecycleStage.DISCOVERY,
            }
        )
        try:
            ref = await self._store(
                f"service/{contract.service_id}", "service_contract", 1, contract
            )
        except ArtefactConflict as err:
            raise GuardFailed(
                f"{contract.service_id} has already been published by another case: choose "
                "another service_id in the contract draft",
                problems=[f"service id {contract.service_id} is taken"],
            ) from err
        case.contract = contract
        case.artefacts["service_contract"] = ref
        return ref

    async def _store(
        self, case_id: str, kind: str, version: int, artefact: BaseModel
    ) -> ArtefactRef:
        request = StoreRequest(
            case_id=case_id, kind=kind, version=version, content=artefact.model_dump(mode="json")
        )
        try:
            ref: ArtefactRef = await workflow.execute_activity(
                "store_artefact",
                request,
                result_type=ArtefactRef,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=BOUNDED_RETRY,
                summary=f"store {kind} v{version}",
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == ArtefactConflict.__name__:
                raise ArtefactConflict(cause.message) from err
            raise OsomError(f"could not store {kind} v{version}: {cause}") from err
        return ref

    # -- effects -------------------------------------------------------------------------------

    async def _run_effects(self, names: tuple[str, ...], subject: str, body: str) -> None:
        """Send the notifications among ``names`` (the definition says to whom)."""
        case = self._require_case()
        for name in names:
            recipients = DEFINITION.effects[name].recipients
            to = recipients(case) if recipients else []
            if to:
                await self._notify("info", to, subject, body)

    async def _notify(self, kind: str, to: list[str], subject: str, body: str) -> None:
        """Best effort: a notification that cannot be sent is logged, never undoes a decision."""
        case = self._require_case()
        notification = Notification(
            id=f"{len(case.audit):04d}-{workflow.uuid4().hex[:8]}",
            case_id=self._case_id(),
            kind=kind,
            to=sorted(set(to)),
            subject=subject,
            body=body,
            at=workflow.now(),
        )
        try:
            await workflow.execute_activity(
                "notify",
                notification,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=BOUNDED_RETRY,
                summary=subject[:200],
            )
        except ActivityError:
            workflow.logger.warning("notification failed", extra={"subject": subject})

    # -- state, audit and what the operator sees -----------------------------------------------

    def _enter_state(self, state: str, changed_from: str | None = None) -> None:
        case = self._require_case()
        clock_name = DEFINITION.state(state).clock
        running = case.clock.name if case.clock else None
        if clock_name != running:
            case.clock = None
            if clock_name:
                label = DEFINITION.clock(clock_name).label
                policy = case.policy.clock(PROCESS, clock_name)
                case.clock = _clock.start_clock(clock_name, label, workflow.now(), policy)
        self._publish_status()

    def _publish_status(self) -> None:
        status = self._status()
        workflow.upsert_search_attributes(_visibility.updates_for(status))
        last = next(
            (e for e in reversed(self._require_case().audit) if e.outcome == "accepted"), None
        )
        summary = (
            f"{last.command} by {last.actor} as {last.role} at {last.at:%Y-%m-%d %H:%M}"
            + (f" — {last.reason}" if last.reason else "")
            if last
            else None
        )
        names = {p.id: p.name for p in self._require_case().directory.people}
        workflow.set_current_details(_visibility.case_page(status, summary, names))

    def _status(self) -> CaseStatus:
        case = self._require_case()
        state = DEFINITION.state(case.state)
        blockers = [] if state.terminal else DEFINITION.blockers(case, case.state)
        awaiting: list[str] = []
        for blocker in blockers:
            awaiting += [p.token() for p in blocker.permits] + self._people(blocker.permits)
        clock = case.clock
        return CaseStatus(
            workflow_id=self._case_id(),
            process=PROCESS,
            case_id=case.proposal.id,
            title=f"{case.proposal.id} {case.proposal.name}",
            service_id=case.service_id,
            state=case.state,
            state_description=state.description,
            terminal=state.terminal,
            awaiting=list(dict.fromkeys(awaiting)),
            blockers=[
                BlockerView(
                    id=b.id,
                    trigger=b.trigger,
                    description=b.description,
                    who=b.who,
                    missing=b.missing,
                )
                for b in blockers
            ],
            legal_triggers=[] if state.terminal else self._state_machine().legal_triggers(),
            deadline=DeadlineView(
                label=clock.label,
                due_at=clock.due_at,
                next_reminder_at=clock.next_reminder_at,
                reminders_sent=clock.reminders_sent,
                escalated=clock.escalated,
            )
            if clock
            else None,
            artefacts=dict(case.artefacts),
            recent=case.audit[-5:],
        )

    def _starting_status(self) -> CaseStatus:
        """What a case shows in its first moments, while its directory and policy load."""
        proposal = self._input.proposal
        return CaseStatus(
            workflow_id=self._case_id(),
            process=PROCESS,
            case_id=proposal.id,
            title=f"{proposal.id} {proposal.name}",
            service_id=None,
            state="STARTING",
            state_description="Loading the directory and the policy in force",
            terminal=False,
            awaiting=[],
            blockers=[],
            legal_triggers=[],
            deadline=None,
            artefacts={},
            recent=[],
        )

    def _blocker_summary(self) -> str:
        lines = [
            f"{b.id} {b.trigger}: "
            + ("; ".join(b.missing) if b.missing else f"ready for {', '.join(b.who)}")
            for b in self._status().blockers
        ]
        return "\n".join(lines)

    def _people(self, permits: tuple[Permit, ...]) -> list[str]:
        case = self._require_case()
        relations = self._relations()
        people: list[str] = []
        for permit in permits:
            if isinstance(permit.role, CaseRole):
                person = relations.get(permit.role)
                people += [person] if person else []
            else:
                people += case.directory.holders(permit)
        return list(dict.fromkeys(people))

    def _relations(self) -> dict[CaseRole, str | None]:
        case = self._require_case()
        return {
            CaseRole.PROPOSER: case.proposer,
            # The proposal may suggest a Service Manager; only the one appointed (E7) acts as one.
            CaseRole.APPOINTED_SM: case.service_manager,
        }

    def _audit(
        self,
        acting: ActingAs,
        command: str,
        source: str,
        target: str,
        outcome: str,
        reason: str | None,
        decision_id: str | None = None,
    ) -> None:
        case = self._require_case()
        case.audit.append(
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
                artefact_versions=case.artefact_versions(),
            )
        )

    def _record_refusal(self, payload: dict[str, Any], model: str, err: OsomError) -> None:
        case = self._require_case()
        actor = str(payload.get("actor", "?"))[:40]
        command = str(payload.get("trigger") or f"submit:{payload.get('kind', '?')}")[:80]
        decision_id = str(payload.get("decision_id", "?"))[:100]
        workflow.logger.info(
            "decision.refused", extra={"command": command, "error_type": err.type, "actor": actor}
        )
        case.refused_signals += 1
        if case.refused_signals > MAX_RECORDED_REFUSALS:
            return
        case.audit.append(
            AuditEntry(
                at=workflow.now(),
                actor=actor,
                role="unverified",
                command=command,
                from_state=case.state,
                to_state=case.state,
                outcome="refused",
                decision_id=decision_id,
                error_type=err.type,
                message=err.message,
                artefact_versions=case.artefact_versions(),
            )
        )
        self._publish_status()

    def _state_machine(self) -> ProcessMachine:
        if self._machine is None:
            raise RuntimeError("the case context is not loaded yet")
        return self._machine

    def _require_case(self) -> EstablishmentCase:
        if self._case is None:
            raise RuntimeError("the case context is not loaded yet")
        return self._case

    @staticmethod
    def _case_id() -> str:
        return workflow.info().workflow_id

    def _load(self, input: NewServiceInput, directory: Directory, policy: Policy) -> None:
        """Create the case state and its machine (once, before any handler reads them)."""
        case = EstablishmentCase(
            proposal=input.proposal, proposer=input.proposer, directory=directory, policy=policy
        )
        self._machine = ProcessMachine(
            DEFINITION, lambda: case.state, lambda state: setattr(case, "state", state)
        )
        self._case = case

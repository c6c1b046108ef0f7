"""The Temporal handlers every process's workflow shares, over its ``CaseEngine``.

Commands arrive as updates (checked by a validator before anything reaches history) or as signals
(same checks; a refusal is recorded in the audit log). A process's workflow class inherits these
handlers, opens its engine, and adds its own run method and steps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from models.activity_io import CaseContext
    from models.audit import AuditEntry
    from models.case_state import CaseState
    from models.case_view import BlockerView, CaseStatus
    from models.commands import ArtefactSubmission, CommandResult, Decision, DirectoryReload
    from models.errors import (
        CaseClosed,
        DirectoryUnavailable,
        GuardFailed,
        InvalidArtefact,
        OsomError,
    )
    from models.signals import DECIDE_SIGNAL, SUBMIT_SIGNAL
    from workflows._activity import call
    from workflows._arrivals import Arrivals
    from workflows._case import CaseEngine, WorkflowEffect
    from workflows._definition import ProcessDefinition
    from workflows._errors import refusal
    from workflows._signals import SignalSender, decoded_signal
    from workflows.activity_contracts import DirectoryActivities

CaseT = TypeVar("CaseT", bound=CaseState)
CommandT = TypeVar("CommandT", Decision, ArtefactSubmission, DirectoryReload)

SIGNALS = (
    "Every signal goes through this one handler, so that no payload (null, a list, binary, "
    "deeply nested, several values or none) can fail the case: decide_signal and submit_signal "
    "are the fire-and-forget forms of the decide and submit updates; other cases send their "
    "messages here too. A refused or malformed signal is recorded in the audit log as refused."
)


@dataclass(frozen=True)
class SignalRoute:
    """What a signal of one name carries and what the case does with it, in its turn.
    ``apply`` answers whether it changed the case; the case is then brought up to date (a held
    move nothing holds any more applies, the clocks and the view follow), as after any change."""

    model: type[BaseModel]
    apply: Callable[[Any], Awaitable[bool]]


def command_route(
    model: type[CommandT], apply: Callable[[CommandT], Awaitable[CommandResult]]
) -> SignalRoute:
    """The signal form of a command update; applying a command brings the case up to date."""

    async def applied(cmd: CommandT) -> bool:
        await apply(cmd)
        return False

    return SignalRoute(model, applied)


def _taken(cmd: object, model: type[CommandT], update: str) -> CommandT:
    """The update's command, or a typed refusal when a raw client sent something else (null)."""
    if not isinstance(cmd, model):
        raise refusal(
            InvalidArtefact(
                f"the {update} update takes one {model.__name__} object, not {type(cmd).__name__}",
                errors=[{"field": "(root)", "message": f"expected a {model.__name__}"}],
            )
        )
    return cmd


def let_go(child: asyncio.Future[Any]) -> None:
    """A child started with ABANDON lives on its own: its result (or its termination by an
    operator) is not this case's business, so it is read and dropped, not left unretrieved."""
    child.add_done_callback(lambda done: None if done.cancelled() else done.exception())


class CaseWorkflow(Generic[CaseT]):
    """Updates, signals and queries shared by every process. Commands wait until the case is
    open (its start accepted); a case refused at its start refuses them."""

    DEFINITION: ClassVar[ProcessDefinition[Any]]

    def __init__(self) -> None:
        self._engine: CaseEngine[CaseT] | None = None
        self._opened = False
        self._refused: OsomError | None = None
        self._arrivals = Arrivals()

    # -- updates and signals ------------------------------------------------------------------

    @workflow.update(
        name="decide",
        description="Fire a trigger of the process (refused with a typed error if not allowed).",
    )
    async def decide(self, cmd: Decision) -> CommandResult:
        async with self._command_turn() as engine:
            return await engine.handle(_taken(cmd, Decision, "decide"), engine.apply_decision)

    @decide.validator
    def _validate_decide(self, cmd: Decision) -> None:
        if engine := self._validating_engine():
            engine.validate(_taken(cmd, Decision, "decide"), engine.checks.decision)

    @workflow.update(
        name="submit",
        description="Submit a new artefact version (refused with field-level messages if invalid).",
    )
    async def submit(self, cmd: ArtefactSubmission) -> CommandResult:
        async with self._command_turn() as engine:
            submission = _taken(cmd, ArtefactSubmission, "submit")
            return await engine.handle(submission, engine.apply_submission)

    @submit.validator
    def _validate_submit(self, cmd: ArtefactSubmission) -> None:
        if engine := self._validating_engine():
            engine.validate(_taken(cmd, ArtefactSubmission, "submit"), engine.checks.submission)

    @workflow.update(
        name="reload_directory",
        description="Take in the directory as the worker reads it now (the policy stays pinned).",
    )
    async def reload_directory(self, cmd: DirectoryReload) -> CommandResult:
        async with self._command_turn() as engine:
            reload = _taken(cmd, DirectoryReload, "reload_directory")
            return await engine.handle(reload, engine.apply_reload)

    @reload_directory.validator
    def _validate_reload(self, cmd: DirectoryReload) -> None:
        if engine := self._validating_engine():
            engine.validate(_taken(cmd, DirectoryReload, "reload_directory"), engine.checks.reload)

    @workflow.signal(dynamic=True, description=SIGNALS)
    async def signal_received(self, name: str, args: Sequence[RawValue]) -> None:
        async with self._turn() as engine:
            if engine is None:  # refused at its start: its signals go with it
                return
            sender = SignalSender.of(name, args)
            try:
                route = self.signal_routes(engine).get(name)
                if route is None:
                    known = ", ".join(sorted(self.signal_routes(engine)))
                    raise InvalidArtefact(
                        f"'{name[:60]}' is not a signal of {self.DEFINITION.title}; "
                        f"signals: {known}",
                        errors=[{"field": "(signal)", "message": "unknown signal name"}],
                    )
                if await route.apply(decoded_signal(name, args, route.model)):
                    await engine.settle()
            except OsomError as err:
                engine.record_refusal(sender, err)

    def steps(self) -> dict[str, WorkflowEffect]:
        """The steps this workflow performs itself, by the effect names of its definition (the
        effects without recipients); the engine refuses to open a case if they differ."""
        return {}

    def signal_routes(self, engine: CaseEngine[CaseT]) -> dict[str, SignalRoute]:
        """The signals this process takes, by name; processes add the messages of other cases."""
        return {
            DECIDE_SIGNAL: command_route(Decision, engine.apply_decision),
            SUBMIT_SIGNAL: command_route(ArtefactSubmission, engine.apply_submission),
        }

    # -- queries ------------------------------------------------------------------------------

    @workflow.query(
        name="status",
        description="State, blockers, who the case waits for, the deadline, recent audit entries.",
    )
    def status(self) -> CaseStatus:
        return self._engine.status() if self._opened and self._engine else self._starting_status()

    @workflow.query(
        name="blockers",
        description="Each way forward from the current state: who may take it, what is missing.",
    )
    def blockers(self) -> list[BlockerView]:
        return self._engine.status().blockers if self._opened and self._engine else []

    @workflow.query(
        name="audit_log",
        description="Every accepted move, deadline event and refused signal, oldest first.",
    )
    def audit_log(self) -> list[AuditEntry]:
        return list(self._engine.case.audit) if self._engine else []

    @workflow.query(
        name="decision_result",
        description="The answer a decision id got, if applied (also after the case has finished).",
    )
    def decision_result(self, decision_id: str, fingerprint: str) -> CommandResult | None:
        """None unless that id was applied to a command with this fingerprint."""
        case = self._engine.case if self._engine else None
        if case is None or case.fingerprints.get(decision_id) != fingerprint:
            return None
        return case.applied[decision_id].model_copy(update={"replayed": True})

    @workflow.query(
        name="diagram",
        description="The process as a Mermaid state diagram with the current state highlighted.",
    )
    def diagram(self) -> str:
        return self.DEFINITION.mermaid(current=self._engine.case.state if self._engine else None)

    # -- shared plumbing ----------------------------------------------------------------------

    async def _load_context(self) -> CaseContext:
        """The directory and policy the worker serves, for a case started without them; a
        broken file refuses the case at once (the activity does not retry it)."""
        try:
            context = await call(
                DirectoryActivities.load_case_context,
                summary="load the directory and the policy in force",
            )
        except ActivityError as err:
            self._refused = DirectoryUnavailable(
                f"the case could not load its directory and policy: {err.cause}"
            )
            raise refusal(self._refused) from err
        return context

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[CaseEngine[CaseT] | None]:
        """Wait for this command's turn (every earlier one done, the case open), then hold the
        case lock while it is applied. The ticket is taken before the first await, in the order
        the server delivered the commands. None if the case was refused at its start."""
        ticket = self._arrivals.arrive()
        try:
            await workflow.wait_condition(
                lambda: (
                    self._arrivals.is_turn_of(ticket)
                    and (self._opened or self._refused is not None)
                )
            )
            if not self._opened:
                yield None
                return
            engine = self._ready()
            async with engine.lock:
                yield engine
        finally:
            self._arrivals.leave(ticket)

    @asynccontextmanager
    async def _command_turn(self) -> AsyncIterator[CaseEngine[CaseT]]:
        """As ``_turn``, for an update: a case refused at its start refuses it."""
        async with self._turn() as engine:
            if engine is None:
                message = self._refused.message if self._refused else "it did not open"
                raise refusal(
                    CaseClosed(f"{workflow.info().workflow_id} was refused at its start: {message}")
                )
            yield engine

    def _validating_engine(self) -> CaseEngine[CaseT] | None:
        """The engine an update validator checks against, or None to leave the check to the
        handler: before the case is open, and while earlier commands are in line (the case may
        be about to change)."""
        if self._opened and self._engine and not self._arrivals.busy:
            return self._engine
        return None

    def _require_id(self, expected: str, what: str, shape: str) -> None:
        """Refuse a start under any workflow id but the case's own (``what`` is, say, "a
        proposal's case id"; ``shape`` the id's form)."""
        actual = workflow.info().workflow_id
        if actual != expected:
            raise refusal(
                GuardFailed(
                    f"{what} is {expected}, not {actual}",
                    problems=[f"workflow id must be {shape}"],
                )
            )

    def _ready(self) -> CaseEngine[CaseT]:
        if self._engine is None:
            raise RuntimeError("the case context is not loaded yet")
        return self._engine

    def _starting_status(self) -> CaseStatus:
        """What a case shows in its first moments, before it is open."""
        case_id, title = self._starting_identity()
        return CaseStatus(
            workflow_id=workflow.info().workflow_id,
            process=self.DEFINITION.name,
            case_id=case_id,
            title=title,
            service_id=None,
            state="STARTING",
            state_description="Loading the directory and the policy in force",
            terminal=False,
            awaiting=[],
            blockers=[],
            legal_triggers=[],
            artefacts={},
            recent=[],
        )

    def _starting_identity(self) -> tuple[str, str]:
        """The case id and title to show before the case is open."""
        case_id = workflow.info().workflow_id.split("/", 1)[-1]
        return case_id, case_id

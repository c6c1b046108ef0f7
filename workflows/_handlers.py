"""The Temporal handlers every process's workflow shares, over its ``CaseEngine``.

Commands arrive as updates (checked by a validator before anything reaches history) or as signals
(same checks; a refusal is recorded in the audit log). A process's workflow class inherits these
handlers, opens its engine, and adds its own run method and steps.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, Generic, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.directory import CaseContext
    from models.audit import AuditEntry
    from models.case_state import CaseState
    from models.case_view import BlockerView, CaseStatus
    from models.commands import ArtefactSubmission, CommandResult, Decision, DirectoryReload
    from models.errors import CaseClosed, DirectoryUnavailable, OsomError
    from workflows._activity import call
    from workflows._case import CaseEngine
    from workflows._definition import ProcessDefinition
    from workflows._errors import refusal

CaseT = TypeVar("CaseT", bound=CaseState)


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

    # -- updates and signals ------------------------------------------------------------------

    @workflow.update(
        name="decide",
        description="Fire a trigger of the process (refused with a typed error if not allowed).",
    )
    async def decide(self, cmd: Decision) -> CommandResult:
        engine = await self._loaded()
        return await engine.handle(cmd, engine.apply_decision)

    @decide.validator
    def _validate_decide(self, cmd: Decision) -> None:
        if self._opened and self._engine:  # until then, the handler checks instead
            self._engine.validate(cmd, self._engine.check_decision)

    @workflow.update(
        name="submit",
        description="Submit a new artefact version (refused with field-level messages if invalid).",
    )
    async def submit(self, cmd: ArtefactSubmission) -> CommandResult:
        engine = await self._loaded()
        return await engine.handle(cmd, engine.apply_submission)

    @submit.validator
    def _validate_submit(self, cmd: ArtefactSubmission) -> None:
        if self._opened and self._engine:
            self._engine.validate(cmd, self._engine.check_submission)

    @workflow.update(
        name="reload_directory",
        description="Take in the directory as the worker reads it now (the policy stays pinned).",
    )
    async def reload_directory(self, cmd: DirectoryReload) -> CommandResult:
        engine = await self._loaded()
        return await engine.handle(cmd, engine.apply_reload)

    @reload_directory.validator
    def _validate_reload(self, cmd: DirectoryReload) -> None:
        if self._opened and self._engine:
            self._engine.validate(cmd, self._engine.check_reload)

    @workflow.signal(
        name="decide_signal",
        description="Fire-and-forget form of ``decide``: a refusal is recorded in the audit log.",
    )
    async def decide_signal(self, payload: dict[str, Any]) -> None:
        if engine := await self._signalled_engine():
            await engine.signalled(Decision, payload, engine.apply_decision)

    @workflow.signal(
        name="submit_signal",
        description="Fire-and-forget form of ``submit``: a refusal is recorded in the audit log.",
    )
    async def submit_signal(self, payload: dict[str, Any]) -> None:
        if engine := await self._signalled_engine():
            await engine.signalled(ArtefactSubmission, payload, engine.apply_submission)

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
                "load_case_context",
                result_type=CaseContext,
                summary="load the directory and the policy in force",
            )
        except ActivityError as err:
            self._refused = DirectoryUnavailable(
                f"the case could not load its directory and policy: {err.cause}"
            )
            raise refusal(self._refused) from err
        return context

    async def _loaded(self) -> CaseEngine[CaseT]:
        """The engine once the case is open; a refusal if the case was refused at its start."""
        await workflow.wait_condition(lambda: self._opened or self._refused is not None)
        if self._refused is not None:
            raise refusal(
                CaseClosed(
                    f"{workflow.info().workflow_id} was refused at its start: "
                    f"{self._refused.message}"
                )
            )
        return self._ready()

    async def _signalled_engine(self) -> CaseEngine[CaseT] | None:
        """As ``_loaded``; a signal to a case refused at its start is dropped with the case."""
        await workflow.wait_condition(lambda: self._opened or self._refused is not None)
        return self._engine if self._opened else None

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

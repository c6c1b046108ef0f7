"""The durable workflow of one Correction of Error (DOMAIN §5, §9.4.1-2), ``coe/<id>``.

It is opened by the service (CLI, an incident tool, anything that can start a workflow), runs
its drafting and publishing deadlines, tracks each corrective action's due date, is drawn into
the regular review by a review session, and tells its service's lifecycle which actions are
open, through a register it stores (the lifecycle trusts the store, not the signal).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import cast

from temporalio import workflow
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from models.assessment import ServiceChange
    from models.coe import CoeCase, CoeInput, CoeRecord, CoeRevision, ReviewDraw, ServiceProfile
    from models.coe_actions import ActionsRegister, CoeActionsNotice
    from models.commands import ArtefactRef, CommandResult
    from models.errors import CaseClosed, GuardFailed, IllegalTransition, OsomError
    from models.ids import REVIEW_PREFIX, coe_workflow_id, is_review_session, lifecycle_workflow_id
    from models.people import Directory
    from models.policy import Policy
    from models.signals import COE_ACTIONS_CHANGED, SERVICE_CHANGED
    from workflows import _records
    from workflows._activity import call
    from workflows._case import SYSTEM, CaseEngine, WorkflowEffect
    from workflows._errors import refusal
    from workflows._handlers import CaseWorkflow, SignalRoute
    from workflows._timers import TimerEvent
    from workflows.activity_contracts import OtherCaseActivities
    from workflows.correction_of_errors.actions import (
        ActionEvent,
        action_event,
        next_action_event,
    )
    from workflows.correction_of_errors.definition import COE
    from workflows.correction_of_errors.rules import actions_count, check_opening

# How long to wait before storing the actions register again after the store failed.
REGISTER_RETRY = timedelta(minutes=10)


class CoeOutcome(BaseModel):
    coe_id: str
    state: str
    document: ArtefactRef | None


@workflow.defn(name="CorrectionOfError", failure_exception_types=[ValidationError])
class CoeWorkflow(CaseWorkflow[CoeCase]):
    """One Correction of Error, from opened to closed (or voided)."""

    DEFINITION = COE

    @workflow.init
    def __init__(self, input: CoeInput) -> None:
        super().__init__()
        self._input = input

    @workflow.run
    async def run(self, input: CoeInput) -> CoeOutcome:
        self._require_id(coe_workflow_id(input.coe_id), "a CoE's case id", "coe/<coe id>")
        directory, policy = input.directory, input.policy
        if directory is None or policy is None:
            context = await self._load_context()
            directory, policy = directory or context.directory, policy or context.policy
        engine = await self._open(directory, policy)
        await asyncio.gather(
            engine.keep_deadlines(),
            engine.timers.keep(self._next_action_event, self._action_event, self._action_summary),
            engine.deliver_notifications(),
            engine.keep_record(),
            self._share_actions(),
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        case = engine.case
        return CoeOutcome(
            coe_id=input.coe_id, state=case.state, document=case.artefacts.get("coe_document")
        )

    def steps(self) -> dict[str, WorkflowEffect]:
        return {"store_version": self._store_version, "archive": self._archive}

    async def _open(self, directory: Directory, policy: Policy) -> CaseEngine[CoeCase]:
        """C1: find the service, check who opens the CoE, and start the drafting clocks."""
        input = self._input
        try:
            service = await self._service(input.service_id, directory)
            acting = check_opening(input, service, directory, workflow.now())
        except OsomError as err:
            self._refused = err
            raise refusal(err) from err
        case = CoeCase(request=input, service=service, directory=directory, policy=policy)
        engine = self._engine = CaseEngine(COE, case, self.steps())
        engine.started(acting, "coe_opened", input.problem)
        deadlines = "; ".join(
            f"{d.label} by {d.due_at:%Y-%m-%d}" for d in engine.status().deadlines
        )
        engine.notify(
            "info",
            [service.service_manager, directory.executive.id],
            f"CoE opened: {case.title}",
            f"Opened by {input.opened_by}. Write the document (coe_document) and publish it "
            f"(coe_published). {deadlines}.",
        )
        self._opened = True
        return engine

    async def _service(self, service_id: str, directory: Directory) -> ServiceProfile:
        """The service as its lifecycle knows it, else as the directory does."""
        try:
            lookup = await call(
                OtherCaseActivities.service_profile,
                service_id,
                summary=f"look up {service_id}",
            )
        except ActivityError as err:
            raise OsomError(f"{service_id} could not be looked up: {err.cause}") from err
        if lookup.profile is not None:
            return lookup.profile
        entry = directory.service(service_id)
        if entry is None:
            raise GuardFailed(
                f"C1 coe_opened refused: {service_id} is not a service of the engine or of the "
                "directory",
                problems=[f"unknown service {service_id}"],
            )
        return ServiceProfile(
            service_id=entry.id,
            name=entry.name,
            service_manager=entry.service_manager,
            stage=entry.lifecycle_stage,
            team=entry.team,
            in_engine=False,
        )

    # -- from a review session ----------------------------------------------------------------

    @workflow.update(
        name="draw_for_review",
        description="From a review session: C5, this CoE is on its agenda (refused if it is "
        "not in the pool, say, drawn by another session already).",
    )
    async def draw_for_review(self, draw: ReviewDraw) -> CommandResult:
        async with self._command_turn() as engine:
            try:
                if (earlier := self._drawn_already(draw)) is not None:
                    return earlier
                self._check_draw(draw)
                reason = f"drawn by {draw.session_id} for {draw.meeting_at:%Y-%m-%d %H:%M} UTC"
                await engine.fire_automatic("selected_for_review", draw, reason)
            except OsomError as err:
                raise refusal(err) from err
        return self._draw_result(draw, replayed=False)

    @draw_for_review.validator
    def _validate_draw(self, draw: ReviewDraw) -> None:
        if self._validating_engine() and self._drawn_already(draw) is None:
            try:
                self._check_draw(draw)
            except OsomError as err:
                raise refusal(err) from err

    def _drawn_already(self, draw: ReviewDraw) -> CommandResult | None:
        """The same session drawing again (its activity retried) gets the same answer."""
        case = self._ready().case
        if case.drawn_by is not None and case.drawn_by.session_id == draw.session_id:
            return self._draw_result(draw, replayed=True)
        return None

    def _check_draw(self, draw: ReviewDraw) -> None:
        case = self._ready().case
        if self._ready().final():
            raise CaseClosed(f"{case.case_id} is {case.state}", state=case.state)
        session = draw.session_workflow_id
        if draw.session_id != session or not is_review_session(session):
            raise GuardFailed(
                f"C5 selected_for_review: {session} is not a review session "
                f"({REVIEW_PREFIX}-...) drawing under its own id",
                problems=["only a review session draws a CoE"],
            )
        if not self._ready().machine.is_legal("selected_for_review"):
            drawn = f" (on the agenda of {case.drawn_by.session_id})" if case.drawn_by else ""
            raise IllegalTransition(
                f"C5 selected_for_review: {case.case_id} is {case.state}{drawn}; only a "
                "PUBLISHED CoE is in the pool",
                trigger="selected_for_review",
                state=case.state,
            )

    def _draw_result(self, draw: ReviewDraw, replayed: bool) -> CommandResult:
        case = self._ready().case
        return CommandResult(
            decision_id=f"{draw.session_id}-draw",
            command="selected_for_review",
            from_state="PUBLISHED",
            to_state="SELECTED_FOR_REVIEW",
            message=f"{case.case_id} drawn by {draw.session_id}; {case.service_manager} presents",
            replayed=replayed,
        )

    # -- from the service ---------------------------------------------------------------------

    def signal_routes(self, engine: CaseEngine[CoeCase]) -> dict[str, SignalRoute]:
        """Besides people's signals: from the service's lifecycle, where its newest contract is
        stored (a new Service Manager takes over the CoE and the open actions its predecessor
        owned)."""
        return {
            **super().signal_routes(engine),
            SERVICE_CHANGED: SignalRoute(ServiceChange, self.service_changed),
        }

    async def service_changed(self, change: ServiceChange) -> bool:
        """Only a contract the store holds for this service, newer than any taken in, counts
        (DOMAIN §9.5 service_manager_replaced)."""
        engine = self._ready()
        case = engine.case
        contract = await _records.stored_contract(change.contract, case.service.service_id)
        if contract is None or contract.version <= case.contract_version:
            return False
        case.contract_version = contract.version
        manager = contract.service_manager
        if manager is None or manager == case.service_manager:
            return False
        self._hand_over(engine, manager)
        return True

    def _hand_over(self, engine: CaseEngine[CoeCase], manager: str) -> None:
        case = engine.case
        before = case.service_manager
        case.service = case.service.model_copy(update={"service_manager": manager})
        moved = [a.id for a in case.open_actions() if a.owner == before]
        for action_id in moved:
            case.actions[action_id] = case.actions[action_id].model_copy(update={"owner": manager})
        if case.closure_requested_by == before:
            case.closure_requested_by = None  # the new Service Manager asks again
        reason = f"{before} -> {manager}" + (
            f"; their open actions {', '.join(moved)} now belong to {manager}" if moved else ""
        )
        engine.audit(SYSTEM, "service_manager_replaced", case.state, case.state, "system", reason)
        engine.notify(
            "info",
            [manager, before],
            f"{case.title}: {manager} is now its Service Manager",
            f"{case.service.service_id}'s contract names a new Service Manager: {reason}.",
        )

    # -- this process's own steps -------------------------------------------------------------

    async def _store_version(self, actor: str, data: object) -> ArtefactRef:
        """C2, C3, C10: the document as published, with its actions as they are now."""
        engine = self._ready()
        case = engine.case
        assert case.document is not None
        current = case.artefacts.get("coe_document")
        version = current.version + 1 if current else 1
        record = CoeRecord(
            **case.document.model_dump(exclude={"corrective_actions"}),
            coe_id=case.case_id,
            service_id=case.service.service_id,
            owner_sm=case.service_manager,
            author=case.request.opened_by,
            version=version,
            status=case.state,
            detected_at=case.request.detected_at,
            mitigated_at=case.request.mitigated_at,
            published_at=case.published_at,
            published_by=case.published_by,
            version_by=actor,
            change_note=data.change_note if isinstance(data, CoeRevision) else None,
            names_acknowledged=case.names_acknowledged,
            considered_by_exec=case.considered_by_exec,
            review_outputs=case.review_outputs,
            corrective_actions=list(case.actions.values()),
        )
        ref = await _records.store(workflow.info().workflow_id, "coe_document", version, record)
        case.artefacts["coe_document"] = ref
        return ref

    async def _archive(self, actor: str, data: object) -> None:
        await self._ready().fire_automatic("coe_archived", None, "the reopen window ended")

    # -- corrective action timers -------------------------------------------------------------

    def _next_action_event(self) -> TimerEvent | None:
        engine = self._ready()
        return None if engine.final() else next_action_event(engine.case)

    async def _action_event(self, action_id: str, kind: str) -> None:
        engine = self._ready()
        case = engine.case
        notice = action_event(case, action_id, cast(ActionEvent, kind))
        engine.notify(notice.kind, notice.to, notice.subject, notice.body)
        reason = f"{case.actions[action_id].label()}: {kind}"
        engine.audit(SYSTEM, f"action_{kind}", case.state, case.state, "system", reason)

    def _action_summary(self, action_id: str, kind: str) -> str:
        return f"corrective action {action_id}: {kind}"

    # -- telling the service ------------------------------------------------------------------

    def _actions_key(self) -> tuple[str, tuple[tuple[str, str, str, str], ...]]:
        """What the service's gates and followers depend on: whether the CoE still counts (or
        has ended), and its actions."""
        engine = self._ready()
        case = engine.case
        standing = "ended" if engine.final() else "counts" if actions_count(case) else "void"
        return standing, tuple(
            (a.id, a.status, a.due.isoformat(), a.owner) for a in case.actions.values()
        )

    async def _share_actions(self) -> None:
        """Store the actions register and tell the lifecycle whenever the actions change (and
        when the CoE ends), until the last change has been stored."""
        engine = self._ready()
        shared: object = None  # the first register, at opening, makes the CoE known
        while await self._actions_changed(shared):
            key, stored = await engine.in_turn(self._store_current_register)
            if stored:
                shared = key
            else:  # the store is down: try again later, a change must not be lost
                await workflow.sleep(REGISTER_RETRY, summary="store the actions register again")

    async def _store_current_register(self) -> tuple[object, bool]:
        """What the actions are and whether their register was stored (run with the case to
        itself, so the register stored is the one the key describes)."""
        return self._actions_key(), await self._store_register(self._ready())

    async def _actions_changed(self, shared: object) -> bool:
        """Wait until the actions differ from those last shared (True), or the case has ended
        with nothing new to share (False)."""
        engine = self._ready()
        await workflow.wait_condition(
            lambda: (
                self._actions_key() != shared
                or (engine.final() and workflow.all_handlers_finished())
            )
        )
        return self._actions_key() != shared

    async def _store_register(self, engine: CaseEngine[CoeCase]) -> bool:
        """Store the register and tell the lifecycle; False if the store could not be written."""
        case = engine.case
        version = case.registers_stored + 1
        register = ActionsRegister(
            coe_id=case.case_id,
            service_id=case.service.service_id,
            coe_state=case.state,
            version=version,
            at=workflow.now(),
            actions=list(case.actions.values()),
            counts=actions_count(case),
            ended=engine.final(),
        )
        try:
            ref = await _records.store(
                workflow.info().workflow_id, "corrective_actions", version, register
            )
        except OsomError as err:
            workflow.logger.warning("coe.register_not_stored", extra={"error": err.message})
            return False
        case.registers_stored = version
        case.artefacts["corrective_actions"] = ref
        if not case.service.in_engine:
            return True
        lifecycle = workflow.get_external_workflow_handle(
            lifecycle_workflow_id(case.service.service_id)
        )
        try:
            notice = CoeActionsNotice(coe_id=case.case_id, actions=ref)
            await lifecycle.signal(COE_ACTIONS_CHANGED, notice)
        except FailureError:  # the service's case has ended: nobody to tell
            workflow.logger.warning(
                "coe.lifecycle_gone", extra={"service": case.service.service_id}
            )
        return True

    def _starting_identity(self) -> tuple[str, str]:
        return self._input.coe_id, f"{self._input.coe_id} ({self._input.service_id})"

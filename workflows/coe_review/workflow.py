"""One regular CoE review session (DOMAIN §9.4.3), started by the review schedule.

It draws as many published CoEs as its pinned policy says (``coe_review.items_min`` to
``items_max``) at random from the pool (``workflow.random``, so a replay draws the same), each CoE
accepting the draw in its own case (one drawn elsewhere meanwhile refuses, and the next is tried);
cancels itself when the pool is empty; and, once minuted, moves each CoE as the chair recorded and
tells the chair, per CoE, whether it moved or refused and why.
"""

from __future__ import annotations

import asyncio
import hashlib

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from models.calendar import add_working_days
    from models.coe import ReviewDraw, ReviewOutcome
    from models.coe_review import (
        TRIGGER_FOR_OUTCOME,
        Agenda,
        CaseMessage,
        DrawnItem,
        ItemOutcome,
        ItemRecord,
        MessageAnswer,
        Minutes,
        MinutesRecord,
        PinnedItem,
        PoolEntry,
        PoolQuery,
        ReviewSessionCase,
        ReviewSessionInput,
    )
    from models.commands import ArtefactRef, CommandResult, Decision
    from models.errors import GuardFailed, OsomError
    from models.people import ActingAs, Directory
    from models.policy import Policy
    from workflows import _records
    from workflows._activity import ACTIVITY_TIMEOUT, call
    from workflows._case import SYSTEM, CaseEngine, WorkflowEffect
    from workflows._errors import refusal
    from workflows._handlers import CaseWorkflow
    from workflows.activity_contracts import OtherCaseActivities
    from workflows.coe_review.definition import COE_REVIEW


@workflow.defn(name="CoeReviewSession", failure_exception_types=[ValidationError])
class ReviewSessionWorkflow(CaseWorkflow[ReviewSessionCase]):
    """A review session: draw, hold, minute (or cancel)."""

    DEFINITION = COE_REVIEW

    @workflow.init
    def __init__(self, input: ReviewSessionInput) -> None:
        super().__init__()
        self._input = input

    @workflow.run
    async def run(self, input: ReviewSessionInput) -> str:
        directory, policy = input.directory, input.policy
        if directory is None or policy is None:
            context = await self._load_context()
            directory, policy = directory or context.directory, policy or context.policy
        engine = self._open(directory, policy)
        try:
            await self._draw(engine)
        except OsomError as err:
            self._refused = err
            raise refusal(err) from err
        self._opened = True
        await asyncio.gather(
            engine.keep_deadlines(), engine.deliver_notifications(), engine.keep_record()
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return engine.case.state

    def steps(self) -> dict[str, WorkflowEffect]:
        return {
            "draw_pinned": self._draw_pinned,
            "apply_minutes": self._apply_minutes,
            "store_minutes": self._store_minutes,
            "return_items": self._return_items,
        }

    def _open(self, directory: Directory, policy: Policy) -> CaseEngine[ReviewSessionCase]:
        now = workflow.now()
        case = ReviewSessionCase(
            session_id=workflow.info().workflow_id,
            services=self._input.services,
            meeting_at=add_working_days(now, policy.coe_review.meeting_lead_wd),
            directory=directory,
            policy=policy,
        )
        engine = self._engine = _SessionEngine(COE_REVIEW, case, self.steps())
        by = self._input.started_by
        starter = ActingAs(person=by, role="schedule" if by == SYSTEM.person else "by hand")
        engine.audit(starter, "session_created", "", case.state, "accepted", None)
        return engine

    # -- the draw -----------------------------------------------------------------------------

    async def _draw(self, engine: CaseEngine[ReviewSessionCase]) -> None:
        """R2: draw the policy's items_min to items_max from the pool (fewer if it is smaller),
        at random; each CoE must accept its draw."""
        case = engine.case
        settings = case.policy.coe_review
        pool = await self._pool()
        wanted = workflow.random().randint(settings.items_min, settings.items_max)
        drawn: list[DrawnItem] = []
        for entry in workflow.random().sample(pool, len(pool)):
            if len(drawn) == wanted:
                break
            if await self._draw_one(entry):
                drawn.append(_item(entry))
        if not drawn:
            await self._return_unconfirmed(case.directory.executive.id)
            reason = f"no published CoE waits for review (pool of {len(pool)})"
            await engine.fire_automatic("pool_empty", None, reason)
            return
        reason = f"drew {', '.join(i.coe_id for i in drawn)} from a pool of {len(pool)}"
        await engine.fire_automatic("items_drawn", Agenda(items=drawn), reason)

    async def _pool(self) -> list[PoolEntry]:
        case = self._ready().case
        try:
            pool = await call(
                OtherCaseActivities.review_pool,
                PoolQuery(services=case.services),
                summary="list the published CoEs waiting for review",
            )
        except ActivityError as err:
            raise OsomError(f"the review pool could not be listed: {err.cause}") from err
        return pool

    async def _draw_one(self, entry: PoolEntry) -> bool:
        """Ask the CoE to take the draw (C5); it refuses if it has left the pool meanwhile."""
        engine = self._ready()
        case = engine.case
        draw = ReviewDraw(
            session_id=case.session_id,
            session_workflow_id=workflow.info().workflow_id,
            meeting_at=case.meeting_at,
        )
        answer = await self._send(
            entry.workflow_id, "draw_for_review", draw.model_dump(mode="json")
        )
        if not answer.accepted:
            reason = f"{entry.coe_id} not drawn: {answer.message}"
            engine.audit(SYSTEM, "item_skipped", case.state, case.state, "system", reason)
            if answer.error_type is None:  # no answer: it may have been drawn all the same
                case.unconfirmed.append(_item(entry))
        return answer.accepted

    async def _draw_pinned(self, actor: str, data: object) -> None:
        assert isinstance(data, PinnedItem)
        case = self._ready().case
        entry = next((e for e in await self._pool() if e.coe_id == data.coe_id), None)
        if entry is None:
            raise GuardFailed(
                f"{data.coe_id} is not in the review pool (only PUBLISHED CoEs are"
                + (f" of {', '.join(case.services)})" if case.services else ")"),
                problems=[f"{data.coe_id} is not waiting for review"],
            )
        if not await self._draw_one(entry):
            raise GuardFailed(
                f"{data.coe_id} refused the draw (see the session's audit log)",
                problems=[f"{data.coe_id} could not be drawn"],
            )
        case.items.append(_item(entry))

    # -- after the session --------------------------------------------------------------------

    async def _store_minutes(self, actor: str, data: object) -> ArtefactRef:
        """R4, before anything moves: the minutes as the chair recorded them (v1). If the store
        refuses, the session stays HELD and no CoE has moved."""
        assert isinstance(data, Minutes)
        engine = self._ready()
        case = engine.case
        records = [
            ItemRecord(
                coe_id=minute.coe_id,
                outcome=minute.outcome,
                outputs=minute.outputs,
                notes=minute.notes,
                applied=False,
                message="recorded; not applied yet",
            )
            for minute in data.items
        ]
        case.minutes = MinutesRecord(
            session_id=case.session_id,
            meeting_at=case.meeting_at,
            chair=actor,
            attendees=case.attendees,
            items=records,
            recorded_at=workflow.now(),
        )
        return await self._store_version(1)

    async def _apply_minutes(self, actor: str, data: object) -> ArtefactRef | None:
        """C6, C7 or C8 in each drawn CoE, as the chair who recorded the minutes, then the
        minutes again with what each CoE answered (v2). A CoE that refuses (say, an operator
        ended it) is noted; the others still move. Nothing here fails the move: the CoEs have
        moved already."""
        assert isinstance(data, Minutes)
        engine = self._ready()
        case = engine.case
        assert case.minutes is not None
        await self._return_unconfirmed(actor)
        records = []
        for record in case.minutes.items:
            item = case.drawn(record.coe_id)
            assert item is not None  # the guard checked every minute is for a drawn CoE
            outcome = ReviewOutcome(
                session_id=case.session_id, outputs=record.outputs, notes=record.notes
            )
            trigger = TRIGGER_FOR_OUTCOME[ItemOutcome(record.outcome)]
            answer = await self._decide(item, trigger, actor, outcome.model_dump(mode="json"))
            update = {
                "applied": answer.accepted,
                "message": answer.message,
                "error_type": answer.error_type,
            }
            records.append(record.model_copy(update=update))
        case.minutes = case.minutes.model_copy(update={"items": records})
        try:
            return await self._store_version(2)
        except OsomError as err:  # v1 stays; the session's audit log has the outcome
            workflow.logger.warning("review.minutes_v2_not_stored", extra={"error": err.message})
            return None

    async def _store_version(self, version: int) -> ArtefactRef:
        engine = self._ready()
        case = engine.case
        assert case.minutes is not None
        ref = await _records.store(
            workflow.info().workflow_id, "review_minutes", version, case.minutes
        )
        case.artefacts["review_minutes"] = ref
        return ref

    async def _return_items(self, actor: str, data: object) -> None:
        """A cancelled session puts what it drew back in the pool (C6 in each CoE)."""
        await self._return_unconfirmed(actor)
        await self._defer_all(self._ready().case.items, actor, "the session was cancelled")

    async def _return_unconfirmed(self, actor: str) -> None:
        """Draws that got no answer go back to the pool (a CoE that never took one refuses)."""
        why = "its draw got no answer; it goes back to the pool"
        await self._defer_all(self._ready().case.unconfirmed, actor, why)

    async def _defer_all(self, items: list[DrawnItem], actor: str, why: str) -> None:
        engine = self._ready()
        case = engine.case
        for item in items:
            outcome = ReviewOutcome(session_id=case.session_id, notes=why)
            answer = await self._decide(
                item, "review_deferred", actor, outcome.model_dump(mode="json")
            )
            if not answer.accepted:
                reason = f"{item.coe_id} not returned to the pool: {answer.message}"
                engine.audit(SYSTEM, "item_not_returned", case.state, case.state, "system", reason)

    async def _decide(
        self, item: DrawnItem, trigger: str, actor: str, data: dict[str, object]
    ) -> MessageAnswer:
        case = self._ready().case
        session = hashlib.sha256(case.session_id.encode()).hexdigest()[:12]
        decision: dict[str, object] = {
            # One id per session, CoE and step: a retried activity applies it once.
            "decision_id": f"{item.coe_id}-{session}-{trigger}",
            "trigger": trigger,
            "actor": actor,
            "data": data,
        }
        return await self._send(item.workflow_id, "decide", decision)

    async def _send(
        self, workflow_id: str, update: str, payload: dict[str, object]
    ) -> MessageAnswer:
        try:
            # An update waits for the other case's lock: give it longer than a file write.
            answer = await call(
                OtherCaseActivities.send_to_case,
                CaseMessage(workflow_id=workflow_id, update=update, payload=payload),
                summary=f"{update} to {workflow_id}",
                start_to_close=ACTIVITY_TIMEOUT * 2,
            )
        except ActivityError as err:
            return MessageAnswer(accepted=False, message=f"no answer: {err.cause}")
        return answer

    def _starting_identity(self) -> tuple[str, str]:
        workflow_id = workflow.info().workflow_id
        return workflow_id, f"CoE review ({workflow_id})"


class _SessionEngine(CaseEngine[ReviewSessionCase]):
    """The case engine, with R4's answer and audit entry saying what each CoE did with its
    minute: a CoE may refuse its move (an operator ended it, it was deferred by hand)."""

    async def apply_decision(self, cmd: Decision) -> CommandResult:
        result = await super().apply_decision(cmd)
        minutes = self.case.minutes
        if cmd.trigger != "minutes_recorded" or result.replayed or minutes is None:
            return result
        answers = minutes.answers()
        per_coe = "".join(f"\n  {answer}" for answer in answers)
        result = result.model_copy(update={"message": f"{result.message}; per CoE:{per_coe}"})
        self.case.applied[cmd.decision_id] = result  # a repeat of the id gets the same answer
        audit = self.case.audit
        at = next(i for i in reversed(range(len(audit))) if audit[i].decision_id == cmd.decision_id)
        audit[at] = audit[at].model_copy(update={"message": "\n".join(answers)})
        return result


def _item(entry: PoolEntry) -> DrawnItem:
    return DrawnItem(
        coe_id=entry.coe_id, workflow_id=entry.workflow_id, service_id=entry.service_id
    )

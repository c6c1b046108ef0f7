"""Where the data of an accepted Correction of Error command lands on the case (the ``record=``
of each row of its definition), and how corrective actions are merged and re-timed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from models.case_state import Context
from models.coe import (
    CoeCase,
    CoePublication,
    CoeRevision,
    ExecConsideration,
    ReviewDraw,
    ReviewOutcome,
    ReviewOutput,
    ReviewOutputKind,
)
from models.coe_actions import (
    ActionCancellation,
    ActionCompletion,
    ActionRef,
    ActionStatus,
    CorrectiveAction,
    DueDateChange,
    DueDateChangeRequest,
)
from models.coe_document import ActionPlan, CoeDocument
from models.people import CaseRole


class ReviewOutputs(Protocol):
    """What a review (C7) and its follow-up (C9) both report."""

    @property
    def outputs(self) -> Sequence[ReviewOutput]: ...


def merge_actions(
    case: CoeCase, plans: list[ActionPlan], now: datetime, from_review: bool = False
) -> None:
    """New actions start OPEN; existing ones take the new wording and owner. An action left
    out of a document stays as it is: actions are cancelled, never deleted."""
    for plan in plans:
        existing = case.actions.get(plan.id)
        if existing is None:
            created = CorrectiveAction(**plan.model_dump(), created_at=now, from_review=from_review)
            case.actions[plan.id] = _timers_reset(case, created, now)
        else:
            case.actions[plan.id] = existing.model_copy(
                update={"description": plan.description, "type": plan.type, "owner": plan.owner}
            )


def _timers_reset(case: CoeCase, action: CorrectiveAction, now: datetime) -> CorrectiveAction:
    """An action's reminder, overdue flag and escalation follow its (new) due date; a reminder
    whose moment has passed already is not sent late."""
    reminder = action.reminder_at(case.policy.coe.action_reminder_wd)
    return action.model_copy(
        update={"reminded": reminder <= now, "overdue": False, "escalated": False}
    )


def _update_action(case: CoeCase, action_id: str, **changes: object) -> None:
    case.actions[action_id] = case.actions[action_id].model_copy(update=changes)


# -- the document ---------------------------------------------------------------------------------


def document(case: CoeCase, data: CoeDocument, ctx: Context) -> None:
    """A draft: an action it leaves out that nobody has started is dropped (it was never
    published); one already worked on stays."""
    case.document = data
    kept = {plan.id for plan in data.corrective_actions}
    case.actions = {
        action_id: action
        for action_id, action in case.actions.items()
        if action_id in kept or action.status != ActionStatus.OPEN
    }
    merge_actions(case, data.corrective_actions, ctx.now)


def publication(case: CoeCase, data: CoePublication, ctx: Context) -> None:
    case.published_at = ctx.now
    case.published_by = ctx.actor
    case.names_acknowledged = data.names_acknowledged


def revision(case: CoeCase, data: CoeRevision, ctx: Context) -> None:
    case.document = data.document
    case.names_acknowledged = data.names_acknowledged or case.names_acknowledged
    if any(plan.id not in case.actions for plan in data.document.corrective_actions):
        case.closure_requested_by = None  # new work: the closure request no longer holds
    merge_actions(case, data.document.corrective_actions, ctx.now)


def consideration(case: CoeCase, data: ExecConsideration, ctx: Context) -> None:
    case.considered_by_exec = True
    if data.guidance_candidate:
        case.review_outputs.append(
            ReviewOutput(kind=ReviewOutputKind.GUIDANCE_CANDIDATE, note=data.guidance_candidate)
        )


# -- the review -----------------------------------------------------------------------------------


def draw(case: CoeCase, data: ReviewDraw, ctx: Context) -> None:
    case.drawn_by = data
    case.times_drawn += 1


def deferral(case: CoeCase, data: ReviewOutcome, ctx: Context) -> None:
    case.drawn_by = None


def review(case: CoeCase, data: ReviewOutputs, ctx: Context) -> None:
    case.reviewed = True
    case.review_outputs.extend(o for o in data.outputs if o.kind != ReviewOutputKind.NONE)


# -- closing --------------------------------------------------------------------------------------


def closure_request(case: CoeCase, data: None, ctx: Context) -> None:
    case.closure_requested_by = ctx.actor


def closed(case: CoeCase, data: None, ctx: Context) -> None:
    case.closed_at = ctx.now


def reopened(case: CoeCase, data: None, ctx: Context) -> None:
    case.closure_requested_by = None
    case.closed_at = None


# -- corrective actions ---------------------------------------------------------------------------


def new_action(case: CoeCase, data: ActionPlan, ctx: Context) -> None:
    # Actions the Executive adds come out of a review: only the Executive cancels them.
    from_review = ctx.role not in (CaseRole.SERVICE_MANAGER, CaseRole.TEAM)
    merge_actions(case, [data], ctx.now, from_review=from_review)
    case.closure_requested_by = None


def started(case: CoeCase, data: ActionRef, ctx: Context) -> None:
    _update_action(case, data.action_id, status=ActionStatus.IN_PROGRESS, started_at=ctx.now)


def completed(case: CoeCase, data: ActionCompletion, ctx: Context) -> None:
    _update_action(
        case,
        data.action_id,
        status=ActionStatus.DONE,
        completed_at=ctx.now,
        evidence=data.evidence,
    )


def cancelled(case: CoeCase, data: ActionCancellation, ctx: Context) -> None:
    _update_action(
        case, data.action_id, status=ActionStatus.CANCELLED, cancel_rationale=data.rationale
    )


def due_date(case: CoeCase, data: DueDateChangeRequest, ctx: Context) -> None:
    action = case.actions[data.action_id]
    change = DueDateChange(
        before=action.due, after=data.due, reason=data.reason, by=ctx.actor, at=ctx.now
    )
    moved = action.model_copy(
        update={"due": data.due, "due_changes": [*action.due_changes, change], "overdue": False}
    )
    case.actions[data.action_id] = _timers_reset(case, moved, ctx.now)

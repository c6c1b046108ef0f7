"""Corrective actions (DOMAIN §9.4.2) as pure functions of the case: who may change one (the
guards of the CA rows of the definition), and their timers: a reminder before the due date to
the owner, an overdue flag to the Service Manager at the due date, and the Executive when an
action is long overdue (policy working days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from models.case_state import Context
from models.coe import CoeCase
from models.coe_actions import ActionRef, ActionStatus, CorrectiveAction, DueDateChangeRequest
from models.errors import NotAuthorised
from models.people import CaseRole
from workflows._definition import Guard

# -- who may change an action ---------------------------------------------------------------------


def _action(case: CoeCase, data: ActionRef) -> CorrectiveAction | None:
    return case.actions.get(data.action_id)


def _open_action(case: CoeCase, data: ActionRef, ctx: Context) -> list[str]:
    action = _action(case, data)
    if action is None:
        known = ", ".join(case.actions) or "none yet"
        return [f"{case.case_id} has no action {data.action_id}; its actions: {known}"]
    if not action.is_open:
        return [f"{action.id} is {action.status} already"]
    return []


def _action_not_started(case: CoeCase, data: ActionRef, ctx: Context) -> list[str]:
    action = _action(case, data)
    if action is not None and action.status == ActionStatus.IN_PROGRESS:
        return [f"{action.id} is IN_PROGRESS already"]
    return []


def _owner_or_manager(case: CoeCase, data: ActionRef, ctx: Context) -> list[str]:
    """An action is worked on by its one owner, or by the Service Manager accountable for it."""
    action = _action(case, data)
    actor = ctx.actor
    if action is not None and actor not in (action.owner, case.service_manager):
        # The Service Manager may own the action: name them once.
        allowed = list(dict.fromkeys([action.owner, case.service_manager]))
        who = (
            "only they may (they are the Service Manager)"
            if len(allowed) == 1
            else f"only they or the Service Manager ({case.service_manager}) may"
        )
        raise NotAuthorised(
            f"{actor} may not change {action.id}: it is owned by {action.owner}; {who}",
            actor=actor,
            allowed=allowed,
        )
    return []


def _may_cancel(case: CoeCase, data: ActionRef, ctx: Context) -> list[str]:
    """The Service Manager cancels the service's own actions; one that came out of a review
    is the Executive's to cancel (DOMAIN §9.4.2)."""
    action = _action(case, data)
    if action is None:
        return []
    by_manager = ctx.role == CaseRole.SERVICE_MANAGER
    if action.from_review == by_manager:
        who = "the Executive (or a review chair)" if action.from_review else "the Service Manager"
        raise NotAuthorised(
            f"{ctx.actor} may not cancel {action.id}: {who} cancels it",
            actor=ctx.actor,
        )
    return []


def _due_date_change_fits(case: CoeCase, data: DueDateChangeRequest, ctx: Context) -> list[str]:
    action = _action(case, data)
    if action is None:
        return []
    if data.due == action.due:
        return [f"{action.id} is already due on {action.due}"]
    if data.due < ctx.now.date():
        return [f"the new due date {data.due} is in the past"]
    return []


OPEN_ACTION = Guard("open_action", "an open action of this CoE", _open_action)
NOT_STARTED = Guard("not_started", "not started yet", _action_not_started)
OWNER_OR_MANAGER = Guard("owner_or_manager", "its owner or the SM", _owner_or_manager)
MAY_CANCEL = Guard("may_cancel", "the right person cancels", _may_cancel)
NEW_DUE_DATE = Guard("new_due_date", "a different date from today", _due_date_change_fits)


# -- timers ---------------------------------------------------------------------------------------

ActionEvent = Literal["remind", "overdue", "escalate"]


@dataclass(frozen=True)
class ActionNotice:
    kind: Literal["reminder", "escalation"]
    to: list[str]
    subject: str
    body: str


def next_action_event(case: CoeCase) -> tuple[str, datetime, ActionEvent] | None:
    """The first event still to come over the open actions: (action id, when, which)."""
    policy = case.policy.coe
    events: list[tuple[datetime, str, ActionEvent]] = []
    for action in case.open_actions():
        if not action.reminded:
            events.append((action.reminder_at(policy.action_reminder_wd), action.id, "remind"))
        elif not action.overdue:
            events.append((action.due_end, action.id, "overdue"))
        elif not action.escalated:
            events.append(
                (action.escalation_at(policy.action_escalation_wd), action.id, "escalate")
            )
    if not events:
        return None
    at, action_id, kind = min(events)
    return action_id, at, kind


def action_event(case: CoeCase, action_id: str, kind: ActionEvent) -> ActionNotice:
    """Mark the event done on the action and say who is told what."""
    action = case.actions[action_id]
    flag = {"remind": "reminded", "overdue": "overdue", "escalate": "escalated"}[kind]
    case.actions[action_id] = action.model_copy(update={flag: True})
    where = f"{case.case_id} ({case.service.service_id} {case.service.name})"
    if kind == "remind":
        return ActionNotice(
            "reminder",
            [action.owner],
            f"Reminder: corrective action {action.id} of {case.case_id} is due {action.due}",
            f"{_described(action)}\nMark it done with evidence (action_completed) or ask the "
            f"Service Manager to move its due date.\n{where}",
        )
    if kind == "overdue":
        return ActionNotice(
            "reminder",
            [action.owner, case.service_manager],
            f"Overdue: corrective action {action.id} of {case.case_id} was due {action.due}",
            f"{_described(action)}\n{where}",
        )
    days = case.policy.coe.action_escalation_wd
    return ActionNotice(
        "escalation",
        [case.directory.executive.id, case.service_manager, action.owner],
        f"ESCALATED: corrective action {action.id} of {case.case_id} is over {days} working "
        f"days overdue",
        f"{_described(action)}\n{where}\nWhile it is, {case.service.service_id} does not pass "
        "its lifecycle gates (if the policy says so).",
    )


def _described(action: CorrectiveAction) -> str:
    return f"{action.id}: {action.description} (owner {action.owner}, due {action.due})"

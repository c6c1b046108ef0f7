"""The timers of corrective actions (DOMAIN §9.4.2), as pure functions of the case: a reminder
before the due date to the owner, an overdue flag to the Service Manager at the due date, and
the Executive when an action is long overdue (policy working days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from models.coe import CoeCase, CorrectiveAction

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

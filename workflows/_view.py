"""What a case shows people and tools: its status, who it waits for, its case page summary
(pure functions of the case and its definition)."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from models.case_state import CaseState, ClockState, Context, PendingMove
from models.case_view import BlockerView, CaseStatus, DeadlineView
from models.people import CaseRole, Permit, holders_of
from workflows._definition import ProcessDefinition

C = TypeVar("C", bound=CaseState)


def case_status(
    definition: ProcessDefinition[C],
    case: C,
    workflow_id: str,
    legal_triggers: list[str],
    at: Context,
) -> CaseStatus:
    state = definition.state(case.state)
    blockers = [] if state.terminal else definition.blockers(case, legal_triggers, at)
    awaiting: list[str] = []
    for blocker in blockers:
        awaiting += [p.token() for p in blocker.permits] + people_holding(case, blocker.permits)
    personal = {} if state.terminal else case.personal_items()
    awaiting += sorted(personal)
    deadlines = sorted((_deadline(clock) for clock in case.clocks.values()), key=_due)
    return CaseStatus(
        workflow_id=workflow_id,
        process=definition.name,
        case_id=case.case_id,
        title=case.title,
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
                people=people_holding(case, b.permits),
            )
            for b in blockers
        ],
        legal_triggers=[] if state.terminal else people_triggers(definition, legal_triggers),
        deadlines=deadlines,
        pending=_pending(case.pending),
        facts=case.facts(),
        next_assessment_due=case.next_assessment_due,
        depends_on=case.depends_on,
        open_actions=case.open_action_count,
        overdue_actions=case.overdue_action_count,
        personal=personal,
        artefacts=dict(case.artefacts),
        recent=case.audit[-5:],
    )


def people_triggers(definition: ProcessDefinition[C], legal: list[str]) -> list[str]:
    """The triggers people may send from here (not the ones the engine fires itself)."""
    automatic = {t.trigger for t in definition.transitions if t.automatic}
    return [t for t in legal if t not in automatic]


def people_holding(case: CaseState, permits: tuple[Permit, ...]) -> list[str]:
    """The directory ids of everyone who holds one of ``permits`` in this case."""
    relations = case.relations()
    people: list[str] = []
    for permit in permits:
        if isinstance(permit.role, CaseRole):
            people += holders_of(relations, permit.role)
        else:
            people += case.directory.holders(permit)
    return list(dict.fromkeys(people))


def blocker_summary(status: CaseStatus) -> str:
    return "\n".join(
        f"{b.id} {b.trigger}: "
        + ("; ".join(b.missing) if b.missing else f"ready for {', '.join(b.who)}")
        for b in status.blockers
    )


def last_decisions(case: CaseState, count: int = 3) -> list[str]:
    """The newest accepted decisions, newest first, as the case page says them."""
    accepted = [e for e in reversed(case.audit) if e.outcome == "accepted"][:count]
    return [
        f"{e.command} by {e.actor} as {e.role} at {e.at:%Y-%m-%d %H:%M}"
        + (f" — {e.reason}" if e.reason else "")
        for e in accepted
    ]


def _deadline(clock: ClockState) -> DeadlineView:
    return DeadlineView(
        label=clock.label,
        due_at=clock.due_at,
        next_reminder_at=clock.reminder_due,
        reminders_sent=clock.reminders_sent,
        escalated=clock.escalated,
    )


def _due(deadline: DeadlineView) -> datetime:
    return deadline.due_at


def _pending(pending: PendingMove | None) -> str | None:
    if pending is None:
        return None
    return (
        f"{pending.trigger} approved by {pending.actor} on {pending.accepted_at:%Y-%m-%d}, "
        f"waiting for {pending.waiting_for}"
    )

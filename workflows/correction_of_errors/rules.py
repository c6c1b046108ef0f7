"""The rules of a Correction of Error (DOMAIN §5, §9.4.1-2) that its definition's rows name: who
may open one (C1), what each move needs and checks, when its deadlines fall and who is told.

Who may change a corrective action, and its timers, are in ``actions``; where accepted data
lands, in ``records``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from models.calendar import add_working_days
from models.case_state import Context
from models.coe import (
    CoeCase,
    CoeInput,
    CoePublication,
    CoeRevision,
    ReviewOutcome,
    ServiceProfile,
    Voiding,
)
from models.coe_actions import CorrectiveAction
from models.coe_document import ActionPlan, CoeDocument, empty_osom_fields, named_people
from models.errors import GuardFailed, NotAuthorised, UnknownPerson
from models.people import ActingAs, CaseRole, Directory
from models.permits import COE_CHAIR
from workflows._definition import Guard, Requirement

# Clocks of an incident tool and of the engine differ a little: "now" is not "in the future".
OPENING_CLOCK_SKEW = timedelta(minutes=5)


def check_opening(
    input: CoeInput, service: ServiceProfile, directory: Directory, now: datetime
) -> ActingAs:
    """C1: a CoE is opened for a known service by its Service Manager or, on their behalf, a
    member of its team; the problem has been detected and mitigated already."""
    person = directory.person(input.opened_by)
    if input.opened_by == service.service_manager:
        acting = ActingAs(person=person.id, role=str(CaseRole.SERVICE_MANAGER))
    elif input.opened_by in service.team:
        acting = ActingAs(person=person.id, role=f"{CaseRole.TEAM} (for {service.service_manager})")
    else:
        raise NotAuthorised(
            f"{person.label()} may not open a CoE for {service.service_id}: its Service Manager "
            f"({service.service_manager}) or a member of its team opens it",
            actor=person.id,
            allowed=[str(CaseRole.SERVICE_MANAGER), str(CaseRole.TEAM)],
        )
    future = [
        name
        for name, moment in (
            ("detected_at", input.detected_at),
            ("mitigated_at", input.mitigated_at),
        )
        if moment > now + OPENING_CLOCK_SKEW
    ]
    if future:
        raise GuardFailed(
            f"C1 coe_opened refused: {', '.join(future)} in the future; a CoE starts once the "
            "problem is mitigated",
            problems=[f"{name} is in the future" for name in future],
        )
    return acting


def actions_count(case: CoeCase) -> bool:
    """A voided CoE (opened by mistake, a duplicate) holds nobody to its actions."""
    return case.state != "VOIDED"


# -- the document ---------------------------------------------------------------------------------


def _document_complete(case: CoeCase, ctx: Context) -> list[str]:
    if case.document is None:
        return ["no draft submitted yet (coe_document)"]
    return [f"{name} is empty" for name in empty_osom_fields(case.document)]


def _revision_complete(case: CoeCase, data: CoeRevision, ctx: Context) -> list[str]:
    return [f"{name} is empty" for name in empty_osom_fields(data.document)]


def _blameless(document: CoeDocument | None, case: CoeCase, acknowledged: str | None) -> list[str]:
    if document is None or acknowledged:
        return []
    names = named_people(document, case.directory)
    if not names:
        return []
    return [f"the analysis names {n}" for n in names] + [
        "refer to roles ('the on-call engineer'), or publish with names_acknowledged saying why "
        "the names are needed"
    ]


def _blameless_publication(case: CoeCase, data: CoePublication, ctx: Context) -> list[str]:
    return _blameless(case.document, case, data.names_acknowledged)


def _blameless_revision(case: CoeCase, data: CoeRevision, ctx: Context) -> list[str]:
    return _blameless(data.document, case, data.names_acknowledged)


def _plans_fit(case: CoeCase, plans: list[ActionPlan], now: datetime) -> list[str]:
    """New actions need a known owner and a due date from today on; an existing action keeps
    its due date (changed with a reason, counted) and a finished one stays as it is."""
    problems = []
    for plan in plans:
        existing = case.actions.get(plan.id)
        if existing is None:
            problems += _new_action_problems(case, plan, now)
        elif existing.from_review and _changed(existing, plan):
            problems.append(
                f"{plan.id} came out of a review: it stays as the Executive set it (leave it "
                "out of the document, or ask the Executive to cancel it)"
            )
        elif plan.due != existing.due:
            problems.append(
                f"{plan.id}: its due date is {existing.due}; change it with "
                "action_due_date_changed and a reason"
            )
        elif not existing.is_open and plan.owner != existing.owner:
            problems.append(f"{plan.id} is {existing.status}; its owner stays {existing.owner}")
        elif plan.owner != existing.owner:
            problems += _owner_problems(case, plan)
    return problems


def _changed(action: CorrectiveAction, plan: ActionPlan) -> bool:
    return (action.description, action.type, action.owner, action.due) != (
        plan.description,
        plan.type,
        plan.owner,
        plan.due,
    )


def _new_action_problems(case: CoeCase, plan: ActionPlan, now: datetime) -> list[str]:
    problems = _owner_problems(case, plan)
    if plan.due < now.date():
        problems.append(f"{plan.id}: the due date {plan.due} is in the past")
    return problems


def _owner_problems(case: CoeCase, plan: ActionPlan) -> list[str]:
    try:
        case.directory.person(plan.owner)
    except UnknownPerson as err:
        return [f"{plan.id}: {err.message}"]
    return []


def _document_actions_fit(case: CoeCase, data: CoeDocument, ctx: Context) -> list[str]:
    return _plans_fit(case, data.corrective_actions, ctx.now)


def _revision_actions_fit(case: CoeCase, data: CoeRevision, ctx: Context) -> list[str]:
    return _plans_fit(case, data.document.corrective_actions, ctx.now)


def _new_action_fits(case: CoeCase, data: ActionPlan, ctx: Context) -> list[str]:
    if data.id in case.actions:
        return [f"{data.id} exists already; new actions take a new id"]
    return _new_action_problems(case, data, ctx.now)


DOCUMENT_COMPLETE = Requirement[CoeCase](
    "document_complete", "the nine OSOM fields", _document_complete, "coe_document"
)
REVISION_COMPLETE = Guard("revision_complete", "the nine OSOM fields", _revision_complete)
BLAMELESS = Guard("blameless", "no people named in the analysis", _blameless_publication)
BLAMELESS_REVISION = Guard("blameless", "no people named", _blameless_revision)
DOCUMENT_ACTIONS = Guard("actions_fit", "owner and due date", _document_actions_fit)
REVISION_ACTIONS = Guard("actions_fit", "owner and due date", _revision_actions_fit)
NEW_ACTION = Guard("new_action", "a new id, a known owner, due from today", _new_action_fits)


# -- closing --------------------------------------------------------------------------------------


def _actions_finished(case: CoeCase, ctx: Context) -> list[str]:
    return [f"{a.label()} is {a.status}" for a in case.open_actions()]


def _reviewed_or_considered(case: CoeCase, ctx: Context) -> list[str]:
    if case.reviewed or case.considered_by_exec:
        return []
    return ["not yet reviewed at a session, nor considered by the Executive"]


def _closure_requested(case: CoeCase, ctx: Context) -> list[str]:
    return [] if case.closure_requested_by else ["the Service Manager has not asked to close it"]


def _not_requested_yet(case: CoeCase, data: None, ctx: Context) -> list[str]:
    if case.closure_requested_by:
        return [f"{case.closure_requested_by} asked to close it already"]
    return []


ACTIONS_FINISHED = Requirement[CoeCase](
    "actions_finished",
    "every corrective action done or cancelled",
    _actions_finished,
    "action_completed",
    condition=True,
)
REVIEWED_OR_CONSIDERED = Requirement[CoeCase](
    "reviewed_or_considered",
    "a review, or the Executive's consideration",
    _reviewed_or_considered,
    "exec_considered",
    condition=True,
)
CLOSURE_REQUESTED = Requirement[CoeCase](
    "closure_requested",
    "the Service Manager's request to close",
    _closure_requested,
    "closure_requested",
    condition=True,
)
NOT_REQUESTED_YET = Guard("not_requested_yet", "not asked already", _not_requested_yet)


# -- the review -----------------------------------------------------------------------------------


def _drawn_in_this_session(case: CoeCase, data: ReviewOutcome, ctx: Context) -> list[str]:
    drawn = case.drawn_by
    if drawn is None:
        return [f"{case.case_id} was not drawn for a review session"]
    if drawn.session_id != data.session_id:
        return [f"{case.case_id} was drawn by {drawn.session_id}, not by {data.session_id}"]
    return []


def _outputs_recorded(case: CoeCase, data: ReviewOutcome, ctx: Context) -> list[str]:
    if not data.outputs:
        return ["record the review's outputs (kind 'none' if there were none)"]
    return []


def _not_a_duplicate_of_itself(case: CoeCase, data: Voiding, ctx: Context) -> list[str]:
    if data.duplicate_of == case.case_id:
        return [f"{case.case_id} cannot be a duplicate of itself"]
    return []


DRAWN_IN_SESSION = Guard("drawn_in_session", "drawn by that session", _drawn_in_this_session)
OUTPUTS_RECORDED = Guard("outputs_recorded", "review outputs", _outputs_recorded)
NOT_ITSELF = Guard("not_itself", "another CoE", _not_a_duplicate_of_itself)


# -- clocks ---------------------------------------------------------------------------------------


def draft_due(case: CoeCase, now: datetime) -> datetime:
    return add_working_days(case.request.mitigated_at, case.policy.coe.drafting.due_wd)


def publication_due(case: CoeCase, now: datetime) -> datetime:
    resolved = (case.document.resolved_at if case.document else None) or case.request.mitigated_at
    return add_working_days(resolved, case.policy.coe.publishing.due_wd)


def resolved(case: CoeCase) -> str:
    """A draft that says when the incident was resolved moves the publication deadline."""
    resolved = case.document.resolved_at if case.document else None
    return resolved.isoformat() if resolved else ""


def never_drawn_due(case: CoeCase, now: datetime) -> datetime:
    assert case.published_at is not None
    return case.published_at + timedelta(weeks=case.policy.coe.pool_starvation_weeks)


def review_outcome_due(case: CoeCase, now: datetime) -> datetime:
    """A little after the session's own minutes are due: a CoE whose session never minuted it
    (the session failed, or was ended by an operator) does not stay drawn unnoticed."""
    assert case.drawn_by is not None
    days = case.policy.coe_review.minutes.due_wd + 2
    return add_working_days(case.drawn_by.meeting_at, days)


def drawing_session(case: CoeCase) -> str:
    return case.drawn_by.session_id if case.drawn_by else ""


def reopen_window_ends(case: CoeCase, now: datetime) -> datetime:
    return (case.closed_at or now) + timedelta(days=case.policy.coe.reopen_window_days)


def no_draft_yet(case: CoeCase) -> bool:
    return case.document is None


def never_drawn(case: CoeCase) -> bool:
    return case.times_drawn == 0


# -- who is told ----------------------------------------------------------------------------------


def review_chairs(case: CoeCase) -> list[str]:
    return [case.directory.executive.id, *case.directory.holders(COE_CHAIR)]


def service_manager(case: CoeCase) -> list[str]:
    return [case.service_manager]


def open_action_owners(case: CoeCase) -> list[str]:
    return sorted({a.owner for a in case.open_actions()})

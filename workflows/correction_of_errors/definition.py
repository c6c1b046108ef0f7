"""A Correction of Error (DOMAIN §5, §9.4.1-2) as data: states, C2-C12, the corrective action
commands, guards and clocks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from models.calendar import add_working_days
from models.coe import (
    ActionCancellation,
    ActionCompletion,
    ActionPlan,
    ActionRef,
    ActionStatus,
    CoeCase,
    CoeDocument,
    CoeInput,
    CoePublication,
    CoeRevision,
    CorrectiveAction,
    DueDateChange,
    DueDateChangeRequest,
    ExecConsideration,
    FollowUp,
    ReviewDraw,
    ReviewOutcome,
    ReviewOutput,
    ReviewOutputKind,
    ServiceProfile,
    Voiding,
    empty_osom_fields,
    named_people,
)
from models.errors import GuardFailed, NotAuthorised, UnknownPerson
from models.people import ActingAs, CaseRole, Delegation, Directory, Permit, Role
from workflows._definition import (
    ArtefactSpec,
    ClockSpec,
    Effect,
    Guard,
    ProcessDefinition,
    Requirement,
    StateSpec,
    TransitionSpec,
)

Case = CoeCase

EXEC = Permit(role=Role.EXEC)
CHAIR = Permit(role=Role.ETM, delegation=Delegation.COE_REVIEW_CHAIR)
SERVICE_MANAGER = Permit(role=CaseRole.SERVICE_MANAGER)
TEAM = Permit(role=CaseRole.TEAM)
ACTION_OWNER = Permit(role=CaseRole.ACTION_OWNER)
REVIEWERS = (EXEC, CHAIR)
# Clocks of an incident tool and of the engine differ a little: "now" is not "in the future".
OPENING_CLOCK_SKEW = timedelta(minutes=5)

# States in which the CoE is live: its actions can be worked on and it can be revised.
PUBLISHED_STATES = ("PUBLISHED", "SELECTED_FOR_REVIEW", "FURTHER_DISCUSSION", "REVIEWED")
ACTION_STATES = ("DRAFT", *PUBLISHED_STATES)


# -- the document ---------------------------------------------------------------------------------


def _document_complete(case: Case) -> list[str]:
    if case.document is None:
        return ["no draft submitted yet (coe_document)"]
    return [f"{name} is empty" for name in empty_osom_fields(case.document)]


def _revision_complete(case: Case, data: Any) -> list[str]:
    assert isinstance(data, CoeRevision)
    return [f"{name} is empty" for name in empty_osom_fields(data.document)]


def _blameless(document: CoeDocument | None, case: Case, acknowledged: str | None) -> list[str]:
    if document is None or acknowledged:
        return []
    names = named_people(document, case.directory)
    if not names:
        return []
    return [f"the analysis names {n}" for n in names] + [
        "refer to roles ('the on-call engineer'), or publish with names_acknowledged saying why "
        "the names are needed"
    ]


def _blameless_publication(case: Case, data: Any) -> list[str]:
    assert isinstance(data, CoePublication)
    return _blameless(case.document, case, data.names_acknowledged)


def _blameless_revision(case: Case, data: Any) -> list[str]:
    assert isinstance(data, CoeRevision)
    return _blameless(data.document, case, data.names_acknowledged)


def _plans_fit(case: Case, plans: list[ActionPlan]) -> list[str]:
    """New actions need a known owner and a due date from today on; an existing action keeps
    its due date (changed with a reason, counted) and a finished one stays as it is."""
    problems = []
    for plan in plans:
        existing = case.actions.get(plan.id)
        if existing is None:
            problems += _new_action_problems(case, plan)
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


def _new_action_problems(case: Case, plan: ActionPlan) -> list[str]:
    problems = _owner_problems(case, plan)
    if plan.due < case.now().date():
        problems.append(f"{plan.id}: the due date {plan.due} is in the past")
    return problems


def _owner_problems(case: Case, plan: ActionPlan) -> list[str]:
    try:
        case.directory.person(plan.owner)
    except UnknownPerson as err:
        return [f"{plan.id}: {err.message}"]
    return []


def _document_actions_fit(case: Case, data: Any) -> list[str]:
    assert isinstance(data, CoeDocument)
    return _plans_fit(case, data.corrective_actions)


def _revision_actions_fit(case: Case, data: Any) -> list[str]:
    assert isinstance(data, CoeRevision)
    return _plans_fit(case, data.document.corrective_actions)


def _new_action_fits(case: Case, data: Any) -> list[str]:
    assert isinstance(data, ActionPlan)
    if data.id in case.actions:
        return [f"{data.id} exists already; new actions take a new id"]
    return _new_action_problems(case, data)


DOCUMENT_COMPLETE = Requirement[Case](
    "document_complete", "the nine OSOM fields", _document_complete, "coe_document"
)
REVISION_COMPLETE = Guard[Case]("revision_complete", "the nine OSOM fields", _revision_complete)
BLAMELESS = Guard[Case]("blameless", "no people named in the analysis", _blameless_publication)
BLAMELESS_REVISION = Guard[Case]("blameless", "no people named", _blameless_revision)
DOCUMENT_ACTIONS = Guard[Case]("actions_fit", "owner and due date", _document_actions_fit)
REVISION_ACTIONS = Guard[Case]("actions_fit", "owner and due date", _revision_actions_fit)
NEW_ACTION = Guard[Case]("new_action", "a new id, a known owner, due from today", _new_action_fits)


# -- corrective actions -------------------------------------------------------------------------


def _action(case: Case, data: Any) -> CorrectiveAction | None:
    assert isinstance(data, ActionRef)
    return case.actions.get(data.action_id)


def _open_action(case: Case, data: Any) -> list[str]:
    action = _action(case, data)
    if action is None:
        known = ", ".join(case.actions) or "none yet"
        return [f"{case.case_id} has no action {data.action_id}; its actions: {known}"]
    if not action.is_open:
        return [f"{action.id} is {action.status} already"]
    return []


def _action_not_started(case: Case, data: Any) -> list[str]:
    action = _action(case, data)
    if action is not None and action.status == ActionStatus.IN_PROGRESS:
        return [f"{action.id} is IN_PROGRESS already"]
    return []


def _owner_or_manager(case: Case, data: Any) -> list[str]:
    """An action is worked on by its one owner, or by the Service Manager accountable for it."""
    action = _action(case, data)
    actor = case.acting_person
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


def _may_cancel(case: Case, data: Any) -> list[str]:
    """The Service Manager cancels the service's own actions; one that came out of a review
    is the Executive's to cancel (DOMAIN §9.4.2)."""
    action = _action(case, data)
    if action is None:
        return []
    by_manager = case.acting_role == CaseRole.SERVICE_MANAGER
    if action.from_review == by_manager:
        who = "the Executive (or a review chair)" if action.from_review else "the Service Manager"
        raise NotAuthorised(
            f"{case.acting_person} may not cancel {action.id}: {who} cancels it",
            actor=case.acting_person,
        )
    return []


def _due_date_change_fits(case: Case, data: Any) -> list[str]:
    assert isinstance(data, DueDateChangeRequest)
    action = _action(case, data)
    if action is None:
        return []
    if data.due == action.due:
        return [f"{action.id} is already due on {action.due}"]
    if data.due < case.now().date():
        return [f"the new due date {data.due} is in the past"]
    return []


OPEN_ACTION = Guard[Case]("open_action", "an open action of this CoE", _open_action)
NOT_STARTED = Guard[Case]("not_started", "not started yet", _action_not_started)
OWNER_OR_MANAGER = Guard[Case]("owner_or_manager", "its owner or the SM", _owner_or_manager)
MAY_CANCEL = Guard[Case]("may_cancel", "the right person cancels", _may_cancel)
NEW_DUE_DATE = Guard[Case]("new_due_date", "a different date from today", _due_date_change_fits)


def _actions_finished(case: Case) -> list[str]:
    return [f"{a.label()} is {a.status}" for a in case.open_actions()]


def _reviewed_or_considered(case: Case) -> list[str]:
    if case.reviewed or case.considered_by_exec:
        return []
    return ["not yet reviewed at a session, nor considered by the Executive"]


def _closure_requested(case: Case) -> list[str]:
    return [] if case.closure_requested_by else ["the Service Manager has not asked to close it"]


def _not_requested_yet(case: Case, data: Any) -> list[str]:
    if case.closure_requested_by:
        return [f"{case.closure_requested_by} asked to close it already"]
    return []


ACTIONS_FINISHED = Requirement[Case](
    "actions_finished",
    "every corrective action done or cancelled",
    _actions_finished,
    "action_completed",
    condition=True,
)
REVIEWED_OR_CONSIDERED = Requirement[Case](
    "reviewed_or_considered",
    "a review, or the Executive's consideration",
    _reviewed_or_considered,
    "exec_considered",
    condition=True,
)
CLOSURE_REQUESTED = Requirement[Case](
    "closure_requested",
    "the Service Manager's request to close",
    _closure_requested,
    "closure_requested",
    condition=True,
)
NOT_REQUESTED_YET = Guard[Case]("not_requested_yet", "not asked already", _not_requested_yet)


# -- the review ---------------------------------------------------------------------------------


def _drawn_in_this_session(case: Case, data: Any) -> list[str]:
    assert isinstance(data, ReviewOutcome)
    drawn = case.drawn_by
    if drawn is None:
        return [f"{case.case_id} was not drawn for a review session"]
    if drawn.session_id != data.session_id:
        return [f"{case.case_id} was drawn by {drawn.session_id}, not by {data.session_id}"]
    return []


def _outputs_recorded(case: Case, data: Any) -> list[str]:
    assert isinstance(data, ReviewOutcome)
    if not data.outputs:
        return ["record the review's outputs (kind 'none' if there were none)"]
    return []


def _not_a_duplicate_of_itself(case: Case, data: Any) -> list[str]:
    assert isinstance(data, Voiding)
    if data.duplicate_of == case.case_id:
        return [f"{case.case_id} cannot be a duplicate of itself"]
    return []


DRAWN_IN_SESSION = Guard[Case]("drawn_in_session", "drawn by that session", _drawn_in_this_session)
OUTPUTS_RECORDED = Guard[Case]("outputs_recorded", "review outputs", _outputs_recorded)
NOT_ITSELF = Guard[Case]("not_itself", "another CoE", _not_a_duplicate_of_itself)


# -- where accepted data lands -----------------------------------------------------------------


def actions_count(case: Case) -> bool:
    """A voided CoE (opened by mistake, a duplicate) holds nobody to its actions."""
    return case.state != "VOIDED"


def merge_actions(case: Case, plans: list[ActionPlan], from_review: bool = False) -> None:
    """New actions start OPEN; existing ones take the new wording and owner. An action left
    out of a document stays as it is: actions are cancelled, never deleted."""
    for plan in plans:
        existing = case.actions.get(plan.id)
        if existing is None:
            created = CorrectiveAction(
                **plan.model_dump(), created_at=case.now(), from_review=from_review
            )
            case.actions[plan.id] = _timers_reset(case, created)
        else:
            case.actions[plan.id] = existing.model_copy(
                update={"description": plan.description, "type": plan.type, "owner": plan.owner}
            )


def _record_document(case: Case, data: Any, actor: str) -> None:
    """A draft: an action it leaves out that nobody has started is dropped (it was never
    published); one already worked on stays."""
    assert isinstance(data, CoeDocument)
    case.document = data
    kept = {plan.id for plan in data.corrective_actions}
    case.actions = {
        action_id: action
        for action_id, action in case.actions.items()
        if action_id in kept or action.status != ActionStatus.OPEN
    }
    merge_actions(case, data.corrective_actions)


def _record_publication(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, CoePublication)
    case.published_at = case.now()
    case.published_by = actor
    case.names_acknowledged = data.names_acknowledged


def _record_revision(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, CoeRevision)
    case.document = data.document
    case.names_acknowledged = data.names_acknowledged or case.names_acknowledged
    if any(plan.id not in case.actions for plan in data.document.corrective_actions):
        case.closure_requested_by = None  # new work: the closure request no longer holds
    merge_actions(case, data.document.corrective_actions)


def _record_consideration(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, ExecConsideration)
    case.considered_by_exec = True
    if data.guidance_candidate:
        case.review_outputs.append(
            ReviewOutput(kind=ReviewOutputKind.GUIDANCE_CANDIDATE, note=data.guidance_candidate)
        )


def _record_draw(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, ReviewDraw)
    case.drawn_by = data
    case.times_drawn += 1


def _record_deferral(case: Case, data: Any, actor: str) -> None:
    case.drawn_by = None


def _record_review(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, ReviewOutcome | FollowUp)
    case.reviewed = True
    case.review_outputs.extend(o for o in data.outputs if o.kind != ReviewOutputKind.NONE)


def _record_closure_request(case: Case, data: Any, actor: str) -> None:
    case.closure_requested_by = actor


def _record_closed(case: Case, data: Any, actor: str) -> None:
    case.closed_at = case.now()


def _record_reopened(case: Case, data: Any, actor: str) -> None:
    case.closure_requested_by = None
    case.closed_at = None


def _record_new_action(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, ActionPlan)
    # Actions the Executive adds come out of a review: only the Executive cancels them.
    from_review = case.acting_role not in (CaseRole.SERVICE_MANAGER, CaseRole.TEAM)
    merge_actions(case, [data], from_review=from_review)
    case.closure_requested_by = None


def _update_action(case: Case, action_id: str, **changes: Any) -> None:
    case.actions[action_id] = case.actions[action_id].model_copy(update=changes)


def _record_started(case: Case, data: Any, actor: str) -> None:
    _update_action(case, data.action_id, status=ActionStatus.IN_PROGRESS, started_at=case.now())


def _record_completed(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, ActionCompletion)
    _update_action(
        case,
        data.action_id,
        status=ActionStatus.DONE,
        completed_at=case.now(),
        evidence=data.evidence,
    )


def _record_cancelled(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, ActionCancellation)
    _update_action(
        case, data.action_id, status=ActionStatus.CANCELLED, cancel_rationale=data.rationale
    )


def _record_due_date(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, DueDateChangeRequest)
    action = case.actions[data.action_id]
    change = DueDateChange(
        before=action.due, after=data.due, reason=data.reason, by=actor, at=case.now()
    )
    moved = action.model_copy(
        update={"due": data.due, "due_changes": [*action.due_changes, change], "overdue": False}
    )
    case.actions[data.action_id] = _timers_reset(case, moved)


def _timers_reset(case: Case, action: CorrectiveAction) -> CorrectiveAction:
    """An action's reminder, overdue flag and escalation follow its (new) due date; a reminder
    whose moment has passed already is not sent late."""
    reminder = action.reminder_at(case.policy.coe.action_reminder_wd)
    return action.model_copy(
        update={"reminded": reminder <= case.now(), "overdue": False, "escalated": False}
    )


# -- clocks --------------------------------------------------------------------------------------


def _draft_due(case: Case, now: datetime) -> datetime:
    return add_working_days(case.request.mitigated_at, case.policy.coe.drafting.due_wd)


def _publication_due(case: Case, now: datetime) -> datetime:
    resolved = (case.document.resolved_at if case.document else None) or case.request.mitigated_at
    return add_working_days(resolved, case.policy.coe.publishing.due_wd)


def _resolved(case: Case) -> str:
    """A draft that says when the incident was resolved moves the publication deadline."""
    resolved = case.document.resolved_at if case.document else None
    return resolved.isoformat() if resolved else ""


def _never_drawn_due(case: Case, now: datetime) -> datetime:
    assert case.published_at is not None
    return case.published_at + timedelta(weeks=case.policy.coe.pool_starvation_weeks)


def _review_outcome_due(case: Case, now: datetime) -> datetime:
    """A little after the session's own minutes are due: a CoE whose session never minuted it
    (the session failed, or was ended by an operator) does not stay drawn unnoticed."""
    assert case.drawn_by is not None
    days = case.policy.coe_review.minutes.due_wd + 2
    return add_working_days(case.drawn_by.meeting_at, days)


def _drawing_session(case: Case) -> str:
    return case.drawn_by.session_id if case.drawn_by else ""


def _reopen_window_ends(case: Case, now: datetime) -> datetime:
    return (case.closed_at or now) + timedelta(days=case.policy.coe.reopen_window_days)


def _no_draft_yet(case: Case) -> bool:
    return case.document is None


def _never_drawn(case: Case) -> bool:
    return case.times_drawn == 0


def _review_chairs(case: Case) -> list[str]:
    return [case.directory.executive.id, *case.directory.holders(CHAIR)]


# -- the process -------------------------------------------------------------------------------

COE = ProcessDefinition[Case](
    name="coe",
    title="Correction of Error",
    version=1,
    initial="DRAFT",
    start=("C1", "coe_opened"),
    states=(
        StateSpec(
            "DRAFT",
            "Being written by the service; published to the whole network when complete",
            clocks=("drafting", "publishing"),
        ),
        StateSpec(
            "PUBLISHED",
            "Published; in the pool for the regular review",
            clocks=("never_drawn",),
        ),
        StateSpec(
            "SELECTED_FOR_REVIEW",
            "Drawn for a review session; its SM presents it",
            clocks=("review_outcome",),
        ),
        StateSpec(
            "FURTHER_DISCUSSION",
            "The review asked for more time; a follow-up is held",
            clocks=("follow_up",),
        ),
        StateSpec("REVIEWED", "Reviewed; closed once its corrective actions are finished"),
        StateSpec(
            "CLOSED",
            "Closed; the Executive may reopen it until the reopen window ends",
            clocks=("reopen_window",),
        ),
        StateSpec("VOIDED", "Voided (opened by mistake, or a duplicate)", terminal=True),
        StateSpec("ARCHIVED", "Closed for good: the reopen window has ended", terminal=True),
    ),
    clocks=(
        ClockSpec[Case](
            "drafting",
            "First draft due (after mitigation)",
            remind=(SERVICE_MANAGER, TEAM),
            escalate_to=(EXEC,),
            active=_no_draft_yet,
            due=_draft_due,
        ),
        ClockSpec[Case](
            "publishing",
            "Publication due (after the incident was resolved)",
            remind=(SERVICE_MANAGER,),
            escalate_to=(EXEC,),
            due=_publication_due,
            epoch=_resolved,
        ),
        ClockSpec[Case](
            "never_drawn",
            "Not drawn for review yet",
            remind=(),
            escalate_to=(EXEC, CHAIR),
            active=_never_drawn,
            due=_never_drawn_due,
        ),
        ClockSpec[Case](
            "review_outcome",
            "Review outcome due (the session's minutes)",
            remind=(),
            escalate_to=(EXEC, CHAIR),
            due=_review_outcome_due,
            epoch=_drawing_session,
        ),
        ClockSpec[Case](
            "follow_up",
            "Follow-up discussion due",
            remind=REVIEWERS,
            escalate_to=(EXEC,),
        ),
        ClockSpec[Case](
            "reopen_window",
            "Archived when the reopen window ends",
            remind=(),
            escalate_to=(),
            due=_reopen_window_ends,
            on_due="archive",
        ),
    ),
    artefacts=(
        ArtefactSpec[Case](
            "coe_document",
            "CoE document draft",
            CoeDocument,
            ("DRAFT",),
            (SERVICE_MANAGER, TEAM),
            _record_document,
            guards=(DOCUMENT_ACTIONS,),
        ),
    ),
    effects={
        "store_version": Effect[Case]("store a new version of the document", after_move=True),
        "archive": Effect[Case]("archive the closed CoE"),
        "notify_network": Effect[Case](
            "tell the Executive and the review chairs (visible org-wide)", _review_chairs
        ),
        "notify_service_manager": Effect[Case](
            "tell the Service Manager", lambda case: [case.service_manager]
        ),
        "notify_action_owners": Effect[Case](
            "tell the owners of open actions",
            lambda case: sorted({a.owner for a in case.open_actions()}),
        ),
    },
    transitions=(
        TransitionSpec[Case](
            "C2",
            "coe_published",
            ("DRAFT",),
            "PUBLISHED",
            (SERVICE_MANAGER,),
            "Publish to the whole organisation; it enters the review pool",
            requires=(DOCUMENT_COMPLETE,),
            guards=(BLAMELESS,),
            data=CoePublication,
            record=_record_publication,
            effects=("store_version", "notify_network", "notify_action_owners"),
        ),
        TransitionSpec[Case](
            "C3",
            "coe_revised",
            PUBLISHED_STATES,
            None,
            (SERVICE_MANAGER,),
            "Publish a revised version, with a change note",
            guards=(REVISION_COMPLETE, REVISION_ACTIONS, BLAMELESS_REVISION),
            data=CoeRevision,
            record=_record_revision,
            effects=("store_version", "notify_network"),
            progress=False,
        ),
        TransitionSpec[Case](
            "C4",
            "exec_considered",
            PUBLISHED_STATES,
            None,
            REVIEWERS,
            "The Executive considered it (and any guidance it calls for)",
            data=ExecConsideration,
            record=_record_consideration,
            effects=("notify_service_manager",),
            progress=False,
        ),
        TransitionSpec[Case](
            "C5",
            "selected_for_review",
            ("PUBLISHED",),
            "SELECTED_FOR_REVIEW",
            (),
            "Drawn at random for a review session",
            data=ReviewDraw,
            record=_record_draw,
            effects=("notify_service_manager",),
            automatic=True,
        ),
        TransitionSpec[Case](
            "C6",
            "review_deferred",
            ("SELECTED_FOR_REVIEW",),
            "PUBLISHED",
            REVIEWERS,
            "The session ran out of time: back to the pool",
            guards=(DRAWN_IN_SESSION,),
            data=ReviewOutcome,
            record=_record_deferral,
            progress=False,
        ),
        TransitionSpec[Case](
            "C7",
            "presented_and_discussed",
            ("SELECTED_FOR_REVIEW",),
            "REVIEWED",
            REVIEWERS,
            "Presented by its SM and discussed; outputs recorded",
            guards=(DRAWN_IN_SESSION, OUTPUTS_RECORDED),
            data=ReviewOutcome,
            record=_record_review,
            effects=("notify_service_manager",),
        ),
        TransitionSpec[Case](
            "C8",
            "further_discussion_required",
            ("SELECTED_FOR_REVIEW",),
            "FURTHER_DISCUSSION",
            REVIEWERS,
            "More discussion is needed: a follow-up is scheduled",
            guards=(DRAWN_IN_SESSION,),
            data=ReviewOutcome,
            effects=("notify_service_manager",),
            progress=False,
        ),
        TransitionSpec[Case](
            "C9",
            "follow_up_held",
            ("FURTHER_DISCUSSION",),
            "REVIEWED",
            REVIEWERS,
            "The follow-up was held; outputs recorded",
            data=FollowUp,
            record=_record_review,
            effects=("notify_service_manager",),
        ),
        TransitionSpec[Case](
            "C10a",
            "closure_requested",
            ("PUBLISHED", "REVIEWED"),
            None,
            (SERVICE_MANAGER,),
            "The Service Manager asks to close it",
            requires=(ACTIONS_FINISHED, REVIEWED_OR_CONSIDERED),
            guards=(NOT_REQUESTED_YET,),
            record=_record_closure_request,
            effects=("notify_network",),
            progress=False,
        ),
        TransitionSpec[Case](
            "C10",
            "coe_closed",
            ("PUBLISHED", "REVIEWED"),
            "CLOSED",
            REVIEWERS,
            "The Executive acknowledges the closure; the final version is published",
            requires=(ACTIONS_FINISHED, REVIEWED_OR_CONSIDERED, CLOSURE_REQUESTED),
            record=_record_closed,
            effects=("store_version", "notify_service_manager"),
        ),
        TransitionSpec[Case](
            "C11",
            "coe_reopened",
            ("CLOSED",),
            "REVIEWED",
            (EXEC,),
            "Reopen it (say, the problem recurred)",
            record=_record_reopened,
            reason_required=True,
            effects=("notify_service_manager",),
            progress=False,
        ),
        TransitionSpec[Case](
            "C12",
            "coe_voided",
            ("DRAFT", "PUBLISHED"),
            "VOIDED",
            (EXEC,),
            "Void it (opened by mistake, or a duplicate of another CoE)",
            guards=(NOT_ITSELF,),
            data=Voiding,
            reason_required=True,
            effects=("notify_service_manager",),
            progress=False,
        ),
        TransitionSpec[Case](
            "C13",
            "coe_archived",
            ("CLOSED",),
            "ARCHIVED",
            (),
            "The reopen window ended",
            automatic=True,
        ),
        # Corrective actions (DOMAIN §9.4.2): items of the CoE, each with one owner.
        TransitionSpec[Case](
            "CA1",
            "action_added",
            PUBLISHED_STATES,
            None,
            (SERVICE_MANAGER, TEAM, *REVIEWERS),
            "Add a corrective action (the Executive's come from a review)",
            guards=(NEW_ACTION,),
            data=ActionPlan,
            record=_record_new_action,
            effects=("notify_action_owners",),
            progress=False,
        ),
        TransitionSpec[Case](
            "CA2",
            "action_started",
            ACTION_STATES,
            None,
            (ACTION_OWNER, SERVICE_MANAGER),
            "Work on an action has started",
            guards=(OPEN_ACTION, NOT_STARTED, OWNER_OR_MANAGER),
            data=ActionRef,
            record=_record_started,
            progress=False,
        ),
        TransitionSpec[Case](
            "CA3",
            "action_completed",
            ACTION_STATES,
            None,
            (ACTION_OWNER, SERVICE_MANAGER),
            "An action is done (with evidence)",
            guards=(OPEN_ACTION, OWNER_OR_MANAGER),
            data=ActionCompletion,
            record=_record_completed,
            effects=("notify_service_manager",),
            progress=False,
        ),
        TransitionSpec[Case](
            "CA4",
            "action_cancelled",
            ACTION_STATES,
            None,
            (SERVICE_MANAGER, *REVIEWERS),
            "An action is cancelled (with a rationale)",
            guards=(OPEN_ACTION, MAY_CANCEL),
            data=ActionCancellation,
            record=_record_cancelled,
            effects=("notify_service_manager",),
            progress=False,
        ),
        TransitionSpec[Case](
            "CA5",
            "action_due_date_changed",
            ACTION_STATES,
            None,
            (SERVICE_MANAGER,),
            "An action's due date moves (with a reason; changes are counted)",
            guards=(OPEN_ACTION, NEW_DUE_DATE),
            data=DueDateChangeRequest,
            record=_record_due_date,
            progress=False,
        ),
    ),
)


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

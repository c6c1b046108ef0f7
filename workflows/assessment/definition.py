"""A service assessment (DOMAIN §4, §9.2) as data: states, A2-A10, guards, clocks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models.assessment import (
    ALLOWED_DECISIONS,
    PROGRESS_DECISIONS,
    Agenda,
    AssessmentCase,
    AssessmentHeld,
    AssessmentSchedule,
    CriteriaDecisions,
    LifecycleDecision,
    ReportPublication,
    Reschedule,
    Verdict,
    overall_result,
)
from models.errors import UnknownPerson
from models.people import CaseRole, Delegation, Permit, Role
from workflows._clock import add_working_days
from workflows._definition import (
    ClockSpec,
    Effect,
    Guard,
    ProcessDefinition,
    Requirement,
    StateSpec,
    TransitionSpec,
)

Case = AssessmentCase

EXEC = Permit(role=Role.EXEC)
PANEL_ETM = Permit(role=Role.ETM, delegation=Delegation.ASSESSMENT_PANEL)
LEAD = Permit(role=CaseRole.LEAD_ASSESSOR)
PANEL = Permit(role=CaseRole.PANEL)
SERVICE_MANAGER = Permit(role=CaseRole.SERVICE_MANAGER)
ORGANISERS = (EXEC, PANEL_ETM)


# -- guards ---------------------------------------------------------------------------------------


def _panel_is_independent(case: Case, data: Any) -> list[str]:
    assert isinstance(data, AssessmentSchedule)
    problems = []
    for member in data.panel:
        try:
            person = case.directory.person(member.person)
        except UnknownPerson as err:
            problems.append(err.message)
            continue
        if member.person in case.team:
            problems.append(
                f"{person.label()} is on {case.request.service_id}'s own team and cannot assess it"
            )
    return problems


def _date_ahead(case: Case, data: Any) -> list[str]:
    assert isinstance(data, AssessmentSchedule | Reschedule)
    if data.date <= case.now():
        return [f"the date {data.date:%Y-%m-%d %H:%M} is not in the future"]
    return []


def _agenda_in_time(case: Case, data: Any) -> list[str]:
    assert case.schedule is not None
    lead_wd = case.policy.assessment.agenda_lead_wd
    latest = add_working_days(case.schedule.date, -lead_wd)
    if case.now() > latest:
        return [
            f"the agenda must go out at least {lead_wd} working days before the assessment "
            f"({case.schedule.date:%Y-%m-%d}); reschedule first (assessment_rescheduled)"
        ]
    return []


def _criteria_from_the_executive(case: Case, data: Any) -> list[str]:
    """The Executive chooses the criteria (DOMAIN §9.2 A3); a lead assessor publishing the
    agenda sends the policy's set for the assessment type."""
    assert isinstance(data, Agenda)
    if data.criteria is not None and case.acting_role == CaseRole.LEAD_ASSESSOR:
        return [
            "the Executive (or an ETM with assessment_panel) chooses other criteria; as lead "
            "assessor, publish the agenda without criteria to use the policy's set"
        ]
    return []


def _date_reached(case: Case) -> list[str]:
    assert case.schedule is not None
    if case.now() < case.schedule.date:
        return [f"the assessment is scheduled for {case.schedule.date:%Y-%m-%d %H:%M:%S} UTC"]
    return []


def _sm_attended(case: Case, data: Any) -> list[str]:
    assert isinstance(data, AssessmentHeld)
    if not data.service_manager_attended:
        return ["the Service Manager presents the service: reschedule if they could not attend"]
    return []


def _every_agenda_criterion(case: Case, data: Any) -> list[str]:
    assert isinstance(data, CriteriaDecisions)
    decided = [c.code for c in data.criteria]
    missing = [c for c in case.criteria if c not in decided]
    extra = [c for c in decided if c not in case.criteria]
    problems = []
    if missing:
        problems.append(f"no decision on agenda criteria: {', '.join(missing)}")
    if extra:
        problems.append(f"not on the agenda: {', '.join(extra)}")
    return problems


def _decision_fits_report(case: Case, data: Any) -> list[str]:
    assert isinstance(data, ReportPublication)
    kind = case.request.type
    allowed = ALLOWED_DECISIONS[kind]
    if data.lifecycle_decision not in allowed:
        return [
            f"a {kind} report decides one of {', '.join(sorted(allowed))}, "
            f"not {data.lifecycle_decision}"
        ]
    if (
        data.lifecycle_decision == LifecycleDecision.RETURN_TO_DISCOVERY
        and not case.policy.lifecycle.allow_return_to_discovery
    ):
        return ["the policy does not allow a return to discovery (allow_return_to_discovery)"]
    result = report_result(case, data)
    if data.lifecycle_decision in PROGRESS_DECISIONS and result != Verdict.MET:
        return [
            f"{data.lifecycle_decision} needs an overall result of MET; this report is {result}"
        ]
    return []


def report_result(case: Case, publication: ReportPublication) -> Verdict:
    """The policy's rule over the criteria, unless the panel overrode it (with a rationale)."""
    if publication.result_override is not None:
        return publication.result_override
    return overall_result(case.policy.assessment.overall_result_rule, case.decisions)


PANEL_INDEPENDENT = Guard[Case](
    "panel_independent", "no assessor from the service's team", _panel_is_independent
)
DATE_AHEAD = Guard[Case]("date_ahead", "a date in the future", _date_ahead)
AGENDA_IN_TIME = Guard[Case]("agenda_lead_time", "agenda sent in time", _agenda_in_time)
CRITERIA_FROM_EXEC = Guard[Case](
    "criteria_from_the_executive", "criteria chosen by the Executive", _criteria_from_the_executive
)
# Met by time passing, not by anyone: it names no supplier.
DATE_REACHED = Requirement[Case](
    "date_reached", "the assessment date", _date_reached, "", condition=True
)
SM_ATTENDED = Guard[Case]("sm_attended", "the Service Manager attended", _sm_attended)
EVERY_CRITERION = Guard[Case](
    "every_criterion", "a decision on each agenda criterion", _every_agenda_criterion
)
DECISION_FITS = Guard[Case](
    "decision_fits", "decision consistent with type and result", _decision_fits_report
)

# -- where accepted data lands -----------------------------------------------------------------


def _record_schedule(case: Case, data: Any, actor: str) -> None:
    case.schedule = data


def _record_reschedule(case: Case, data: Any, actor: str) -> None:
    assert case.schedule is not None
    case.schedule = case.schedule.model_copy(update={"date": data.date})


def _record_agenda(case: Case, data: Any, actor: str) -> None:
    assert isinstance(data, Agenda)
    case.criteria = list(data.criteria or case.policy.assessment.criteria[case.request.type])
    case.contract_version = case.contract.version


def _record_held(case: Case, data: Any, actor: str) -> None:
    case.held_at = case.now()


def _record_decisions(case: Case, data: Any, actor: str) -> None:
    case.decisions = list(data.criteria)


# -- clocks --------------------------------------------------------------------------------------


def _agenda_due(case: Case, now: datetime) -> datetime:
    assert case.schedule is not None
    return add_working_days(case.schedule.date, -case.policy.assessment.agenda_lead_wd)


def _schedule_epoch(case: Case) -> str:
    return case.schedule.date.isoformat() if case.schedule else ""


# -- the process -------------------------------------------------------------------------------

OPEN = ("REQUESTED", "SCHEDULED", "AGENDA_PUBLISHED")

ASSESSMENT = ProcessDefinition[Case](
    name="assessment",
    title="Service assessment",
    version=1,
    initial="REQUESTED",
    start=("A1", "assessment_requested"),
    states=(
        StateSpec(
            "REQUESTED", "Requested; the Executive books a date and a panel", clocks=("booking",)
        ),
        StateSpec(
            "SCHEDULED", "Date and panel set; the agenda goes out in advance", clocks=("agenda",)
        ),
        StateSpec("AGENDA_PUBLISHED", "Agenda with criteria sent; waiting for the date"),
        StateSpec(
            "HELD", "Held; the panel records a decision per criterion", clocks=("report_due",)
        ),
        StateSpec(
            "REPORT_DRAFT", "Decisions recorded; the report is published", clocks=("report_due",)
        ),
        StateSpec("PUBLISHED", "Report published for the whole service network", terminal=True),
        StateSpec("CANCELLED", "Cancelled", terminal=True),
    ),
    clocks=(
        ClockSpec[Case](
            "booking",
            "Assessment booking due",
            remind=(EXEC, PANEL_ETM, SERVICE_MANAGER),
            escalate_to=(EXEC,),
        ),
        ClockSpec[Case](
            "agenda",
            "Agenda due (lead time before the assessment)",
            remind=(LEAD, EXEC),
            escalate_to=(EXEC,),
            due=_agenda_due,
            epoch=_schedule_epoch,
        ),
        ClockSpec[Case](
            "report_due",
            "Assessment report due",
            remind=(LEAD, PANEL),
            escalate_to=(EXEC,),
        ),
    ),
    start_effects=("notify_executive",),
    effects={
        "notify_executive": Effect[Case](
            "tell the Executive an assessment is requested",
            lambda case: [case.directory.executive.id],
        ),
        "notify_panel": Effect[Case](
            "tell the Service Manager and the panel",
            lambda case: (
                [case.service_manager]
                + ([p.person for p in case.schedule.panel] if case.schedule else [])
            ),
        ),
        "publish_report": Effect[Case]("publish the report in the artefact store", after_move=True),
    },
    transitions=(
        TransitionSpec[Case](
            "A2",
            "assessment_scheduled",
            ("REQUESTED",),
            "SCHEDULED",
            ORGANISERS,
            "Set the date (agreed with the SM) and the panel",
            guards=(DATE_AHEAD, PANEL_INDEPENDENT),
            data=AssessmentSchedule,
            record=_record_schedule,
            effects=("notify_panel",),
        ),
        TransitionSpec[Case](
            "A3",
            "agenda_published",
            ("SCHEDULED",),
            "AGENDA_PUBLISHED",
            (LEAD, *ORGANISERS),
            "Send the agenda with the criteria; pin the contract version",
            guards=(AGENDA_IN_TIME, CRITERIA_FROM_EXEC),
            data=Agenda,
            record=_record_agenda,
            effects=("notify_panel",),
        ),
        TransitionSpec[Case](
            "A4",
            "assessment_rescheduled",
            ("SCHEDULED", "AGENDA_PUBLISHED"),
            "SCHEDULED",
            ORGANISERS,
            "Move the assessment to a new date",
            guards=(DATE_AHEAD,),
            data=Reschedule,
            record=_record_reschedule,
            reason_required=True,
            effects=("notify_panel",),
            progress=False,
        ),
        TransitionSpec[Case](
            "A5",
            "assessment_held",
            ("AGENDA_PUBLISHED",),
            "HELD",
            (LEAD, EXEC),
            "The assessment took place (the SM presented)",
            requires=(DATE_REACHED,),
            guards=(SM_ATTENDED,),
            data=AssessmentHeld,
            record=_record_held,
        ),
        TransitionSpec[Case](
            "A6",
            "decisions_recorded",
            ("HELD",),
            "REPORT_DRAFT",
            (LEAD, PANEL, EXEC),
            "Record MET / NOT_MET, what went well and what to improve, per criterion",
            guards=(EVERY_CRITERION,),
            data=CriteriaDecisions,
            record=_record_decisions,
        ),
        TransitionSpec[Case](
            "A7",
            "report_published",
            ("REPORT_DRAFT",),
            "PUBLISHED",
            (LEAD, EXEC, PANEL_ETM),
            "Publish the report with its result and lifecycle decision",
            guards=(DECISION_FITS,),
            data=ReportPublication,
            effects=("publish_report", "notify_panel", "notify_executive"),
        ),
        TransitionSpec[Case](
            "A10",
            "assessment_cancelled",
            (*OPEN, "HELD", "REPORT_DRAFT"),
            "CANCELLED",
            (*ORGANISERS, Permit(role=Role.ETM, delegation=Delegation.DECIDE_LIFECYCLE)),
            "Cancel the assessment (also sent by the lifecycle when the service is stopped)",
            reason_required=True,
            effects=("notify_panel",),
            progress=False,
        ),
    ),
)

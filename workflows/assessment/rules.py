"""The assessment process's rules (DOMAIN §4, §9.2): what its rows need, check and record.

``workflows/assessment/definition.py`` names these on its rows; each check is typed on the case
and the data model of the row it serves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

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
from models.case_state import Context
from models.errors import UnknownPerson
from models.people import CaseRole
from workflows._clock import add_working_days
from workflows._definition import Guard, Requirement

Case = AssessmentCase


class Dated(Protocol):
    """A command that sets the assessment's date (A2 schedules it, A4 moves it)."""

    @property
    def date(self) -> datetime: ...


# -- guards ---------------------------------------------------------------------------------------


def _panel_is_independent(case: Case, data: AssessmentSchedule, ctx: Context) -> list[str]:
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


def _date_ahead(case: Case, data: Dated, ctx: Context) -> list[str]:
    if data.date <= ctx.now:
        return [f"the date {data.date:%Y-%m-%d %H:%M} is not in the future"]
    return []


def _agenda_in_time(case: Case, data: Agenda, ctx: Context) -> list[str]:
    assert case.schedule is not None
    lead_wd = case.policy.assessment.agenda_lead_wd
    latest = add_working_days(case.schedule.date, -lead_wd)
    if ctx.now > latest:
        return [
            f"the agenda must go out at least {lead_wd} working days before the assessment "
            f"({case.schedule.date:%Y-%m-%d}); reschedule first (assessment_rescheduled)"
        ]
    return []


def _criteria_from_the_executive(case: Case, data: Agenda, ctx: Context) -> list[str]:
    """The Executive chooses the criteria (DOMAIN §9.2 A3); a lead assessor publishing the
    agenda sends the policy's set for the assessment type."""
    if data.criteria is not None and ctx.role == CaseRole.LEAD_ASSESSOR:
        return [
            "the Executive (or an ETM with assessment_panel) chooses other criteria; as lead "
            "assessor, publish the agenda without criteria to use the policy's set"
        ]
    return []


def _date_reached(case: Case, ctx: Context) -> list[str]:
    assert case.schedule is not None
    if ctx.now < case.schedule.date:
        return [f"the assessment is scheduled for {case.schedule.date:%Y-%m-%d %H:%M:%S} UTC"]
    return []


def _sm_attended(case: Case, data: AssessmentHeld, ctx: Context) -> list[str]:
    if not data.service_manager_attended:
        return ["the Service Manager presents the service: reschedule if they could not attend"]
    return []


def _every_agenda_criterion(case: Case, data: CriteriaDecisions, ctx: Context) -> list[str]:
    decided = [c.code for c in data.criteria]
    missing = [c for c in case.criteria if c not in decided]
    extra = [c for c in decided if c not in case.criteria]
    problems = []
    if missing:
        problems.append(f"no decision on agenda criteria: {', '.join(missing)}")
    if extra:
        problems.append(f"not on the agenda: {', '.join(extra)}")
    return problems


def _decision_fits_report(case: Case, data: ReportPublication, ctx: Context) -> list[str]:
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


PANEL_INDEPENDENT = Guard(
    "panel_independent", "no assessor from the service's team", _panel_is_independent
)
DATE_AHEAD = Guard("date_ahead", "a date in the future", _date_ahead)
AGENDA_IN_TIME = Guard("agenda_lead_time", "agenda sent in time", _agenda_in_time)
CRITERIA_FROM_EXEC = Guard(
    "criteria_from_the_executive", "criteria chosen by the Executive", _criteria_from_the_executive
)
# Met by time passing, not by anyone: it names no supplier.
DATE_REACHED = Requirement[Case](
    "date_reached", "the assessment date", _date_reached, "", condition=True
)
SM_ATTENDED = Guard("sm_attended", "the Service Manager attended", _sm_attended)
EVERY_CRITERION = Guard(
    "every_criterion", "a decision on each agenda criterion", _every_agenda_criterion
)
DECISION_FITS = Guard(
    "decision_fits", "decision consistent with type and result", _decision_fits_report
)

# -- where accepted data lands -----------------------------------------------------------------


def record_schedule(case: Case, data: AssessmentSchedule, ctx: Context) -> None:
    case.schedule = data


def record_reschedule(case: Case, data: Reschedule, ctx: Context) -> None:
    assert case.schedule is not None
    case.schedule = case.schedule.model_copy(update={"date": data.date})


def record_agenda(case: Case, data: Agenda, ctx: Context) -> None:
    case.criteria = list(data.criteria or case.policy.assessment.criteria[case.request.type])
    case.contract_version = case.contract.version


def record_held(case: Case, data: AssessmentHeld, ctx: Context) -> None:
    case.held_at = ctx.now


def record_decisions(case: Case, data: CriteriaDecisions, ctx: Context) -> None:
    case.decisions = list(data.criteria)


# -- clocks and notifications ----------------------------------------------------------------


def agenda_due(case: Case, now: datetime) -> datetime:
    assert case.schedule is not None
    return add_working_days(case.schedule.date, -case.policy.assessment.agenda_lead_wd)


def schedule_epoch(case: Case) -> str:
    return case.schedule.date.isoformat() if case.schedule else ""


def sm_and_panel(case: Case) -> list[str]:
    """The Service Manager and, once the assessment is scheduled, its panel."""
    return [case.service_manager] + (
        [p.person for p in case.schedule.panel] if case.schedule else []
    )

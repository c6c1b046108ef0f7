"""A service assessment (DOMAIN §4, §9.2) as data: states, A2-A10, guards, clocks.

The rules the rows name (guards, what each accepted command records, the clocks' dates) are in
``workflows/assessment/rules.py``.
"""

from __future__ import annotations

from models.assessment import (
    Agenda,
    AssessmentCase,
    AssessmentHeld,
    AssessmentSchedule,
    CriteriaDecisions,
    ReportPublication,
    Reschedule,
)
from models.people import Delegation
from models.permits import (
    EXECUTIVE,
    EXECUTIVE_ONLY,
    LEAD_ASSESSOR,
    PANEL,
    PANEL_ORGANISERS,
    SERVICE_MANAGER,
    etm,
)
from workflows._definition import ClockSpec, Effect, ProcessDefinition, StateSpec, transition
from workflows.assessment.rules import (
    AGENDA_IN_TIME,
    CRITERIA_FROM_EXEC,
    DATE_AHEAD,
    DATE_REACHED,
    DECISION_FITS,
    EVERY_CRITERION,
    PANEL_INDEPENDENT,
    SM_ATTENDED,
    agenda_due,
    record_agenda,
    record_decisions,
    record_held,
    record_reschedule,
    record_schedule,
    schedule_epoch,
    sm_and_panel,
)

Case = AssessmentCase

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
            remind=(*PANEL_ORGANISERS, SERVICE_MANAGER),
            escalate_to=EXECUTIVE_ONLY,
            policy=lambda p: p.assessment.booking,
        ),
        ClockSpec[Case](
            "agenda",
            "Agenda due (lead time before the assessment)",
            remind=(LEAD_ASSESSOR, EXECUTIVE),
            escalate_to=EXECUTIVE_ONLY,
            due=agenda_due,
            epoch=schedule_epoch,
            policy=lambda p: p.assessment.agenda,
        ),
        ClockSpec[Case](
            "report_due",
            "Assessment report due",
            remind=(LEAD_ASSESSOR, PANEL),
            escalate_to=EXECUTIVE_ONLY,
            policy=lambda p: p.assessment.report_due,
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
            sm_and_panel,
        ),
        "publish_report": Effect[Case]("publish the report in the artefact store", after_move=True),
    },
    transitions=(
        transition(
            id="A2",
            trigger="assessment_scheduled",
            source="REQUESTED",
            dest="SCHEDULED",
            who=PANEL_ORGANISERS,
            description="Set the date (agreed with the SM) and the panel",
            guards=(DATE_AHEAD, PANEL_INDEPENDENT),
            data=AssessmentSchedule,
            record=record_schedule,
            effects=("notify_panel",),
        ),
        transition(
            id="A3",
            trigger="agenda_published",
            source="SCHEDULED",
            dest="AGENDA_PUBLISHED",
            who=(LEAD_ASSESSOR, *PANEL_ORGANISERS),
            description="Send the agenda with the criteria; pin the contract version",
            guards=(AGENDA_IN_TIME, CRITERIA_FROM_EXEC),
            data=Agenda,
            record=record_agenda,
            effects=("notify_panel",),
        ),
        transition(
            id="A4",
            trigger="assessment_rescheduled",
            source=("SCHEDULED", "AGENDA_PUBLISHED"),
            dest="SCHEDULED",
            who=PANEL_ORGANISERS,
            description="Move the assessment to a new date",
            guards=(DATE_AHEAD,),
            data=Reschedule,
            record=record_reschedule,
            reason_required=True,
            effects=("notify_panel",),
            progress=False,
        ),
        transition(
            id="A5",
            trigger="assessment_held",
            source="AGENDA_PUBLISHED",
            dest="HELD",
            who=(LEAD_ASSESSOR, EXECUTIVE),
            description="The assessment took place (the SM presented)",
            needs=(DATE_REACHED,),
            guards=(SM_ATTENDED,),
            data=AssessmentHeld,
            record=record_held,
        ),
        transition(
            id="A6",
            trigger="decisions_recorded",
            source="HELD",
            dest="REPORT_DRAFT",
            who=(LEAD_ASSESSOR, PANEL, EXECUTIVE),
            description="Record MET / NOT_MET, what went well and what to improve, per criterion",
            guards=(EVERY_CRITERION,),
            data=CriteriaDecisions,
            record=record_decisions,
        ),
        transition(
            id="A7",
            trigger="report_published",
            source="REPORT_DRAFT",
            dest="PUBLISHED",
            who=(LEAD_ASSESSOR, EXECUTIVE, etm(Delegation.ASSESSMENT_PANEL)),
            description="Publish the report with its result and lifecycle decision",
            guards=(DECISION_FITS,),
            data=ReportPublication,
            effects=("publish_report", "notify_panel", "notify_executive"),
        ),
        transition(
            id="A10",
            trigger="assessment_cancelled",
            source=(*OPEN, "HELD", "REPORT_DRAFT"),
            dest="CANCELLED",
            who=(*PANEL_ORGANISERS, etm(Delegation.DECIDE_LIFECYCLE)),
            description=(
                "Cancel the assessment (also sent by the lifecycle when the service is stopped)"
            ),
            reason_required=True,
            effects=("notify_panel",),
            progress=False,
        ),
    ),
)

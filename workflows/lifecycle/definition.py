"""The service lifecycle (DOMAIN §3, §9.1) as a table: one row per move, L3-L21. The phases and
their clocks are in ``phases.py``, what rows check in ``rules.py``, what they record in
``records.py``."""

from __future__ import annotations

from models.assessment import LifecycleDecision
from models.contract import BudgetAllocation, ContractCheckpoint
from models.criteria import AssessmentType
from models.establishment import ServiceManagerAppointment
from models.lifecycle import (
    AssessmentRequest,
    ContractAlteration,
    ContractChangeProposal,
    DecommissionCompletion,
    DecommissionDecision,
    GateDecision,
    LifecycleCase,
    MandateAcknowledgement,
    MandateIssued,
    MetricReport,
    ReturnToDiscovery,
)
from models.permits import (
    BUDGET_HOLDERS,
    CONTRACT_PUBLISHERS,
    EXECUTIVE_ONLY,
    LIFECYCLE_DECIDERS,
    PANEL_ORGANISERS,
    SERVICE_MANAGER,
    SM_APPOINTERS,
)
from models.stages import LifecycleStage
from workflows._definition import (
    Guard,
    ProcessDefinition,
    Requirement,
    artefact,
    transition,
)
from workflows.lifecycle import phases, records, rules

Case = LifecycleCase
Stage = LifecycleStage
D = LifecycleDecision
DISCOVERY_EXIT = AssessmentType.DISCOVERY_EXIT
ALPHA_EXIT = AssessmentType.ALPHA_EXIT
BETA_EXIT = AssessmentType.BETA_EXIT
OPEN_PHASES = (Stage.DISCOVERY, Stage.ALPHA, Stage.BETA, Stage.LIVE, Stage.DECOMMISSIONING)

# Cleared by the actions' owners in the CoE cases, not by anyone in this one.
ACTIONS_ON_TIME = Requirement[Case](
    "actions_on_time",
    "no corrective action long overdue",
    rules.corrective_actions_on_time,
    "",
    condition=True,
)
METRICS_REPORTED = Requirement[Case](
    "metrics_reported", "contract metric values", rules.metrics_reported, "metric_report"
)
NEXT_BUDGET_PHASE = Guard(
    "next_budget_phase", "budget for the next phase", rules.next_budget_phase_matches
)

LIFECYCLE = ProcessDefinition[Case](
    name="lifecycle",
    title="Service lifecycle",
    version=2,
    initial=Stage.DISCOVERY,
    start=("L1", "service_established"),
    states=phases.STATES,
    transitions=(
        transition(
            id="L3",
            trigger="further_discovery_approved",
            source=Stage.DISCOVERY,
            dest=Stage.DISCOVERY,
            who=LIFECYCLE_DECIDERS,
            description="Another discovery round (MORE_RESEARCH) with its budget",
            needs=(rules.gate_report_published(DISCOVERY_EXIT),),
            guards=(
                rules.report_guard(DISCOVERY_EXIT, D.MORE_RESEARCH),
                rules.budget_in_decision(Stage.DISCOVERY),
            ),
            data=GateDecision,
            record=records.new_round(Stage.DISCOVERY),
            effects=("request_gate_assessment", "notify_service_manager"),
            progress=False,
        ),
        transition(
            id="L4",
            trigger="progress_to_alpha",
            source=Stage.DISCOVERY,
            dest=Stage.ALPHA,
            who=LIFECYCLE_DECIDERS,
            description=(
                "Move to alpha (DISCOVERY_EXIT MET, PROGRESS_TO_ALPHA) once its budget is there"
            ),
            needs=(
                rules.gate_report_published(DISCOVERY_EXIT),
                rules.contract_ready(ContractCheckpoint.ALPHA),
                ACTIONS_ON_TIME,
            ),
            guards=(
                rules.report_guard(DISCOVERY_EXIT, D.PROGRESS_TO_ALPHA, needs_met=True),
                NEXT_BUDGET_PHASE,
            ),
            data=GateDecision,
            record=records.progress,
            effects=("publish_contract", "request_gate_assessment", "notify_service_manager"),
            defer=rules.await_next_budget,
        ),
        transition(
            id="L5",
            trigger="not_required_confirmed",
            source=Stage.DISCOVERY,
            dest=Stage.DECOMMISSIONED,
            who=LIFECYCLE_DECIDERS,
            description=(
                "Stop at the discovery gate (NOT_REQUIRED); reasons recorded in the contract"
            ),
            guards=(rules.report_guard(DISCOVERY_EXIT, D.NOT_REQUIRED),),
            data=DecommissionDecision,
            record=records.decommission,
            effects=("publish_contract", "close_assessments", "notify_service_manager"),
            progress=False,
        ),
        transition(
            id="L6",
            trigger="alpha_extended",
            source=Stage.ALPHA,
            dest=Stage.ALPHA,
            who=LIFECYCLE_DECIDERS,
            description="Another alpha round (UNDETERMINED) with its budget",
            needs=(rules.gate_report_published(ALPHA_EXIT),),
            guards=(
                rules.report_guard(ALPHA_EXIT, D.UNDETERMINED),
                rules.budget_in_decision(Stage.ALPHA),
            ),
            data=GateDecision,
            record=records.new_round(Stage.ALPHA),
            effects=("request_gate_assessment", "notify_service_manager"),
            progress=False,
        ),
        transition(
            id="L7",
            trigger="progress_to_beta",
            source=Stage.ALPHA,
            dest=Stage.BETA,
            who=LIFECYCLE_DECIDERS,
            description="Move to beta (ALPHA_EXIT MET, PROGRESS_TO_BETA) once its budget is there",
            needs=(
                rules.gate_report_published(ALPHA_EXIT),
                rules.contract_ready(ContractCheckpoint.BETA),
                ACTIONS_ON_TIME,
            ),
            guards=(
                rules.report_guard(ALPHA_EXIT, D.PROGRESS_TO_BETA, needs_met=True),
                NEXT_BUDGET_PHASE,
            ),
            data=GateDecision,
            record=records.progress,
            effects=("publish_contract", "request_gate_assessment", "notify_service_manager"),
            defer=rules.await_next_budget,
        ),
        transition(
            id="L8",
            trigger="no_viable_solution_confirmed",
            source=Stage.ALPHA,
            dest=Stage.DECOMMISSIONED,
            who=LIFECYCLE_DECIDERS,
            description=(
                "Stop at the alpha gate (NO_SUITABLE_WAY); reasons recorded in the contract"
            ),
            guards=(rules.report_guard(ALPHA_EXIT, D.NO_SUITABLE_WAY),),
            data=DecommissionDecision,
            record=records.decommission,
            effects=("publish_contract", "close_assessments", "notify_service_manager"),
            progress=False,
        ),
        transition(
            id="L9",
            trigger="returned_to_discovery",
            source=Stage.ALPHA,
            dest=Stage.DISCOVERY,
            who=EXECUTIVE_ONLY,
            description="Back to discovery (only if the policy allows it)",
            guards=(
                Guard("return_allowed", "policy allows returning", rules.return_allowed),
                rules.budget_in_decision(Stage.DISCOVERY),
            ),
            data=ReturnToDiscovery,
            record=records.new_round(Stage.DISCOVERY),
            effects=(
                "publish_contract",
                "close_assessments",
                "request_gate_assessment",
                "notify_service_manager",
            ),
            reason_required=True,
            progress=False,
        ),
        transition(
            id="L11",
            trigger="go_live_approved",
            source=Stage.BETA,
            dest=Stage.LIVE,
            who=LIFECYCLE_DECIDERS,
            description="Move to live (BETA_EXIT MET, GO_LIVE) once its budget is there",
            needs=(
                rules.gate_report_published(BETA_EXIT),
                rules.contract_ready(ContractCheckpoint.LIVE),
                METRICS_REPORTED,
                ACTIONS_ON_TIME,
            ),
            guards=(rules.report_guard(BETA_EXIT, D.GO_LIVE, needs_met=True), NEXT_BUDGET_PHASE),
            data=GateDecision,
            record=records.progress,
            effects=("publish_contract", "notify_service_manager"),
            defer=rules.await_next_budget,
        ),
        transition(
            id="L12",
            trigger="beta_continued",
            source=Stage.BETA,
            dest=Stage.BETA,
            who=LIFECYCLE_DECIDERS,
            description="Stay in beta after NOT_MET; a reassessment is requested",
            needs=(rules.gate_report_published(BETA_EXIT),),
            guards=(rules.report_guard(BETA_EXIT, D.CONTINUE_BETA),),
            data=GateDecision,
            record=records.reassessment,
            effects=("request_gate_assessment", "notify_service_manager"),
            progress=False,
        ),
        transition(
            id="L13",
            trigger="periodic_assessment_recorded",
            source=Stage.LIVE,
            dest=Stage.LIVE,
            who=(),
            description="A live assessment's report arrived; the next one is planned from it",
            # The engine fires it with the report's ReportSummary.
            record=records.periodic,
            effects=("notify_service_manager",),
            progress=False,
            automatic=True,
        ),
        transition(
            id="L14",
            trigger="decommission_decided",
            source=(Stage.DISCOVERY, Stage.ALPHA),
            dest=Stage.DECOMMISSIONED,
            who=LIFECYCLE_DECIDERS,
            description="Stop the service (reasons recorded in the contract)",
            data=DecommissionDecision,
            record=records.decommission,
            effects=("publish_contract", "close_assessments", "notify_service_manager"),
            progress=False,
        ),
        transition(
            id="L15",
            trigger="decommissioning_started",
            source=(Stage.BETA, Stage.LIVE),
            dest=Stage.DECOMMISSIONING,
            who=LIFECYCLE_DECIDERS,
            description="Start retiring the service (reasons recorded; users migrate away)",
            data=DecommissionDecision,
            record=records.decommission,
            effects=(
                "publish_contract",
                "close_assessments",
                "notify_service_manager",
                "notify_dependants",
            ),
            progress=False,
        ),
        transition(
            id="L16",
            trigger="decommission_completed",
            source=Stage.DECOMMISSIONING,
            dest=Stage.DECOMMISSIONED,
            who=LIFECYCLE_DECIDERS,
            description="Finish: guidance published, no service still depends on it",
            guards=(
                Guard("migration_guidance", "migration guidance", rules.migration_guidance),
                Guard("no_dependants", "no live dependants", rules.no_dependants),
            ),
            data=DecommissionCompletion,
            record=records.guidance,
            effects=("publish_contract", "notify_service_manager", "notify_dependants"),
        ),
        transition(
            id="L17",
            trigger="contract_altered",
            source=OPEN_PHASES,
            dest=None,
            who=CONTRACT_PUBLISHERS,
            description="Publish a new contract version (sparingly)",
            guards=(Guard("alteration_fits", "a real change", rules.alteration_fits),),
            data=ContractAlteration,
            record=records.alteration,
            effects=("publish_contract", "notify_service_manager", "notify_dependants"),
            progress=False,
        ),
        transition(
            id="L18",
            trigger="service_manager_replaced",
            source=OPEN_PHASES,
            dest=None,
            who=SM_APPOINTERS,
            description="Replace the Service Manager",
            guards=(Guard("new_manager", "a new, unconflicted SM", rules.new_manager),),
            data=ServiceManagerAppointment,
            record=records.manager,
            effects=("publish_contract", "notify_service_manager"),
            reason_required=True,
            progress=False,
        ),
        transition(
            id="L19",
            trigger="budget_changed",
            source=OPEN_PHASES,
            dest=None,
            who=BUDGET_HOLDERS,
            description="Allocate or change a phase's budget",
            guards=(
                Guard("budget_phase", "this or the next phase", rules.budget_phase_current_or_next),
            ),
            data=BudgetAllocation,
            record=records.budget,
            progress=False,
        ),
        transition(
            id="L20",
            trigger="mandate_issued",
            source=OPEN_PHASES,
            dest=None,
            who=LIFECYCLE_DECIDERS,
            description="Issue a mandate (the contract stays as it is)",
            guards=(Guard("mandate_new", "a new mandate id", rules.mandate_new),),
            data=MandateIssued,
            record=records.mandate,
            effects=("notify_service_manager",),
            progress=False,
        ),
        transition(
            id="L20a",
            trigger="mandate_acknowledged",
            source=OPEN_PHASES,
            dest=None,
            who=(SERVICE_MANAGER,),
            description="The Service Manager acknowledges a mandate",
            guards=(Guard("mandate_open", "an unacknowledged mandate", rules.mandate_open),),
            data=MandateAcknowledgement,
            record=records.acknowledgement,
            progress=False,
        ),
        transition(
            id="L21",
            trigger="assessment_requested",
            source=OPEN_PHASES,
            dest=None,
            who=(*PANEL_ORGANISERS, SERVICE_MANAGER),
            description=(
                "Ask for an assessment (an ad hoc one, or the gate again after a cancellation)"
            ),
            guards=(
                Guard("assessment_wanted", "no such assessment open", rules.assessment_wanted),
            ),
            data=AssessmentRequest,
            effects=("request_assessment",),
            reason_required=True,
            progress=False,
        ),
    ),
    artefacts=(
        artefact(
            kind="metric_report",
            label="Contract metric values for a period",
            model=MetricReport,
            states=(Stage.ALPHA, Stage.BETA, Stage.LIVE),
            who=(SERVICE_MANAGER,),
            record=records.metrics,
            guards=(Guard("metrics_known", "contract measures", rules.metrics_known),),
        ),
        artefact(
            kind="contract_change_proposal",
            label="A Service Manager's proposal to change the contract",
            model=ContractChangeProposal,
            states=OPEN_PHASES,
            who=(SERVICE_MANAGER,),
            record=records.nothing,
        ),
    ),
    clocks=phases.CLOCKS,
    effects=phases.EFFECTS,
)

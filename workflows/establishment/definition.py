"""Establishing a new service (DOMAIN §6, §9.3) as data: states, E1-E11, guards, artefacts.

The rules the rows name (requirements, guards, what each accepted command records) are in
``workflows/establishment/rules.py``; E1, which starts the case, is ``rules.check_demand``.
"""

from __future__ import annotations

from models.contract import BudgetAllocation, ServiceContract
from models.establishment import EstablishmentCase, RoutingDecision, ServiceManagerAppointment
from models.permits import (
    ANY_ETM,
    APPOINTED_SM,
    BUDGET_HOLDERS,
    CONTRACT_PUBLISHERS,
    ESTABLISHERS,
    EXECUTIVE,
    EXECUTIVE_ONLY,
    PROPOSER,
    SM_APPOINTERS,
    TRIAGERS,
)
from models.proposal import DiscoveryPlan
from workflows._definition import (
    ClockSpec,
    Effect,
    ProcessDefinition,
    StateSpec,
    artefact,
    transition,
)
from workflows.establishment.rules import (
    BUDGET_ALLOCATED,
    BUDGET_FOR_DISCOVERY,
    CONTRACT_COMPLETE,
    DRAFT_IS_A_DRAFT,
    PLAN_AGREED,
    SERVICE_ID_IS_NEW,
    SM_APPOINTED,
    SM_NOT_CONFLICTED,
    TARGET_IS_LIVE,
    record_appointment,
    record_budget,
    record_contract,
    record_plan,
    record_routing,
)

Case = EstablishmentCase

# -- the process -----------------------------------------------------------------------------

PRE_ESTABLISHED = ("PROPOSED", "IN_TRIAGE", "APPROVED", "CONTRACT_DRAFTING", "READY_TO_ESTABLISH")

ESTABLISHMENT = ProcessDefinition[Case](
    name="establishment",
    title="Establishing a new service",
    version=2,  # v2: E10 hands the service over to its lifecycle
    initial="PROPOSED",
    start=("E1", "demand_raised"),
    states=(
        StateSpec(
            "PROPOSED",
            "Demand recorded; waiting for the Executive to triage it",
            clocks=("triage",),
        ),
        StateSpec(
            "IN_TRIAGE",
            "The Executive is deciding: existing service, decline or new service",
            clocks=("triage",),
        ),
        StateSpec(
            "ROUTED_TO_EXISTING",
            "The needs fit an existing service; its contract will change",
            terminal=True,
        ),
        StateSpec(
            "DECLINED",
            "The Executive does not want the organisation to meet these needs",
            terminal=True,
        ),
        StateSpec(
            "APPROVED",
            "A new service will be established; drafting has not started",
            clocks=("drafting",),
        ),
        StateSpec(
            "CONTRACT_DRAFTING",
            "Contract v0 being drafted; SM and discovery budget to settle",
            clocks=("drafting",),
        ),
        StateSpec(
            "READY_TO_ESTABLISH",
            "Draft complete; the Executive publishes contract v1",
            clocks=("drafting",),
        ),
        StateSpec(
            "ESTABLISHED", "Contract v1 published; the service enters Discovery", terminal=True
        ),
        StateSpec(
            "WITHDRAWN", "The proposer or the Executive withdrew the proposal", terminal=True
        ),
    ),
    clocks=(
        ClockSpec[Case](
            "triage",
            "Triage decision due",
            remind=TRIAGERS,
            escalate_to=EXECUTIVE_ONLY,
            policy=lambda p: p.establishment.triage,
        ),
        ClockSpec[Case](
            "drafting",
            "Contract drafting due",
            remind=(*ESTABLISHERS, APPOINTED_SM),
            escalate_to=EXECUTIVE_ONLY,
            policy=lambda p: p.establishment.drafting,
        ),
    ),
    artefacts=(
        artefact(
            kind="service_contract",
            label="Service contract draft (v0)",
            model=ServiceContract,
            states=("CONTRACT_DRAFTING",),
            who=(EXECUTIVE, ANY_ETM, APPOINTED_SM),
            record=record_contract,
            guards=(DRAFT_IS_A_DRAFT,),
        ),
        artefact(
            kind="discovery_plan",
            label="Discovery timeline agreed with the Service Manager",
            model=DiscoveryPlan,
            states=("CONTRACT_DRAFTING", "READY_TO_ESTABLISH"),
            who=(APPOINTED_SM,),
            record=record_plan,
        ),
    ),
    start_effects=("notify_executive",),
    effects={
        "notify_executive": Effect[Case](
            "tell the Executive a proposal waits for triage",
            lambda case: [case.directory.executive.id],
        ),
        "notify_proposer": Effect[Case](
            "tell the proposer what was decided", lambda case: [case.proposer]
        ),
        "notify_target_service": Effect[Case](
            "ask the target service's SM to propose the contract change",
            lambda case: [case.routed_to.consulted_service_manager] if case.routed_to else [],
        ),
        "notify_service_manager": Effect[Case](
            "tell the appointed Service Manager",
            lambda case: [case.service_manager] if case.service_manager else [],
        ),
        "publish_contract": Effect[Case]("publish contract v1 in the artefact store"),
        "start_lifecycle": Effect[Case](
            "hand the service over to its lifecycle in Discovery (L1)", after_move=True
        ),
    },
    transitions=(
        transition(
            id="E2",
            trigger="triage_started",
            source="PROPOSED",
            dest="IN_TRIAGE",
            who=TRIAGERS,
            description="Start triaging the proposal",
        ),
        transition(
            id="E3",
            trigger="routed_to_existing_service",
            source="IN_TRIAGE",
            dest="ROUTED_TO_EXISTING",
            who=TRIAGERS,
            description="The needs fit an existing service (its SM consulted)",
            guards=(TARGET_IS_LIVE,),
            data=RoutingDecision,
            record=record_routing,
            reason_required=True,
            effects=("notify_target_service", "notify_proposer"),
            progress=False,
        ),
        transition(
            id="E4",
            trigger="proposal_declined",
            source="IN_TRIAGE",
            dest="DECLINED",
            who=TRIAGERS,
            description="The organisation will not meet these needs",
            reason_required=True,
            effects=("notify_proposer",),
            progress=False,
        ),
        transition(
            id="E5",
            trigger="proposal_approved",
            source="IN_TRIAGE",
            dest="APPROVED",
            who=TRIAGERS,
            description="Establish a new service for these needs",
            effects=("notify_proposer",),
        ),
        transition(
            id="E6",
            trigger="drafting_started",
            source="APPROVED",
            dest="CONTRACT_DRAFTING",
            who=ESTABLISHERS,
            description="Start drafting contract v0",
        ),
        transition(
            id="E7",
            trigger="sm_appointed",
            source="CONTRACT_DRAFTING",
            dest=None,
            who=SM_APPOINTERS,
            description="Appoint the Service Manager",
            guards=(SM_NOT_CONFLICTED,),
            data=ServiceManagerAppointment,
            record=record_appointment,
            effects=("notify_service_manager",),
            progress=False,
        ),
        transition(
            id="E8",
            trigger="discovery_budget_allocated",
            source="CONTRACT_DRAFTING",
            dest=None,
            who=BUDGET_HOLDERS,
            description="Allocate the discovery budget",
            guards=(BUDGET_FOR_DISCOVERY,),
            data=BudgetAllocation,
            record=record_budget,
            progress=False,
        ),
        transition(
            id="E9",
            trigger="draft_completed",
            source="CONTRACT_DRAFTING",
            dest="READY_TO_ESTABLISH",
            who=(*ESTABLISHERS, APPOINTED_SM),
            description="Declare contract v0 complete",
            needs=(CONTRACT_COMPLETE, SM_APPOINTED, BUDGET_ALLOCATED),
        ),
        transition(
            id="E10",
            trigger="service_established",
            source="READY_TO_ESTABLISH",
            dest="ESTABLISHED",
            who=CONTRACT_PUBLISHERS,
            description="Publish contract v1; the service enters Discovery",
            needs=(CONTRACT_COMPLETE, SM_APPOINTED, BUDGET_ALLOCATED, PLAN_AGREED),
            guards=(SERVICE_ID_IS_NEW,),
            effects=(
                "publish_contract",
                "start_lifecycle",
                "notify_service_manager",
                "notify_proposer",
            ),
        ),
        transition(
            id="E11",
            trigger="proposal_withdrawn",
            source=PRE_ESTABLISHED,
            dest="WITHDRAWN",
            who=(PROPOSER, EXECUTIVE),
            description="Withdraw the proposal",
            reason_required=True,
            effects=("notify_proposer",),
            progress=False,
        ),
    ),
)

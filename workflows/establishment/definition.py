"""Establishing a new service (DOMAIN §6, §9.3) as data: states, E1-E11, guards, artefacts."""

from __future__ import annotations

from typing import Any

from models.contract import BudgetAllocation, ContractCheckpoint, LifecycleStage, ServiceContract
from models.errors import GuardFailed
from models.establishment import EstablishmentCase, RoutingDecision, ServiceManagerAppointment
from models.people import ActingAs, CaseRole, Delegation, Directory, Permit, Role
from models.proposal import DiscoveryPlan, Proposal
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

Case = EstablishmentCase

EXEC = Permit(role=Role.EXEC)
ANY_ETM = Permit(role=Role.ETM)
PROPOSER = Permit(role=CaseRole.PROPOSER)
APPOINTED_SM = Permit(role=CaseRole.APPOINTED_SM)


def etm(delegation: Delegation) -> Permit:
    return Permit(role=Role.ETM, delegation=delegation)


TRIAGERS = (EXEC, etm(Delegation.TRIAGE_DEMAND))

# -- requirements: what the case must hold, checked over state alone ---------------------------


def _contract_complete(case: Case) -> list[str]:
    if case.contract is None:
        return ["no service_contract draft has been submitted"]
    return case.contract.missing_for(ContractCheckpoint.ESTABLISHMENT)


def _sm_appointed(case: Case) -> list[str]:
    return [] if case.service_manager else ["no Service Manager has been appointed (sm_appointed)"]


def _budget_allocated(case: Case) -> list[str]:
    if case.budget is None:
        return ["no discovery budget has been allocated (discovery_budget_allocated)"]
    return []


def _plan_agreed(case: Case) -> list[str]:
    if case.discovery_plan is None:
        return ["no discovery_plan (target end date) has been submitted"]
    if case.discovery_plan_by != case.service_manager:
        return [
            f"the discovery plan was submitted by {case.discovery_plan_by}, not agreed by the "
            f"appointed Service Manager {case.service_manager}: the SM submits it"
        ]
    return []


CONTRACT_COMPLETE = Requirement[Case](
    "contract_complete", "service contract draft", _contract_complete, "service_contract"
)
SM_APPOINTED = Requirement[Case]("sm_appointed", "Service Manager", _sm_appointed, "sm_appointed")
BUDGET_ALLOCATED = Requirement[Case](
    "discovery_budget", "discovery budget", _budget_allocated, "discovery_budget_allocated"
)
PLAN_AGREED = Requirement[Case](
    "discovery_plan_agreed", "discovery timeline", _plan_agreed, "discovery_plan"
)

# -- guards: rules over the case and the command's data ----------------------------------------


def _target_is_live(case: Case, data: Any) -> list[str]:
    assert isinstance(data, RoutingDecision)
    service = case.directory.service(data.target_service)
    if service is None:
        return [f"{data.target_service} is not a service in the directory"]
    problems = []
    if not service.takes_new_needs:
        problems.append(f"{service.id} is {service.lifecycle_stage} and cannot take new needs")
    if data.consulted_service_manager != service.service_manager:
        problems.append(
            f"the consulted Service Manager must be {service.id}'s, {service.service_manager}"
        )
    return problems


def _sm_not_conflicted(case: Case, data: Any) -> list[str]:
    assert isinstance(data, ServiceManagerAppointment)
    return case.directory.manager_conflicts(data.person)


def _budget_is_for_discovery(case: Case, data: Any) -> list[str]:
    assert isinstance(data, BudgetAllocation)
    if data.phase != LifecycleStage.DISCOVERY:
        return [f"this is the discovery budget: phase must be DISCOVERY, not {data.phase}"]
    return []


def _service_id_is_new(case: Case, data: Any) -> list[str]:
    if case.contract and case.directory.service(case.contract.service_id):
        return [f"{case.contract.service_id} already exists in the directory; choose a new id"]
    return []


TARGET_IS_LIVE = Guard[Case](
    "target_service_open", "target service takes new needs", _target_is_live
)
SM_NOT_CONFLICTED = Guard[Case]("sm_not_conflicted", "SM not conflicted", _sm_not_conflicted)
BUDGET_FOR_DISCOVERY = Guard[Case](
    "budget_for_discovery", "budget is for discovery", _budget_is_for_discovery
)
SERVICE_ID_IS_NEW = Guard[Case]("service_id_new", "service id is new", _service_id_is_new)


def _draft_is_a_draft(case: Case, data: Any) -> list[str]:
    assert isinstance(data, ServiceContract)
    claims = {
        "version": data.version != 0,
        "published_at": data.published_at is not None,
        "published_by": data.published_by is not None,
        "decommission": data.decommission is not None,
        "onboarded_existing": data.onboarded_existing,
        "lifecycle_stage": data.lifecycle_stage != LifecycleStage.DISCOVERY,
    }
    wrong = [field for field, set_ in claims.items() if set_]
    if wrong:
        return [
            "a draft is version 0 in DISCOVERY, unpublished; only the Executive publishes "
            f"(E10). Remove: {', '.join(wrong)}"
        ]
    return []


DRAFT_IS_A_DRAFT = Guard[Case]("draft_is_a_draft", "a draft, not a publication", _draft_is_a_draft)

# -- where accepted data lands in the case (the guards read it from there) ----------------------


def _record_contract(case: Case, contract: Any, actor: str) -> None:
    case.contract = contract


def _record_plan(case: Case, plan: Any, actor: str) -> None:
    case.discovery_plan = plan
    case.discovery_plan_by = actor


def _record_routing(case: Case, routing: Any, actor: str) -> None:
    case.routed_to = routing


def _record_appointment(case: Case, appointment: Any, actor: str) -> None:
    case.service_manager = appointment.person


def _record_budget(case: Case, budget: Any, actor: str) -> None:
    case.budget = budget


# -- E1: raising a demand starts the case, so it is checked before the workflow exists ---------

RAISERS = (Permit(role=CaseRole.ANY),)


def check_demand(proposal: Proposal, proposer: str, directory: Directory) -> ActingAs:
    """E1 demand_raised: the proposer is in the directory and the related services exist.

    The CLI runs this before starting a case (a clear refusal, nothing started); the workflow
    runs it again first thing, for cases started another way.
    """
    acting = directory.authorise(proposer, RAISERS, {}, "raise a demand (E1 demand_raised)")
    unknown = [s for s in proposal.related_services if directory.service(s) is None]
    if unknown:
        raise GuardFailed(
            f"E1 demand_raised: related services not in the directory: {', '.join(unknown)}",
            problems=[f"{s} is not a service in the directory" for s in unknown],
        )
    return acting


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
        ClockSpec[Case]("triage", "Triage decision due", remind=TRIAGERS, escalate_to=(EXEC,)),
        ClockSpec[Case](
            "drafting",
            "Contract drafting due",
            remind=(EXEC, etm(Delegation.ESTABLISH_SERVICE), APPOINTED_SM),
            escalate_to=(EXEC,),
        ),
    ),
    artefacts=(
        ArtefactSpec[Case](
            "service_contract",
            "Service contract draft (v0)",
            ServiceContract,
            states=("CONTRACT_DRAFTING",),
            permits=(EXEC, ANY_ETM, APPOINTED_SM),
            record=_record_contract,
            guards=(DRAFT_IS_A_DRAFT,),
        ),
        ArtefactSpec[Case](
            "discovery_plan",
            "Discovery timeline agreed with the Service Manager",
            DiscoveryPlan,
            states=("CONTRACT_DRAFTING", "READY_TO_ESTABLISH"),
            permits=(APPOINTED_SM,),
            record=_record_plan,
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
        TransitionSpec[Case](
            "E2",
            "triage_started",
            ("PROPOSED",),
            "IN_TRIAGE",
            TRIAGERS,
            "Start triaging the proposal",
        ),
        TransitionSpec[Case](
            "E3",
            "routed_to_existing_service",
            ("IN_TRIAGE",),
            "ROUTED_TO_EXISTING",
            TRIAGERS,
            "The needs fit an existing service (its SM consulted)",
            guards=(TARGET_IS_LIVE,),
            data=RoutingDecision,
            record=_record_routing,
            reason_required=True,
            effects=("notify_target_service", "notify_proposer"),
            progress=False,
        ),
        TransitionSpec[Case](
            "E4",
            "proposal_declined",
            ("IN_TRIAGE",),
            "DECLINED",
            TRIAGERS,
            "The organisation will not meet these needs",
            reason_required=True,
            effects=("notify_proposer",),
            progress=False,
        ),
        TransitionSpec[Case](
            "E5",
            "proposal_approved",
            ("IN_TRIAGE",),
            "APPROVED",
            TRIAGERS,
            "Establish a new service for these needs",
            effects=("notify_proposer",),
        ),
        TransitionSpec[Case](
            "E6",
            "drafting_started",
            ("APPROVED",),
            "CONTRACT_DRAFTING",
            (EXEC, etm(Delegation.ESTABLISH_SERVICE)),
            "Start drafting contract v0",
        ),
        TransitionSpec[Case](
            "E7",
            "sm_appointed",
            ("CONTRACT_DRAFTING",),
            None,
            (EXEC, etm(Delegation.APPOINT_SERVICE_MANAGER)),
            "Appoint the Service Manager",
            guards=(SM_NOT_CONFLICTED,),
            data=ServiceManagerAppointment,
            record=_record_appointment,
            effects=("notify_service_manager",),
            progress=False,
        ),
        TransitionSpec[Case](
            "E8",
            "discovery_budget_allocated",
            ("CONTRACT_DRAFTING",),
            None,
            (EXEC, etm(Delegation.ALLOCATE_BUDGET)),
            "Allocate the discovery budget",
            guards=(BUDGET_FOR_DISCOVERY,),
            data=BudgetAllocation,
            record=_record_budget,
            progress=False,
        ),
        TransitionSpec[Case](
            "E9",
            "draft_completed",
            ("CONTRACT_DRAFTING",),
            "READY_TO_ESTABLISH",
            (EXEC, etm(Delegation.ESTABLISH_SERVICE), APPOINTED_SM),
            "Declare contract v0 complete",
            requires=(CONTRACT_COMPLETE, SM_APPOINTED, BUDGET_ALLOCATED),
        ),
        TransitionSpec[Case](
            "E10",
            "service_established",
            ("READY_TO_ESTABLISH",),
            "ESTABLISHED",
            (EXEC, etm(Delegation.PUBLISH_CONTRACT)),
            "Publish contract v1; the service enters Discovery",
            requires=(CONTRACT_COMPLETE, SM_APPOINTED, BUDGET_ALLOCATED, PLAN_AGREED),
            guards=(SERVICE_ID_IS_NEW,),
            effects=(
                "publish_contract",
                "start_lifecycle",
                "notify_service_manager",
                "notify_proposer",
            ),
        ),
        TransitionSpec[Case](
            "E11",
            "proposal_withdrawn",
            PRE_ESTABLISHED,
            "WITHDRAWN",
            (PROPOSER, EXEC),
            "Withdraw the proposal",
            reason_required=True,
            effects=("notify_proposer",),
            progress=False,
        ),
    ),
)

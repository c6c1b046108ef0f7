"""The establishment process's rules (DOMAIN §6, §9.3): what its rows need, check and record.

``workflows/establishment/definition.py`` names these on its rows; each check is typed on the
case and the data model of the row it serves.
"""

from __future__ import annotations

from models.case_state import Context
from models.contract import BudgetAllocation, ContractCheckpoint, LifecycleStage, ServiceContract
from models.errors import GuardFailed
from models.establishment import EstablishmentCase, RoutingDecision, ServiceManagerAppointment
from models.people import ActingAs, Directory
from models.permits import ANYONE
from models.proposal import DiscoveryPlan, Proposal
from workflows._definition import Guard, Requirement

Case = EstablishmentCase

# -- requirements: what the case must hold, checked over state alone ---------------------------


def _contract_complete(case: Case, ctx: Context) -> list[str]:
    if case.contract is None:
        return ["no service_contract draft has been submitted"]
    return case.contract.missing_for(ContractCheckpoint.ESTABLISHMENT)


def _sm_appointed(case: Case, ctx: Context) -> list[str]:
    return [] if case.service_manager else ["no Service Manager has been appointed (sm_appointed)"]


def _budget_allocated(case: Case, ctx: Context) -> list[str]:
    if case.budget is None:
        return ["no discovery budget has been allocated (discovery_budget_allocated)"]
    return []


def _plan_agreed(case: Case, ctx: Context) -> list[str]:
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


def _target_is_live(case: Case, data: RoutingDecision, ctx: Context) -> list[str]:
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


def _sm_not_conflicted(case: Case, data: ServiceManagerAppointment, ctx: Context) -> list[str]:
    return case.directory.manager_conflicts(data.person)


def _budget_is_for_discovery(case: Case, data: BudgetAllocation, ctx: Context) -> list[str]:
    if data.phase != LifecycleStage.DISCOVERY:
        return [f"this is the discovery budget: phase must be DISCOVERY, not {data.phase}"]
    return []


def _service_id_is_new(case: Case, data: None, ctx: Context) -> list[str]:
    if case.contract and case.directory.service(case.contract.service_id):
        return [f"{case.contract.service_id} already exists in the directory; choose a new id"]
    return []


def _draft_is_a_draft(case: Case, data: ServiceContract, ctx: Context) -> list[str]:
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


TARGET_IS_LIVE = Guard("target_service_open", "target service takes new needs", _target_is_live)
SM_NOT_CONFLICTED = Guard("sm_not_conflicted", "SM not conflicted", _sm_not_conflicted)
BUDGET_FOR_DISCOVERY = Guard(
    "budget_for_discovery", "budget is for discovery", _budget_is_for_discovery
)
SERVICE_ID_IS_NEW = Guard("service_id_new", "service id is new", _service_id_is_new)
DRAFT_IS_A_DRAFT = Guard("draft_is_a_draft", "a draft, not a publication", _draft_is_a_draft)

# -- where accepted data lands in the case (the guards read it from there) ----------------------


def record_contract(case: Case, contract: ServiceContract, ctx: Context) -> None:
    case.contract = contract


def record_plan(case: Case, plan: DiscoveryPlan, ctx: Context) -> None:
    case.discovery_plan = plan
    case.discovery_plan_by = ctx.actor


def record_routing(case: Case, routing: RoutingDecision, ctx: Context) -> None:
    case.routed_to = routing


def record_appointment(case: Case, appointment: ServiceManagerAppointment, ctx: Context) -> None:
    case.service_manager = appointment.person


def record_budget(case: Case, budget: BudgetAllocation, ctx: Context) -> None:
    case.budget = budget


# -- E1: raising a demand starts the case, so it is checked before the workflow exists ---------

RAISERS = (ANYONE,)


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

"""The durable workflow of one proposal: the shared case handlers plus E1 and E10's own steps."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from models.case_view import EstablishmentOutcome
    from models.commands import (
        ArtefactRef,
    )
    from models.contract import LifecycleStage
    from models.errors import (
        ArtefactConflict,
        GuardFailed,
        OsomError,
    )
    from models.establishment import EstablishmentCase, NewServiceInput
    from models.ids import lifecycle_workflow_id, proposal_workflow_id
    from models.lifecycle import LifecycleInput
    from models.markdown import inline
    from models.people import Directory
    from models.policy import Policy
    from workflows import _records
    from workflows._case import CaseEngine, WorkflowEffect
    from workflows._errors import refusal
    from workflows._handlers import CaseWorkflow, let_go
    from workflows.establishment.definition import ESTABLISHMENT
    from workflows.establishment.rules import check_demand
    from workflows.lifecycle.workflow import LifecycleWorkflow

# Cases that reached E10 before the hand-over existed replay without it.
HANDOVER_PATCH = "establishment-starts-lifecycle"


# A start input that fails validation (say, from the Web UI's form) fails the case with the
# field messages instead of retrying its first task forever. Commands validate their own input.
@workflow.defn(name="NewService", failure_exception_types=[ValidationError])
class NewServiceWorkflow(CaseWorkflow[EstablishmentCase]):
    """One proposal for a new service, from demand raised to established (DOMAIN §9.3)."""

    DEFINITION = ESTABLISHMENT

    @workflow.init
    def __init__(self, input: NewServiceInput) -> None:
        super().__init__()
        self._input = input
        # Commands wait until the demand itself (E1) has been accepted or refused.
        if input.policy is not None and input.directory is not None:
            self._open(input.directory, input.policy)

    @workflow.run
    async def run(self, input: NewServiceInput) -> EstablishmentOutcome:
        self._require_id(
            proposal_workflow_id(input.proposal.id),
            "a proposal's case id",
            "new-service/<proposal id>",
        )
        if self._engine is None:
            context = await self._load_context()
            self._open(input.directory or context.directory, input.policy or context.policy)
        engine = self._ready()
        case = engine.case
        try:
            acting = check_demand(case.proposal, input.proposer, case.directory)
        except OsomError as err:
            self._refused = err
            raise refusal(err) from err
        engine.started(acting, "demand_raised", None)
        engine.run_effects(
            ESTABLISHMENT.start_effects,
            f"New proposal {case.proposal.id}: {case.proposal.name}",
            f"{case.proposal.summary}\nRaised by {input.proposer}; waiting for triage.",
        )
        self._opened = True
        await asyncio.gather(
            engine.keep_deadlines(), engine.deliver_notifications(), engine.keep_record()
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        if case.state != "ESTABLISHED":
            return EstablishmentOutcome(state=case.state, service_id=None, contract=None)
        return EstablishmentOutcome(
            state=case.state,
            service_id=case.service_id,
            contract=case.artefacts.get("service_contract"),
        )

    # -- this process's own steps -------------------------------------------------------------

    async def _publish_contract(self, actor: str, data: object) -> ArtefactRef:
        """E10: contract v1, stage DISCOVERY, under the new service's own folder."""
        engine = self._ready()
        case = engine.case
        assert case.contract is not None
        contract = case.contract.model_copy(
            update={
                "version": 1,
                "published_at": workflow.now(),
                "published_by": actor,
                "service_manager": case.service_manager,
                "lifecycle_stage": LifecycleStage.DISCOVERY,
            }
        )
        try:
            ref = await _records.store(
                lifecycle_workflow_id(contract.service_id), "service_contract", 1, contract
            )
        except ArtefactConflict as err:
            raise GuardFailed(
                f"{contract.service_id} has already been published by another case: choose "
                "another service_id in the contract draft",
                problems=[f"service id {contract.service_id} is taken"],
            ) from err
        case.contract = contract
        case.artefacts["service_contract"] = ref
        return ref

    async def _start_lifecycle(self, actor: str, data: object) -> None:
        """L1: the service's lifecycle starts in Discovery with contract v1. The workflow id is
        the service's, so a retried step cannot start a second one."""
        if not workflow.patched(HANDOVER_PATCH):
            return
        case = self._ready().case
        assert case.contract is not None
        service_id = case.contract.service_id
        handover = LifecycleInput(
            contract=case.contract,
            contract_ref=case.artefacts["service_contract"],
            started_by=actor,
            budget=case.budget,
            discovery_target=case.discovery_plan.target_end if case.discovery_plan else None,
            policy=case.policy,
            directory=case.directory,
        )
        try:
            child = await workflow.start_child_workflow(
                LifecycleWorkflow.run,
                handover,
                id=lifecycle_workflow_id(service_id),
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=f"Lifecycle of {service_id} {inline(case.contract.name)}",
            )
        except WorkflowAlreadyStartedError as err:
            raise GuardFailed(
                f"{service_id} already has a lifecycle case; choose another service_id",
                problems=[f"{lifecycle_workflow_id(service_id)} exists"],
            ) from err
        let_go(child)

    def steps(self) -> dict[str, WorkflowEffect]:
        return {
            "publish_contract": self._publish_contract,
            "start_lifecycle": self._start_lifecycle,
        }

    def _open(self, directory: Directory, policy: Policy) -> None:
        """Create the case and its engine (once, before any handler reads them)."""
        case = EstablishmentCase(
            proposal=self._input.proposal,
            proposer=self._input.proposer,
            directory=directory,
            policy=policy,
        )
        self._engine = CaseEngine(ESTABLISHMENT, case, self.steps())

    def _starting_identity(self) -> tuple[str, str]:
        proposal = self._input.proposal
        return proposal.id, f"{proposal.id} {proposal.name}"

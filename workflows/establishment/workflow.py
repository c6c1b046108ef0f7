"""The durable workflow of one proposal: Temporal handlers over the shared case engine.

Commands arrive as updates (checked by a validator before anything reaches history) or as signals
(same checks; a refusal is recorded in the audit log). The engine re-checks under the case lock,
stores artefacts, fires the trigger, appends the audit entry and sends notifications.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.directory import CaseContext
    from models.audit import AuditEntry
    from models.case_view import BlockerView, CaseStatus, EstablishmentOutcome
    from models.commands import (
        ArtefactRef,
        ArtefactSubmission,
        CommandResult,
        Decision,
        DirectoryReload,
    )
    from models.contract import LifecycleStage
    from models.errors import (
        ArtefactConflict,
        CaseClosed,
        DirectoryUnavailable,
        GuardFailed,
        OsomError,
    )
    from models.establishment import EstablishmentCase, NewServiceInput
    from models.people import Directory
    from models.policy import Policy
    from workflows._case import ACTIVITY_TIMEOUT, BOUNDED_RETRY, CaseEngine
    from workflows._errors import refusal
    from workflows.establishment.definition import ESTABLISHMENT, check_demand

DEFINITION = ESTABLISHMENT
# Effects this workflow performs itself; every other effect is a notification (definition data).
WORKFLOW_EFFECTS = frozenset({"publish_contract"})


# A start input that fails validation (say, from the Web UI's form) fails the case with the
# field messages instead of retrying its first task forever. Commands validate their own input.
@workflow.defn(name="NewService", failure_exception_types=[ValidationError])
class NewServiceWorkflow:
    """One proposal for a new service, from demand raised to established (DOMAIN §9.3)."""

    @workflow.init
    def __init__(self, input: NewServiceInput) -> None:
        self._input = input
        self._engine: CaseEngine[EstablishmentCase] | None = None
        # Commands wait until the demand itself (E1) has been accepted or refused.
        self._opened = False
        self._refused: OsomError | None = None
        if input.policy is not None and input.directory is not None:
            self._open(input.directory, input.policy)

    @workflow.run
    async def run(self, input: NewServiceInput) -> EstablishmentOutcome:
        expected_id = f"new-service/{input.proposal.id}"
        if workflow.info().workflow_id != expected_id:
            raise refusal(
                GuardFailed(
                    f"a proposal's case id is {expected_id}, not {workflow.info().workflow_id}",
                    problems=["workflow id must be new-service/<proposal id>"],
                )
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
        engine.audit(acting, "demand_raised", "", case.state, "accepted", reason=None)
        engine.enter_state(case.state)
        engine.run_effects(
            DEFINITION.start_effects,
            f"New proposal {case.proposal.id}: {case.proposal.name}",
            f"{case.proposal.summary}\nRaised by {input.proposer}; waiting for triage.",
        )
        self._opened = True
        await asyncio.gather(engine.keep_deadlines(), engine.deliver_notifications())
        await workflow.wait_condition(workflow.all_handlers_finished)
        if case.state != "ESTABLISHED":
            return EstablishmentOutcome(state=case.state, service_id=None, contract=None)
        return EstablishmentOutcome(
            state=case.state,
            service_id=case.service_id,
            contract=case.artefacts.get("service_contract"),
        )

    async def _load_context(self) -> CaseContext:
        try:
            context: CaseContext = await workflow.execute_activity(
                "load_case_context",
                result_type=CaseContext,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=BOUNDED_RETRY,
                summary="load the directory and the policy in force",
            )
        except ActivityError as err:
            self._refused = DirectoryUnavailable(
                f"the case could not load its directory and policy: {err.cause}"
            )
            raise refusal(self._refused) from err
        return context

    # -- updates and signals ------------------------------------------------------------------

    @workflow.update(
        name="decide",
        description="Fire a trigger of the process (refused with a typed error if not allowed).",
    )
    async def decide(self, cmd: Decision) -> CommandResult:
        engine = await self._loaded()
        return await engine.handle(cmd, engine.apply_decision)

    @decide.validator
    def _validate_decide(self, cmd: Decision) -> None:
        if self._opened and self._engine:  # until then, the handler checks instead
            self._engine.validate(cmd, self._engine.check_decision)

    @workflow.update(
        name="submit",
        description="Submit a new artefact version (refused with field-level messages if invalid).",
    )
    async def submit(self, cmd: ArtefactSubmission) -> CommandResult:
        engine = await self._loaded()
        return await engine.handle(cmd, engine.apply_submission)

    @submit.validator
    def _validate_submit(self, cmd: ArtefactSubmission) -> None:
        if self._opened and self._engine:
            self._engine.validate(cmd, self._engine.check_submission)

    @workflow.update(
        name="reload_directory",
        description="Take in the directory as the worker reads it now (the policy stays pinned).",
    )
    async def reload_directory(self, cmd: DirectoryReload) -> CommandResult:
        engine = await self._loaded()
        return await engine.handle(cmd, engine.apply_reload)

    @reload_directory.validator
    def _validate_reload(self, cmd: DirectoryReload) -> None:
        if self._opened and self._engine:
            self._engine.validate(cmd, self._engine.check_reload)

    @workflow.signal(
        name="decide_signal",
        description="Fire-and-forget form of ``decide``: a refusal is recorded in the audit log.",
    )
    async def decide_signal(self, payload: dict[str, Any]) -> None:
        if engine := await self._signalled_engine():
            await engine.signalled(Decision, payload, engine.apply_decision)

    @workflow.signal(
        name="submit_signal",
        description="Fire-and-forget form of ``submit``: a refusal is recorded in the audit log.",
    )
    async def submit_signal(self, payload: dict[str, Any]) -> None:
        if engine := await self._signalled_engine():
            await engine.signalled(ArtefactSubmission, payload, engine.apply_submission)

    # -- queries ------------------------------------------------------------------------------

    @workflow.query(
        name="status",
        description="State, blockers, who the case waits for, the deadline, recent audit entries.",
    )
    def status(self) -> CaseStatus:
        return self._engine.status() if self._opened and self._engine else self._starting_status()

    @workflow.query(
        name="blockers",
        description="Each way forward from the current state: who may take it, what is missing.",
    )
    def blockers(self) -> list[BlockerView]:
        return self._engine.status().blockers if self._opened and self._engine else []

    @workflow.query(
        name="audit_log",
        description="Every accepted move, deadline event and refused signal, oldest first.",
    )
    def audit_log(self) -> list[AuditEntry]:
        return list(self._engine.case.audit) if self._engine else []

    @workflow.query(
        name="decision_result",
        description="The answer a decision id got, if applied (also after the case has finished).",
    )
    def decision_result(self, decision_id: str, fingerprint: str) -> CommandResult | None:
        """None unless that id was applied to a command with this fingerprint."""
        case = self._engine.case if self._engine else None
        if case is None or case.fingerprints.get(decision_id) != fingerprint:
            return None
        return case.applied[decision_id].model_copy(update={"replayed": True})

    @workflow.query(
        name="diagram",
        description="The process as a Mermaid state diagram with the current state highlighted.",
    )
    def diagram(self) -> str:
        return DEFINITION.mermaid(current=self._engine.case.state if self._engine else None)

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
            ref = await engine.store(
                f"service/{contract.service_id}", "service_contract", 1, contract
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

    def _open(self, directory: Directory, policy: Policy) -> None:
        """Create the case and its engine (once, before any handler reads them)."""
        case = EstablishmentCase(
            proposal=self._input.proposal,
            proposer=self._input.proposer,
            directory=directory,
            policy=policy,
        )
        effects = {"publish_contract": self._publish_contract}
        assert set(effects) == WORKFLOW_EFFECTS
        self._engine = CaseEngine(DEFINITION, case, effects)

    async def _loaded(self) -> CaseEngine[EstablishmentCase]:
        """The engine once the demand is accepted; a refusal if the case was refused at start."""
        await workflow.wait_condition(lambda: self._opened or self._refused is not None)
        if self._refused is not None:
            raise refusal(
                CaseClosed(
                    f"{self._input.proposal.id} was refused at its start: {self._refused.message}"
                )
            )
        return self._ready()

    async def _signalled_engine(self) -> CaseEngine[EstablishmentCase] | None:
        """As ``_loaded``; a signal to a case refused at its start is dropped with the case."""
        await workflow.wait_condition(lambda: self._opened or self._refused is not None)
        return self._engine if self._opened else None

    def _ready(self) -> CaseEngine[EstablishmentCase]:
        if self._engine is None:
            raise RuntimeError("the case context is not loaded yet")
        return self._engine

    def _starting_status(self) -> CaseStatus:
        """What a case shows in its first moments, while its directory and policy load."""
        proposal = self._input.proposal
        return CaseStatus(
            workflow_id=workflow.info().workflow_id,
            process=DEFINITION.name,
            case_id=proposal.id,
            title=f"{proposal.id} {proposal.name}",
            service_id=None,
            state="STARTING",
            state_description="Loading the directory and the policy in force",
            terminal=False,
            awaiting=[],
            blockers=[],
            legal_triggers=[],
            deadline=None,
            artefacts={},
            recent=[],
        )

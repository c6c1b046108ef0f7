"""The service contract's versions, the cases that follow them, and its metrics' reporting.

Each version the lifecycle publishes is stamped with the phase the service is in and sent to
its followers: its open assessments and its Corrections of Error that have not ended. Runs only
inside the lifecycle workflow.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from models.assessment import ServiceChange
    from models.commands import ArtefactRef
    from models.ids import coe_workflow_id, lifecycle_workflow_id
    from models.lifecycle import LifecycleCase
    from models.signals import SERVICE_CHANGED
    from workflows import _records
    from workflows._case import CaseEngine


async def publish(engine: CaseEngine[LifecycleCase], actor: str, data: object) -> ArtefactRef:
    """The next contract version, stamped with the phase the service is now in."""
    case = engine.case
    published = case.artefacts.get("service_contract")
    version = published.version + 1 if published else max(case.contract.version, 1)
    contract = case.contract.model_copy(
        update={
            "version": version,
            "published_at": workflow.now(),
            "published_by": actor,
            "lifecycle_stage": case.stage,
            "onboarded_existing": case.onboarded_existing,
        }
    )
    ref = await _records.store(
        lifecycle_workflow_id(contract.service_id), "service_contract", version, contract
    )
    case.contract = contract
    case.artefacts["service_contract"] = ref
    await tell_followers(case, ServiceChange(contract=ref))
    return ref


async def tell_followers(case: LifecycleCase, change: ServiceChange) -> None:
    """Open assessments and the service's CoEs follow the service: its newest contract
    (until an assessment's agenda pins one) and its current Service Manager (DOMAIN §9.5
    service_manager_replaced)."""
    followers = [a.workflow_id for a in case.open_assessments.values()]
    followers += [
        coe_workflow_id(coe_id) for coe_id, seen in sorted(case.coes.items()) if not seen.ended
    ]
    for workflow_id in followers:
        follower = workflow.get_external_workflow_handle(workflow_id)
        try:
            await follower.signal(SERVICE_CHANGED, change)
        except FailureError:  # ended already (a closed CoE, an assessment an operator ended)
            workflow.logger.info("follower.gone", extra={"follower": workflow_id})


async def check_metric_reports(engine: CaseEngine[LifecycleCase], actor: str, data: object) -> None:
    """The reporting period ended: flag it to the SM if nothing came, escalate repeats."""
    case = engine.case
    if case.metrics_reported_since_check:
        case.metrics_reported_since_check = False
        return
    case.metric_misses += 1
    escalate = case.metric_misses >= case.policy.lifecycle.metric_misses_before_escalation
    to = [case.service_manager] + ([case.directory.executive.id] if escalate else [])
    engine.notify(
        "escalation" if escalate else "reminder",
        to,
        f"{'ESCALATED: ' if escalate else ''}No contract metric values reported for "
        f"{case.contract.service_id} ({case.metric_misses} period(s) in a row)",
        f"{case.title}: submit a metric_report for the period just ended.",
    )

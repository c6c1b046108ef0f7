"""A service that stays live for ten simulated years keeps every run's history small."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle

from models.criteria import AssessmentType
from tests.workflows.conftest import Engine
from tests.workflows.services import Service, onboarded_service
from workflows.lifecycle.handover import MAX_RUN_EVENTS

YEARS = 10


async def run_lengths(service: Service) -> list[int]:
    """The event count of every run of the service's lifecycle, oldest first."""
    runs = [
        execution.run_id
        async for execution in service.engine.client.list_workflows(
            f"WorkflowId = '{service.workflow_id}'"
        )
    ]
    lengths = []
    for run_id in reversed(runs):
        handle: WorkflowHandle[object, object] = service.engine.client.get_workflow_handle(
            service.workflow_id, run_id=run_id
        )
        lengths.append(len([e async for e in handle.fetch_history_events()]))
    return lengths


async def recorded_audit(engine: Engine, case_id: str, expected: int) -> list[dict[str, Any]]:
    """The case's audit entries in the record once it holds ``expected`` of them (the run loop
    writes them shortly after they arise)."""
    for _ in range(100):
        entries = engine.record.audit(case_id)
        if len(entries) >= expected:
            return entries
        await asyncio.sleep(0.05)
    return engine.record.audit(case_id)


async def test_ten_live_years_of_reassessments_and_metrics_in_bounded_runs(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, f"SVC-{unique}", "LIVE")
    first = await service.status()
    assert first.next_assessment_due is not None
    reassessments = 0
    first_report = await service.report_metrics("2026-12", decision_id=f"metrics-{unique}")

    month = timedelta(days=30, hours=12)
    for number in range(12 * YEARS):
        await service.report_metrics(f"{2027 + number // 12}-{number % 12 + 1:02d}")
        status = await service.status()
        assert status.next_assessment_due is not None
        until_due = status.next_assessment_due - await service.now()
        if until_due > month:
            await service.skip(month)
            continue
        # The reassessment falls due this month: go to that moment, hold it, then go on.
        await service.skip(until_due)
        periodic = await service.next_assessment(AssessmentType.LIVE_PERIODIC)
        await periodic.run_through("NONE")
        reassessments += 1
        await service.skip(month - until_due)

    status = await service.status()
    lengths = await run_lengths(service)
    print(
        f"\n{YEARS} years: {len(lengths)} runs, events per run {lengths}, "
        f"largest {max(lengths)}, {reassessments} reassessments"
    )
    assert status.state == "LIVE"
    # every six months, counted from the last assessment's report (a few weeks after it is due)
    assert reassessments >= 2 * YEARS - 3
    assert len(lengths) >= 2, "the lifecycle never continued as new"
    assert max(lengths) <= MAX_RUN_EVENTS + 200
    # What the runs carried: the contract and the phase, through every hand-over.
    assert status.artefacts["service_contract"].version == 1
    assert status.facts["Contract"] == "v1"
    trail = [e.command for e in await service.audit_log()]
    assert "deadline_check_metric_reports" in trail
    # A decision id applied in the first run is still known: a repeat gets its first answer.
    again = await service.report_metrics("2026-12", decision_id=f"metrics-{unique}")
    assert again.replayed
    assert again.artefact == first_report.artefact
    # The audit entries each run did not carry were archived, readable, in the record.
    archives = [
        a for a in engine.record.artefacts(f"{service.workflow_id}/audit") if a.kind == "audit_log"
    ]
    # One version per run that had more than it carries (each run also records its audit
    # entries as it goes, so an early run may hand over with nothing to archive).
    assert archives, "no run archived its audit entries"
    assert {a.version for a in archives} <= set(range(1, len(lengths)))
    assert all(a.content["run"] == a.version and a.document for a in archives)
    # The record's audit chain holds every entry of every run, in order: the archives, then
    # what the current run carries.
    carried = [e.model_dump(mode="json") for e in await service.audit_log()]
    whole = [entry for a in archives for entry in a.content["entries"]] + carried
    recorded = await recorded_audit(engine, service.workflow_id, len(whole))
    assert recorded == whole
    chain = engine.record.verify(service.workflow_id)
    assert (chain.intact, chain.entries) == (True, len(whole))
    # Reports came every 30.5 days against calendar-month periods: a short month may be flagged
    # to the Service Manager, but never two periods in a row (which would go to the Executive).
    notes = engine.outbox_for(service)
    flagged = [n for n in notes if "No contract metric values" in n.subject]
    assert all(n.kind == "reminder" and n.to == ["P-013"] for n in flagged)
    assert len(flagged) <= YEARS

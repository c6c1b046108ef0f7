"""Recorded histories replay against today's workflow code (DESIGN §4.7).

A change that would break a running case (non-determinism) fails here. Histories of every
released definition version live in tests/replay/histories, named
``<process>-v<definition version>-<path>``; to add the current version's, run
``OSOM_RECORD_HISTORIES=tests/replay/histories make test`` and commit the new files (existing
files are never overwritten: they are the histories of running cases of released versions).

The checks cannot pass vacuously: every stored history is a whole run (it ends in the case's
completion), each process's current version has its main path recorded, and that version's
histories fail to replay against a workflow changed on purpose. A worker that caches no
workflow replays the whole history at every workflow task; a journey run so ends as it does
with the cache.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import TaskQueueKind
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker

from models.assessment import AssessmentInput, AssessmentOutcome
from models.audit import AuditEntry
from models.case_view import EstablishmentOutcome
from models.coe import CoeInput
from models.coe_review import ReviewSessionInput
from models.commands import Decision
from models.criteria import AssessmentType
from models.establishment import NewServiceInput
from models.lifecycle import LifecycleInput
from osom import cases
from tests.examples import artefact
from tests.workflows.coes import Coe, Session
from tests.workflows.conftest import Engine
from tests.workflows.driver import Case, Tracked
from tests.workflows.services import established_service, onboarded_service
from worker import ACTIVITY_THREADS, build_worker
from workflows import (
    WORKFLOWS,
    AssessmentWorkflow,
    CoeWorkflow,
    LifecycleWorkflow,
    NewServiceWorkflow,
    ReviewSessionWorkflow,
)
from workflows._handlers import CaseWorkflow
from workflows._visibility import STATE
from workflows.assessment.definition import ASSESSMENT
from workflows.coe_review.definition import COE_REVIEW
from workflows.correction_of_errors.definition import COE
from workflows.correction_of_errors.workflow import CoeOutcome
from workflows.establishment.definition import ESTABLISHMENT
from workflows.lifecycle.definition import LIFECYCLE
from workflows.lifecycle.workflow import LifecycleOutcome
from workflows.sandbox import workflow_runner

STORED = Path(__file__).resolve().parents[1] / "replay" / "histories"
HISTORY_NAME = re.compile(r"(?P<process>[a-z-]+)-v(?P<version>[0-9]+)-(?P<path>[a-z0-9-]+)")
# Each process by the name its histories carry (the definition's name, '-' for '_').
PROCESSES: dict[str, type[CaseWorkflow[Any]]] = {
    w.DEFINITION.name.replace("_", "-"): w for w in WORKFLOWS
}
# Where each process's main path ends: a case that goes the whole way.
MAIN_PATH_ENDS = {
    "establishment": "ESTABLISHED",
    "lifecycle": "DECOMMISSIONED",
    "assessment": "PUBLISHED",
    "coe": "ARCHIVED",
    "coe-review": "MINUTED",
}


def replayer() -> Replayer:
    return Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )


def stored_history(path: Path) -> WorkflowHistory:
    stored = json.loads(path.read_text(encoding="utf-8"))
    return WorkflowHistory.from_json(stored["workflow_id"], stored["history"])


def name_parts(path: Path) -> tuple[str, int, str]:
    match = HISTORY_NAME.fullmatch(path.stem)
    assert match, f"{path.name}: name it <process>-v<version>-<path>.json"
    return match["process"], int(match["version"]), match["path"]


def workflow_type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


def states(history: WorkflowHistory) -> list[str]:
    """The case's state as the run set it for the Web UI, in order."""
    found = []
    for event in history.events:
        if event.HasField("upsert_workflow_search_attributes_event_attributes"):
            attributes = event.upsert_workflow_search_attributes_event_attributes
            payload = attributes.search_attributes.indexed_fields.get(STATE.name)
            if payload is not None:
                found.append(pydantic_data_converter.payload_converter.from_payload(payload, str))
    return found


def sticky_tasks(history: WorkflowHistory) -> int:
    """Workflow tasks the server gave a worker's cache (its sticky queue), not the task queue."""
    return sum(
        1
        for event in history.events
        if event.HasField("workflow_task_scheduled_event_attributes")
        and event.workflow_task_scheduled_event_attributes.task_queue.kind
        == TaskQueueKind.TASK_QUEUE_KIND_STICKY
    )


STORED_HISTORIES = sorted(STORED.glob("*.json"))
CURRENT_HISTORIES = [
    path
    for path in STORED_HISTORIES
    if name_parts(path)[1] == PROCESSES[name_parts(path)[0]].DEFINITION.version
]


async def record(case: Tracked, name: str) -> WorkflowHistory:
    history = await case.handle.fetch_history()
    target = os.environ.get("OSOM_RECORD_HISTORIES")
    path = Path(target or ".", f"{name}.json")
    # A released version's history is kept as recorded: only new names are written.
    if target and not path.exists():
        stored = {"workflow_id": history.workflow_id, "history": json.loads(history.to_json())}
        path.write_text(json.dumps(stored), encoding="utf-8")
    return history


@pytest.mark.parametrize("path", STORED_HISTORIES, ids=lambda p: p.stem)
async def test_stored_history_replays(path: Path) -> None:
    history = stored_history(path)
    # A whole run: its commands up to the case's completion (or its next run) are all checked.
    last = history.events[-1]
    assert last.HasField("workflow_execution_completed_event_attributes") or last.HasField(
        "workflow_execution_continued_as_new_event_attributes"
    )
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None


def test_every_stored_history_is_a_released_version_of_a_process() -> None:
    assert STORED_HISTORIES, "record histories (see module docstring)"
    types: dict[str, set[str]] = {}
    for path in STORED_HISTORIES:
        process, version, _ = name_parts(path)
        assert process in PROCESSES, path.name
        assert 1 <= version <= PROCESSES[process].DEFINITION.version, path.name
        types.setdefault(process, set()).add(workflow_type(stored_history(path)))
    # One workflow type per process, a different one for each.
    assert all(len(names) == 1 for names in types.values()), types
    assert len({next(iter(names)) for names in types.values()}) == len(types)


def test_every_process_has_its_main_path_recorded_at_its_current_version() -> None:
    assert set(MAIN_PATH_ENDS) == set(PROCESSES)
    ends = {(name_parts(p)[0], states(stored_history(p))[-1]) for p in CURRENT_HISTORIES}
    missing = {(process, end) for process, end in MAIN_PATH_ENDS.items()} - ends
    assert not missing, f"record these (see module docstring): {sorted(missing)}"


# -- a workflow changed on purpose fails replay ------------------------------------------------
# Each is today's workflow with one more durable timer before it starts: a different command
# sequence, registered under the same workflow name, as a careless edit would be.
ONE_SECOND = timedelta(seconds=1)


@workflow.defn(name="NewService")
class NewServiceWithAnExtraTimer(NewServiceWorkflow):
    @workflow.run
    async def run(self, input: NewServiceInput) -> EstablishmentOutcome:
        await workflow.sleep(ONE_SECOND)
        return await super().run(input)


@workflow.defn(name="ServiceLifecycle")
class LifecycleWithAnExtraTimer(LifecycleWorkflow):
    @workflow.run
    async def run(self, input: LifecycleInput) -> LifecycleOutcome:
        await workflow.sleep(ONE_SECOND)
        return await super().run(input)


@workflow.defn(name="Assessment")
class AssessmentWithAnExtraTimer(AssessmentWorkflow):
    @workflow.run
    async def run(self, input: AssessmentInput) -> AssessmentOutcome:
        await workflow.sleep(ONE_SECOND)
        return await super().run(input)


@workflow.defn(name="CorrectionOfError")
class CoeWithAnExtraTimer(CoeWorkflow):
    @workflow.run
    async def run(self, input: CoeInput) -> CoeOutcome:
        await workflow.sleep(ONE_SECOND)
        return await super().run(input)


@workflow.defn(name="CoeReviewSession")
class ReviewSessionWithAnExtraTimer(ReviewSessionWorkflow):
    @workflow.run
    async def run(self, input: ReviewSessionInput) -> str:
        await workflow.sleep(ONE_SECOND)
        return await super().run(input)


ALTERED: dict[type[CaseWorkflow[Any]], type] = {
    NewServiceWorkflow: NewServiceWithAnExtraTimer,
    LifecycleWorkflow: LifecycleWithAnExtraTimer,
    AssessmentWorkflow: AssessmentWithAnExtraTimer,
    CoeWorkflow: CoeWithAnExtraTimer,
    ReviewSessionWorkflow: ReviewSessionWithAnExtraTimer,
}


def unsandboxed_replayer(workflow_class: type) -> Replayer:
    # The altered classes live in this test module, which the sandbox would import anew; both
    # sides of the comparison run unsandboxed so that the altered code is the only difference.
    return Replayer(
        workflows=[workflow_class],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )


def test_every_process_has_an_altered_twin() -> None:
    assert set(ALTERED) == set(WORKFLOWS)


@pytest.mark.parametrize("path", CURRENT_HISTORIES, ids=lambda p: p.stem)
async def test_a_changed_workflow_fails_to_replay_a_stored_history(path: Path) -> None:
    history = stored_history(path)
    original = PROCESSES[name_parts(path)[0]]
    same = await unsandboxed_replayer(original).replay_workflow(history)
    assert same.replay_failure is None
    changed = await unsandboxed_replayer(ALTERED[original]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert isinstance(changed.replay_failure, workflow.NondeterminismError), changed


async def full_journey(engine: Engine, number: str) -> Case:
    """A proposal established, with a deadline reminder on the way, a refused signal and a
    repeated decision."""
    case = await Case.start(engine, number)
    await engine.env.fast_forward(case.handle, timedelta(days=8))
    await cases.send_decision_signal(
        engine.client,
        case.workflow_id,
        Decision(decision_id="refused-signal", trigger="draft_completed", actor="P-001"),
    )
    await case.to_ready()
    await case.submit("discovery-plan.yaml", "P-013", "discovery_plan")
    await case.decide("service_established", "P-001", reason="go", decision_id="final")
    await case.decide("service_established", "P-001", reason="go", decision_id="final")
    await case.handle.result()
    return case


async def test_a_full_journey_replays(engine: Engine, unique: str) -> None:
    case = await full_journey(engine, unique)

    history = await record(case, f"establishment-v{ESTABLISHMENT.version}-established")
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None


# -- no workflow cache: every workflow task replays the whole history --------------------------


@pytest.fixture
async def uncached(engine: Engine) -> AsyncIterator[Engine]:
    """The engine with a second worker, on its own task queue, that caches no workflow.

    ``build_worker`` takes no worker options, so this worker is made from the configuration of
    one it builds (on a queue of its own: it is never run, and two workers may not share one)."""
    settings = replace(engine.settings, task_queue=f"{engine.settings.task_queue}-uncached")
    built = replace(settings, task_queue=f"{settings.task_queue}-unused")
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        config = build_worker(engine.client, built, executor, engine.record).config()
        config["task_queue"] = settings.task_queue
        config["max_cached_workflows"] = 0
        worker = Worker(**config)
        task = asyncio.create_task(worker.run())
        try:
            yield replace(engine, settings=settings)
        finally:
            await worker.shutdown()
            await task


def trail(log: list[AuditEntry]) -> list[tuple[object, ...]]:
    """What an audit log says happened, apart from times, generated ids and texts naming them."""
    return [
        (
            e.command,
            e.from_state,
            e.to_state,
            e.outcome,
            e.actor,
            e.role,
            e.reason,
            e.error_type,
            sorted(e.artefact_versions.items()),
        )
        for e in log
    ]


async def test_a_journey_without_the_workflow_cache_ends_as_with_it(
    engine: Engine, uncached: Engine, unique: str
) -> None:
    cached_case, uncached_case = await asyncio.gather(
        full_journey(engine, unique), full_journey(uncached, f"{int(unique) + 1}")
    )

    cached_history = await cached_case.handle.fetch_history()
    uncached_history = await uncached_case.handle.fetch_history()
    # The setting took: with the cache the server hands tasks to the worker's sticky queue,
    # without it never, so each task there was a replay from the first event.
    assert sticky_tasks(cached_history) > 0
    assert sticky_tasks(uncached_history) == 0
    assert (await uncached_case.handle.result()).state == "ESTABLISHED"
    uncached_trail = trail(await uncached_case.audit_log())
    assert uncached_trail == trail(await cached_case.audit_log())
    said = [(entry[0], entry[3]) for entry in uncached_trail]
    assert ("deadline_remind", "system") in said
    assert ("draft_completed", "refused") in said
    assert said.count(("service_established", "accepted")) == 1  # the repeat, applied once
    assert states(uncached_history) == states(cached_history)
    result = await replayer().replay_workflow(uncached_history)
    assert result.replay_failure is None


async def test_a_withdrawn_case_replays(engine: Engine, unique: str) -> None:
    case = await Case.start(engine, unique)
    await case.decide("triage_started", "P-002")
    await engine.env.fast_forward(case.handle, timedelta(days=30))
    await case.decide("proposal_withdrawn", "P-015", reason="solved elsewhere")
    await case.handle.result()

    history = await record(case, f"establishment-v{ESTABLISHMENT.version}-escalated-withdrawn")
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None


async def test_a_service_from_beta_to_decommissioned_and_its_assessment_replay(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, f"SVC-{unique}", "BETA")
    await service.report_metrics("2027-09")
    beta = await service.next_assessment(AssessmentType.BETA_EXIT)
    report = await beta.run_through("GO_LIVE")
    await service.decide("go_live_approved", "P-001", data={"report": report})
    await service.skip(timedelta(days=40))  # a metric check fires
    await service.decide(
        "decommissioning_started", "P-001", data=artefact("decommission.yaml"), reason="replaced"
    )
    await service.decide("decommission_completed", "P-001")
    await service.handle.result()
    await beta.handle.result()

    for case, name in (
        (service, f"lifecycle-v{LIFECYCLE.version}-beta-to-decommissioned"),
        (beta, f"assessment-v{ASSESSMENT.version}-published"),
    ):
        result = await replayer().replay_workflow(await record(case, name))
        assert result.replay_failure is None


async def test_a_held_progress_decision_replays(engine: Engine, unique: str) -> None:
    service = await established_service(engine, unique)
    discovery = await service.next_assessment(AssessmentType.DISCOVERY_EXIT)
    report = await discovery.run_through("PROGRESS_TO_ALPHA")
    await service.alter_contract("contract-for-alpha.yaml")
    await service.decide("progress_to_alpha", "P-001", data={"report": report})
    await service.skip(timedelta(days=15))  # the funding gap escalates
    await service.decide("budget_changed", "P-002", data=artefact("alpha-budget.yaml"))
    await service.decide(
        "decommission_decided", "P-001", data=artefact("decommission.yaml"), reason="stop"
    )
    await service.handle.result()

    history = await record(service, f"lifecycle-v{LIFECYCLE.version}-funding-gap-stopped")
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None


async def test_a_coe_its_review_and_its_services_gate_hold_replay(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, f"SVC-{unique}", "LIVE")
    coe = await Coe.open(engine, f"COE-R{unique}", service.service_id, manager="P-013")
    await coe.write(await coe.document(due_in_days=(40, 1)))
    await coe.publish()
    await coe.skip(timedelta(days=20))  # A-2 overdue, then escalated
    await service.skip(timedelta(days=20))  # ... and holding the service's gates
    await service.until(lambda s: s.recent[-1].command == "gate_held_by_action", "held")
    await coe.in_the_pool()
    session = await Session.start(engine, f"replay-{unique}", services=(service.service_id,))
    await session.skip(timedelta(days=5))
    await session.decide("session_held", "P-004")
    minute = {"coe_id": coe.coe_id, "outcome": "reviewed", "outputs": [{"kind": "none"}]}
    await session.decide("minutes_recorded", "P-004", data={"items": [minute]})
    await coe.until(lambda s: s.state == "REVIEWED", "reviewed")
    await coe.complete("A-1", "P-011")
    await coe.complete("A-2", "P-020")
    await coe.decide("closure_requested", "P-013")
    await coe.decide("coe_closed", "P-001")
    await coe.skip(timedelta(days=91))  # the reopen window ends: archived
    assert (await coe.handle.result())["state"] == "ARCHIVED"
    await service.until(lambda s: "Open corrective actions" not in s.facts, "actions done")
    await service.decide(
        "decommissioning_started", "P-001", data=artefact("decommission.yaml"), reason="replaced"
    )
    await service.decide("decommission_completed", "P-001")
    await service.handle.result()

    for case, name in (
        (coe, f"coe-v{COE.version}-reviewed-archived"),
        (session, f"coe-review-v{COE_REVIEW.version}-minuted"),
        (service, f"lifecycle-v{LIFECYCLE.version}-gate-held-by-coe"),
    ):
        result = await replayer().replay_workflow(await record(case, name))
        assert result.replay_failure is None

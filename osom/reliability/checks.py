"""The checks after the run: every valid command applied exactly once and in order, every case
finished, and every workflow's history replaying on today's code."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from osom import cases
from osom.reliability.figures import Figures
from osom.reliability.journeys import Journey
from workflows import WORKFLOWS
from workflows.sandbox import workflow_runner

FINISH_SECONDS = 120.0

W = TypeVar("W")  # the workflow class of a handle


async def check(client: Client, journeys: list[Journey], figures: Figures) -> None:
    """What the engine promises of every journey: each valid command applied exactly once and
    in the order sent, every case finished; then every history replayed."""
    for journey in journeys:
        handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(journey.workflow_id)
        if not await finished(handle):
            figures.unfinished += 1
            figures.problems.append(f"{journey.workflow_id} did not finish")
        audit = await cases.audit_log(client, journey.workflow_id)
        mine = set(journey.sent)
        accepted = [e.decision_id for e in audit if e.outcome == "accepted"]
        twice = {i: n for i, n in Counter(accepted).items() if i in mine and n > 1}
        # A valid command a case refused when it arrived (a queued signal is judged then).
        refused = [e for e in audit if e.outcome == "refused" and e.decision_id in mine]
        # Lost: the engine took the command (an answer, or a promise to apply it) and the
        # case does not have it.
        lost = [i for i in journey.sent if i not in accepted and i not in journey.not_taken]
        applied = list(dict.fromkeys(i for i in accepted if i in mine))
        figures.lost += len(lost)
        figures.duplicated += sum(n - 1 for n in twice.values())
        figures.valid_refused += len({e.decision_id for e in refused} - journey.not_taken)
        if applied != [i for i in journey.sent if i in applied]:
            figures.out_of_order += 1
            figures.problems.append(f"{journey.workflow_id} applied {applied}")
        figures.problems += [
            f"{journey.workflow_id}: {e.decision_id} refused on arrival ({e.error_type}) "
            f"from {e.from_state}: {e.message}"
            for e in refused
        ]
        if lost:
            figures.problems.append(f"{journey.workflow_id} lost {lost}")
        if twice:
            figures.problems.append(f"{journey.workflow_id} applied twice {twice}")
    await replay_all(client, figures)


async def replay_all(client: Client, figures: Figures) -> None:
    """Replay every workflow on the server (finished and running) on today's code, in the
    worker's own sandbox, as it runs the cases."""
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    async for execution in client.list_workflows(""):
        history = await client.get_workflow_handle(
            execution.id, run_id=execution.run_id
        ).fetch_history()
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        figures.replays += 1
        if result.replay_failure is None:
            figures.replays_ok += 1
        else:
            figures.problems.append(f"replay of {execution.id}: {result.replay_failure!r}"[:500])


async def finished(handle: WorkflowHandle[W, object]) -> bool:
    """Whether the case completed within FINISH_SECONDS."""
    deadline = time.monotonic() + FINISH_SECONDS
    while time.monotonic() < deadline:
        if (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED:
            return True
        await asyncio.sleep(0.5)
    return False

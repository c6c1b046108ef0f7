"""The Temporal Schedule that starts a CoE review session at the policy's cadence (DOMAIN §9.4.3).

The worker keeps it in step with the policy file when it starts; operators see it on the Web
UI's Schedules page, and ``osom review now`` starts a session at once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import TypedSearchAttributes

from models.coe_review import ReviewSessionInput
from models.ids import REVIEW_PREFIX, REVIEW_SCHEDULE_ID
from models.policy import CoeReviewPolicy
from workflows import ReviewSessionWorkflow
from workflows._visibility import initial_attributes

# A worker down for a while starts the session it missed only if it is back within a day.
CATCHUP_WINDOW = timedelta(days=1)


def review_schedule(
    policy: CoeReviewPolicy, task_queue: str, services: tuple[str, ...] = ()
) -> Schedule:
    """Sessions may overlap (a session lasts until minuted, days after its draw)."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ReviewSessionWorkflow.run,
            ReviewSessionInput(services=services),
            id=REVIEW_PREFIX,
            task_queue=task_queue,
            typed_search_attributes=TypedSearchAttributes(
                initial_attributes("coe_review", REVIEW_PREFIX)
            ),
            static_summary=f"Regular CoE review: draw {policy.draw_summary()} for the session",
        ),
        spec=ScheduleSpec(cron_expressions=[policy.cron], time_zone_name=policy.time_zone),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.ALLOW_ALL, catchup_window=CATCHUP_WINDOW
        ),
        state=ScheduleState(
            paused=not policy.enabled,
            note=f"cadence from the policy: '{policy.cron}' ({policy.time_zone})"
            + ("" if policy.enabled else "; paused: coe_review.enabled is false"),
        ),
    )


async def ensure_review_schedule(
    client: Client, policy: CoeReviewPolicy, task_queue: str, services: tuple[str, ...] = ()
) -> ScheduleHandle:
    """Create the schedule, or bring an existing one in step with the policy."""
    wanted = review_schedule(policy, task_queue, services)
    try:
        return await client.create_schedule(REVIEW_SCHEDULE_ID, wanted)
    except ScheduleAlreadyRunningError:
        handle = client.get_schedule_handle(REVIEW_SCHEDULE_ID)

        def to_policy(current: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=wanted)

        await handle.update(to_policy)
        return handle


async def start_session_now(client: Client) -> str:
    """Trigger the schedule once; return the workflow id of the session it started."""
    handle = client.get_schedule_handle(REVIEW_SCHEDULE_ID)
    before = await _started_sessions(handle)
    await handle.trigger()
    for _ in range(100):
        started = [s for s in await _started_sessions(handle) if s not in before]
        if started:
            return started[-1]
        await asyncio.sleep(0.1)
    raise TimeoutError("the review schedule did not start a session")


async def _started_sessions(handle: ScheduleHandle) -> list[str]:
    actions = (await handle.describe()).info.recent_actions
    return [
        a.action.workflow_id
        for a in actions
        if isinstance(a.action, ScheduleActionExecutionStartWorkflow)
    ]

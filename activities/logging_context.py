"""Every activity's structlog events carry the activity they belong to.

The worker's interceptor binds the activity's identity into structlog's context variables for
the duration of each attempt, so ``log.info("notification.sent", ...)`` inside an activity comes
out with workflow_id, run_id, workflow_type, activity_type, activity_id and attempt (the
thread-pool activities run in a copy of this context, so the binding reaches them too).
"""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor


def activity_fields() -> dict[str, str | int | None]:
    """The running activity's identity, as the log fields every activity event carries."""
    info = activity.info()
    return {
        "workflow_id": info.workflow_id,
        "run_id": info.workflow_run_id,
        "workflow_type": info.workflow_type,
        "activity_type": info.activity_type,
        "activity_id": info.activity_id,
        "attempt": info.attempt,
    }


class _BindActivityContext(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> object:
        with structlog.contextvars.bound_contextvars(**activity_fields()):
            return await self.next.execute_activity(input)


class ActivityLogContext(Interceptor):
    """Worker interceptor: structlog context for the duration of each activity attempt."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BindActivityContext(next)

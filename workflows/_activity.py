"""How a case calls one of the engine's activities: bounded retries and a summary for the Web UI.

A handler waiting on an activity holds the case lock, so a broken store or directory must end
in a refusal, not an endless retry.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

T = TypeVar("T")

ACTIVITY_TIMEOUT = timedelta(seconds=30)
BOUNDED_RETRY = RetryPolicy(maximum_attempts=5)


async def call(
    name: str,
    *args: Any,
    result_type: type[T],
    summary: str,
    start_to_close: timedelta = ACTIVITY_TIMEOUT,
) -> T:
    """Run activity ``name``; an ``ActivityError`` once its retries are spent."""
    result: T = await workflow.execute_activity(
        name,
        args=list(args),
        result_type=result_type,
        start_to_close_timeout=start_to_close,
        retry_policy=BOUNDED_RETRY,
        summary=summary,
    )
    return result

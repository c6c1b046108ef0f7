"""How a case calls one of the engine's activities: bounded retries and a summary for the Web UI.

A handler waiting on an activity holds the case lock, so a broken store or directory must end
in a refusal, not an endless retry. Activities are named by method reference to their contract
(``workflows/activity_contracts.py``), so argument and result types are checked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar, overload

from temporalio import workflow
from temporalio.common import RetryPolicy

S = TypeVar("S")
P = TypeVar("P")
R = TypeVar("R")

ACTIVITY_TIMEOUT = timedelta(seconds=30)
BOUNDED_RETRY = RetryPolicy(maximum_attempts=5)
_NO_ARGUMENT = object()


@overload
async def call(
    activity: Callable[[S, P], Awaitable[R]],
    arg: P,
    *,
    summary: str,
    start_to_close: timedelta = ...,
    retry: RetryPolicy = ...,
) -> R: ...


@overload
async def call(
    activity: Callable[[S, P], R],
    arg: P,
    *,
    summary: str,
    start_to_close: timedelta = ...,
    retry: RetryPolicy = ...,
) -> R: ...


@overload
async def call(
    activity: Callable[[S], R],
    *,
    summary: str,
    start_to_close: timedelta = ...,
    retry: RetryPolicy = ...,
) -> R: ...


async def call(
    activity: Callable[..., Any],
    arg: Any = _NO_ARGUMENT,
    *,
    summary: str,
    start_to_close: timedelta = ACTIVITY_TIMEOUT,
    retry: RetryPolicy = BOUNDED_RETRY,
) -> Any:
    """Run ``activity``; an ``ActivityError`` once its retries are spent."""
    return await workflow.execute_activity_method(
        activity,
        args=[] if arg is _NO_ARGUMENT else [arg],
        start_to_close_timeout=start_to_close,
        retry_policy=retry,
        summary=summary,
    )

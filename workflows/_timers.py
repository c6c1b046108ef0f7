"""A case's durable timers: sleep until the next event, wake early when the case changes it.

Commands that leave the next event as it is do not touch the timer, so a busy case does not fill
its history with cancelled and restarted timers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow

# What a timer waits for: the name of the clock (or item), when, and which kind of event.
TimerEvent = tuple[str, datetime, str]


class TimerLoop:
    """Runs timers until the case is final. Each event fires under the case lock, and then
    ``after`` brings the case up to date (held moves, clocks, view), as after any change."""

    def __init__(
        self, final: Callable[[], bool], lock: asyncio.Lock, after: Callable[[], Awaitable[None]]
    ) -> None:
        self._final = final
        self._lock = lock
        self._after = after

    async def keep(
        self,
        next_event: Callable[[], TimerEvent | None],
        fire: Callable[[str, str], Awaitable[None]],
        summary: Callable[[str, str], str],
    ) -> None:
        """Until the case is final: sleep until ``next_event`` (when, what, which kind), or
        until that changes; then, if it is still the next event, ``fire`` it."""
        while not self._final():
            await self._next(next_event, fire, summary)

    async def _next(
        self,
        next_event: Callable[[], TimerEvent | None],
        fire: Callable[[str, str], Awaitable[None]],
        summary: Callable[[str, str], str],
    ) -> None:
        key = next_event()
        if key is None:
            await workflow.wait_condition(lambda: next_event() != key or self._final())
            return
        name, at, kind = key
        try:
            await workflow.wait_condition(
                lambda: next_event() != key,
                timeout=max(at - workflow.now(), timedelta(seconds=1)),
                timeout_summary=summary(name, kind),
            )
        except TimeoutError:
            async with self._lock:
                if next_event() == key:
                    await fire(name, kind)
                    await self._after()

"""The notifications a case has queued, sent one by one by the case's run loop.

Commands only queue: no command waits on (or holds the case lock for) a slow or broken
notification channel. Sending is best effort: a notification that cannot be sent is logged and
never undoes a decision.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.activity_io import Notification
    from models.errors import RecordUnavailable
    from workflows.activity_contracts import NotifyActivities

# Short, because a notification a killed worker held waits this long before another worker
# retries it, and the case cannot finish meanwhile (each channel has 10 s of it).
NOTIFY_TIMEOUT = timedelta(seconds=30)
RECORD_DOWN_WAIT = timedelta(seconds=30)
# A channel that fails is tried again after 2 s, 4 s and 8 s; then the notification is marked
# failed in the record (notifications must not pile up behind a broken channel).
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), backoff_coefficient=2, maximum_attempts=4
)


class NotificationQueue:
    def __init__(self) -> None:
        self._queued: list[Notification] = []
        self._sending = False

    def compose(
        self,
        sequence: int,
        kind: Literal["info", "reminder", "escalation"],
        to: list[str],
        subject: str,
        body: str,
    ) -> None:
        """Queue a message to ``to`` (nobody: nothing to send). Its id starts with the case's
        audit length, so the outbox lists a case's notifications in the order they arose."""
        if not to:
            return
        self.add(
            Notification(
                id=f"{sequence:04d}-{workflow.uuid4().hex[:8]}",
                case_id=workflow.info().workflow_id,
                kind=kind,
                to=sorted(set(to)),
                subject=subject,
                body=body,
                at=workflow.now(),
            )
        )

    def add(self, notification: Notification) -> None:
        self._queued.append(notification)

    def mark(self) -> int:
        """A point to go back to if the move that queues after it is refused."""
        return len(self._queued)

    def back_to(self, mark: int) -> None:
        del self._queued[mark:]

    @property
    def busy(self) -> bool:
        """Notifications waiting, or one being sent right now."""
        return bool(self._queued) or self._sending

    async def deliver(self, done: Callable[[], bool]) -> None:
        """Send notifications as they come, until ``done`` holds and none is left."""
        while True:
            await workflow.wait_condition(lambda: bool(self._queued) or done())
            if not self._queued:
                return
            notification = self._queued.pop(0)
            self._sending = True
            try:
                await workflow.execute_activity_method(
                    NotifyActivities.notify,
                    notification,
                    start_to_close_timeout=NOTIFY_TIMEOUT,
                    retry_policy=NOTIFY_RETRY,
                    summary=notification.subject[:200],
                )
            except ActivityError as err:
                if _record_was_down(err):
                    # Not even recorded: keep it first in line and try again once the record
                    # may be back, so no notification is lost to an outage.
                    self._queued.insert(0, notification)
                    await workflow.sleep(RECORD_DOWN_WAIT)
                    continue
                workflow.logger.warning(
                    "notification.failed", extra={"notification_id": notification.id}
                )
            finally:
                self._sending = False


def _record_was_down(err: ActivityError) -> bool:
    cause = err.cause
    return isinstance(cause, ApplicationError) and cause.type == RecordUnavailable.__name__

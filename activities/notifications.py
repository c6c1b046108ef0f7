"""Notifications: recorded in the outbox, then delivered to each recipient's channels.

A notification is recorded once by its id (a retried activity finds it there). Each recipient's
e-mail and webhook is tried until it has been sent once: a retry after a channel failed sends
only what has not gone yet, so nobody gets the same message twice from a retry. After the last
attempt the notification is marked failed in the record, where operators see it
(``osom outbox --failed``, ``GET /v1/notifications?state=failed``). The log says what was sent
and how, never to which address.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.delivery import (
    Channel,
    DeliveryFailed,
    MailSettings,
    Outgoing,
    post_webhook,
    send_email,
)
from activities.record import RecordStore
from models.activity_io import Notification
from models.errors import RecordUnavailable
from models.people import Directory, Person
from models.record import DeliveryState, RecordedNotification
from workflows.activity_contracts import NotifyActivities

log = structlog.get_logger()

NOTIFICATION_SENT = "notification.sent"
NOTIFICATION_FAILED = "notification.failed"


@dataclass(frozen=True)
class Channels:
    """How notifications leave the engine: e-mail if an SMTP server is set, webhooks always
    (for the people who have one); links to cases are made with the API's public URL."""

    public_url: str
    mail: MailSettings | None = None

    def describe(self) -> str:
        if self.mail is None:
            return "recorded in the outbox only (no OSOM_SMTP_URL), and chat webhooks"
        return f"e-mail through {self.mail.host}:{self.mail.port}, and chat webhooks"


def case_link(public_url: str, case_id: str) -> str:
    return f"{public_url.rstrip('/')}/v1/cases/{case_id}"


class Outbox(NotifyActivities):
    def __init__(
        self, record: RecordStore, channels: Channels, directory: Callable[[], Directory]
    ) -> None:
        self.record = record
        self.channels = channels
        self._directory = directory

    def routes(self, person: Person) -> list[tuple[Channel, str]]:
        """The channels that reach ``person``, with the address on each."""
        found: list[tuple[Channel, str]] = []
        if self.channels.mail is not None and person.email:
            found.append(("email", person.email))
        if person.webhook:
            found.append(("webhook", person.webhook))
        return found

    async def _send(self, channel: Channel, address: str, message: Outgoing) -> None:
        if channel == "email":
            assert self.channels.mail is not None
            await send_email(self.channels.mail, address, message)
        else:
            await post_webhook(address, message)

    async def deliver(self, notification: Notification, last_attempt: bool) -> str:
        """Record, then send what has not been sent; the state the notification ends in."""
        recorded = await asyncio.to_thread(self.record.put_notification, notification)
        if recorded.state in ("delivered", "recorded"):
            return recorded.state  # a retry of an attempt that finished
        directory = await asyncio.to_thread(self._directory)
        people = {p.id: p for p in directory.people}
        message = Outgoing(
            notification_id=notification.id,
            case_id=notification.case_id,
            subject=notification.subject,
            body=notification.body,
            link=case_link(self.channels.public_url, notification.case_id),
        )
        sent_before = _sent(recorded)
        sent = failed = 0
        problems: list[str] = []
        for person_id in notification.to:
            person = people.get(person_id)
            for channel, address in self.routes(person) if person else []:
                if (person_id, channel) in sent_before:
                    continue
                try:
                    await self._send(channel, address, message)
                    error = None
                    sent += 1
                except DeliveryFailed as err:
                    error = str(err)
                    failed += 1
                    problems.append(f"{person_id} by {channel}: {err.message}")
                await asyncio.to_thread(
                    self.record.mark_delivery,
                    notification.case_id,
                    notification.id,
                    person_id,
                    channel,
                    error,
                )
        return await self._finish(notification, recorded, sent, failed, problems, last_attempt)

    async def _finish(
        self,
        notification: Notification,
        recorded: RecordedNotification,
        sent: int,
        failed: int,
        problems: list[str],
        last_attempt: bool,
    ) -> str:
        fields = {
            "notification_id": notification.id,
            "case_id": notification.case_id,
            "kind": notification.kind,
            "recipients": len(notification.to),
        }
        if failed and not last_attempt:
            await asyncio.to_thread(
                self.record.finish_notification,
                notification.case_id,
                notification.id,
                "pending",
                "; ".join(problems),
            )
            raise ApplicationError("; ".join(problems), type=DeliveryFailed.__name__)
        state: DeliveryState
        if failed:
            state = "failed"
        elif sent or _sent(recorded):
            state = "delivered"
        else:
            state = "recorded"  # nobody has a channel: the outbox is where it is read
        error = "; ".join(problems) or None
        await asyncio.to_thread(
            self.record.finish_notification, notification.case_id, notification.id, state, error
        )
        if state == "failed":
            log.warning(NOTIFICATION_FAILED, failed=failed, **fields)
        else:
            log.info(
                NOTIFICATION_SENT, sent=sent, state=state, subject=notification.subject, **fields
            )
        return state

    @activity.defn
    async def notify(self, notification: Notification) -> str:
        """Record a notification and deliver it; a retry with the same id never sends twice."""
        info = activity.info()
        most = info.retry_policy.maximum_attempts if info.retry_policy else 0
        try:
            return await self.deliver(notification, last_attempt=0 < most <= info.attempt)
        except RecordUnavailable as err:
            raise ApplicationError(err.message, type=err.type) from err


def _sent(recorded: RecordedNotification) -> set[tuple[str, str]]:
    return {(d.person, d.channel) for d in recorded.deliveries if d.state == "sent"}

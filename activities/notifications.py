"""Notifications: a structured log event plus an outbox the operator can read.

Each notification is one JSON file named by its id, so a retried activity rewrites the same file
instead of sending twice. A chat or e-mail webhook can read the outbox later.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.files import UnsafePath, under, write_atomically
from models.activity_io import Notification
from workflows.activity_contracts import NotifyActivities

log = structlog.get_logger()

NOTIFICATION_SENT = "notification.sent"


class Outbox(NotifyActivities):
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, notification: Notification) -> Path:
        return under(self.root, notification.case_id, f"{notification.id}.json")

    def put(self, notification: Notification) -> Path:
        path = self.path_for(notification)
        write_atomically(path, notification.model_dump_json(indent=2) + "\n")
        return path

    def read(self, person: str | None = None) -> list[Notification]:
        """Every readable notification (oldest first); an unreadable file is logged and skipped."""
        items = []
        for path in sorted(self.root.rglob("*.json")):
            try:
                items.append(Notification.model_validate_json(path.read_text(encoding="utf-8")))
            except (OSError, ValueError) as err:
                log.warning("outbox.unreadable", path=str(path), error=str(err)[:200])
        if person:
            items = [n for n in items if person in n.to]
        return sorted(items, key=lambda n: n.at)

    @activity.defn
    def notify(self, notification: Notification) -> str:
        """Record a notification in the outbox and the log (no personal data in the log)."""
        try:
            path = self.put(notification)
        except UnsafePath as err:
            raise ApplicationError(str(err), type="UnsafePath", non_retryable=True) from err
        log.info(
            NOTIFICATION_SENT,
            notification_id=notification.id,
            case_id=notification.case_id,
            kind=notification.kind,
            recipients=len(notification.to),
            subject=notification.subject,
        )
        return str(path)

"""The outbox part of the record: every notification, and each recipient's channels, sent once
or why not yet."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from activities.record.database import Database, aware, now, utc
from activities.record.schema import DeliveryRow, NotificationRow
from models.activity_io import Notification
from models.record import Delivery, DeliveryState, RecordedNotification


class OutboxRecords(Database):
    # -- the outbox ----------------------------------------------------------------------------

    def put_notification(self, notification: Notification) -> RecordedNotification:
        """Record a notification once (a retry finds it there) and return where it stands."""
        try:
            with self._session() as session:
                if session.get(NotificationRow, (notification.case_id, notification.id)) is None:
                    session.add(
                        NotificationRow(
                            case_id=notification.case_id,
                            id=notification.id,
                            kind=notification.kind,
                            recipients=json.dumps(notification.to),
                            subject=notification.subject,
                            body=notification.body,
                            at=utc(notification.at),
                            state="pending",
                            attempts=0,
                            updated_at=now(),
                        )
                    )
        except IntegrityError:  # recorded by another attempt meanwhile
            pass
        found = self.notification(notification.case_id, notification.id)
        assert found is not None
        return found

    def notification(self, case_id: str, notification_id: str) -> RecordedNotification | None:
        with self._session() as session:
            row = session.get(NotificationRow, (case_id, notification_id))
            if row is None:
                return None
            return self._notification(session, row)

    def notifications(
        self, person: str | None = None, state: DeliveryState | None = None
    ) -> list[RecordedNotification]:
        """The outbox, oldest first: to ``person`` only, in ``state`` only, if given."""
        query = select(NotificationRow).order_by(NotificationRow.at, NotificationRow.id)
        if state is not None:
            query = query.where(NotificationRow.state == state)
        with self._session() as session:
            found = [self._notification(session, row) for row in session.scalars(query)]
        return [n for n in found if person is None or person in n.to]

    def _notification(self, session: Session, row: NotificationRow) -> RecordedNotification:
        deliveries = session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.case_id == row.case_id, DeliveryRow.notification_id == row.id)
            .order_by(DeliveryRow.person, DeliveryRow.channel)
        )
        return RecordedNotification(
            case_id=row.case_id,
            id=row.id,
            kind=row.kind,
            to=json.loads(row.recipients),
            subject=row.subject,
            body=row.body,
            at=aware(row.at),
            state=row.state,
            attempts=row.attempts,
            last_error=row.last_error,
            deliveries=[
                Delivery(
                    person=d.person,
                    channel=d.channel,
                    state=d.state,
                    attempts=d.attempts,
                    last_error=d.last_error,
                )
                for d in deliveries
            ],
        )

    def mark_delivery(
        self,
        case_id: str,
        notification_id: str,
        person: str,
        channel: str,
        error: str | None,
    ) -> None:
        """One channel's attempt: sent (``error`` None) or failed for now, with why."""
        with self._session() as session:
            key = (case_id, notification_id, person, channel)
            row = session.get(DeliveryRow, key)
            if row is None:
                row = DeliveryRow(
                    case_id=case_id,
                    notification_id=notification_id,
                    person=person,
                    channel=channel,
                    attempts=0,
                )
                session.add(row)
            row.attempts += 1
            row.state = "failed" if error else "sent"
            row.last_error = error
            row.updated_at = now()

    def finish_notification(
        self, case_id: str, notification_id: str, state: DeliveryState, error: str | None
    ) -> None:
        """Where a notification stands after one delivery attempt."""
        with self._session() as session:
            row = session.get(NotificationRow, (case_id, notification_id))
            if row is None:
                raise KeyError(notification_id)
            row.attempts += 1
            row.state = state
            row.last_error = error
            row.updated_at = now()

"""The outbox: each notification recorded once in the record (SQLite here), then delivered by
e-mail and webhook to real local receivers, each channel sent once however often it is retried."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.delivery import MailSettings
from activities.notifications import Channels, Outbox, case_link
from activities.record import RecordStore
from models.activity_io import Notification
from models.people import Directory
from models.record import Delivery
from tests.receivers import HOST, HttpReceiver, SmtpCatcher, free_port
from tests.unit.helpers import directory_with

CASE = "new-service/PRO-004"
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PUBLIC = "https://osom.fenmoor.example"
SECRET = "T0-s3cret-token"  # webhook URLs carry secrets: never in the log or the record
UNREACHABLE = "postgresql+psycopg://x@127.0.0.1:1/none"


def note(id: str, to: list[str], minutes: int = 0, **changes: Any) -> Notification:
    data: dict[str, Any] = {
        "id": id,
        "case_id": CASE,
        "kind": "info",
        "to": to,
        "subject": f"subject {id}",
        "body": "body",
        "at": AT + timedelta(minutes=minutes),
    }
    data.update(changes)
    return Notification.model_validate(data)


@pytest.fixture
def record(tmp_path: Path) -> Iterator[RecordStore]:
    store = RecordStore.open(f"sqlite:///{tmp_path / 'record.sqlite3'}")
    try:
        yield store
    finally:
        store.close()


def reached(directory: Directory, **routes: dict[str, str | None]) -> Directory:
    """The directory with these people's e-mail and webhook set (the rest have no e-mail)."""
    people = []
    for person in directory.people:
        data = person.model_dump(mode="json") | {"email": None, "webhook": None}
        people.append(data | routes.get(person.id.replace("-", "_"), {}))
    return directory_with(directory, people=people)


def outbox(record: RecordStore, directory: Directory, mail: MailSettings | None = None) -> Outbox:
    return Outbox(record, Channels(public_url=PUBLIC, mail=mail), lambda: directory)


def mail_to(smtp: SmtpCatcher) -> MailSettings:
    return MailSettings(host=HOST, port=smtp.port, sender="osom@fenmoor.example", timeout=5.0)


def hook(receiver: HttpReceiver) -> str:
    return f"{receiver.url}/hooks/{SECRET}"


def notification_rows(record: RecordStore) -> int:
    with record.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM notifications")).scalar_one())


# -- recorded -----------------------------------------------------------------------------------


async def test_without_channels_a_notification_is_recorded(
    record: RecordStore, directory: Directory
) -> None:
    """No SMTP server and nobody with a webhook: the outbox is where it is read."""
    sent = note("0001-a", ["P-001"])
    assert await outbox(record, directory).deliver(sent, last_attempt=False) == "recorded"
    [recorded] = record.notifications()
    assert recorded.state == "recorded"
    assert (recorded.case_id, recorded.id, recorded.kind) == (CASE, "0001-a", "info")
    assert (recorded.to, recorded.subject, recorded.body) == (["P-001"], "subject 0001-a", "body")
    assert recorded.at == sent.at
    assert (recorded.attempts, recorded.last_error, recorded.deliveries) == (1, None, [])


async def test_a_notification_delivered_twice_is_recorded_once(
    record: RecordStore, directory: Directory
) -> None:
    box = outbox(record, directory)
    first = await box.deliver(note("0001-a", ["P-001"]), last_attempt=False)
    again = await box.deliver(note("0001-a", ["P-001"]), last_attempt=False)  # a retry
    assert first == again == "recorded"
    assert notification_rows(record) == 1
    [recorded] = record.notifications()
    assert recorded.attempts == 1  # the retry found it finished


async def test_the_outbox_reads_by_person_in_time_order(
    record: RecordStore, directory: Directory
) -> None:
    box = outbox(record, directory)
    for sent in (
        note("0003-c", ["P-013"], minutes=2),
        note("0002-b", ["P-001", "P-013"], minutes=1),
        note("0001-a", ["P-001"]),
    ):
        await box.deliver(sent, last_attempt=False)
    assert [n.id for n in record.notifications()] == ["0001-a", "0002-b", "0003-c"]
    assert [n.id for n in record.notifications(person="P-013")] == ["0002-b", "0003-c"]
    assert [n.id for n in record.notifications(person="P-001")] == ["0001-a", "0002-b"]
    assert record.notifications(person="P-999") == []


async def test_notifications_of_different_cases_are_kept_apart(
    record: RecordStore, directory: Directory
) -> None:
    box = outbox(record, directory)
    await box.deliver(note("0001-a", ["P-001"]), last_attempt=False)
    await box.deliver(note("0001-a", ["P-001"], case_id="new-service/PRO-005"), False)
    assert sorted(n.case_id for n in record.notifications()) == [CASE, "new-service/PRO-005"]


async def test_someone_not_in_the_directory_is_recorded_only(
    record: RecordStore, directory: Directory
) -> None:
    with SmtpCatcher() as smtp:
        box = outbox(record, directory, mail_to(smtp))
        assert await box.deliver(note("0001-a", ["P-999"]), last_attempt=False) == "recorded"
    assert smtp.messages == []


# -- e-mail ---------------------------------------------------------------------------------------


async def test_an_email_goes_once_to_a_person_with_an_address(
    record: RecordStore, directory: Directory
) -> None:
    people = reached(directory, P_001={"email": "alison.reed@fenmoor.example"})
    sent = note("0001-a", ["P-001", "P-013"])  # P-013 has no address: not sent, not failed
    with SmtpCatcher() as smtp:
        box = outbox(record, people, mail_to(smtp))
        assert await box.deliver(sent, last_attempt=False) == "delivered"
        assert await box.deliver(sent, last_attempt=False) == "delivered"  # a retry
    [mail] = smtp.messages
    assert mail.rcpt_tos == ["alison.reed@fenmoor.example"]
    assert mail.message["Subject"] == "subject 0001-a"
    assert mail.message["X-OSOM-Notification"] == f"{CASE}#0001-a"
    assert f"Open the case: {case_link(PUBLIC, CASE)}" in mail.message.get_content()
    recorded = record.notification(CASE, "0001-a")
    assert recorded is not None
    assert recorded.state == "delivered"
    assert recorded.deliveries == [
        Delivery(person="P-001", channel="email", state="sent", attempts=1)
    ]


async def test_the_example_directory_reaches_everyone_by_email(
    record: RecordStore, directory: Directory
) -> None:
    with SmtpCatcher() as smtp:
        box = outbox(record, directory, mail_to(smtp))
        await box.deliver(note("0001-a", ["P-001", "P-013"]), last_attempt=False)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [
        "alison.reed@fenmoor.example",
        "hannah.osei@fenmoor.example",
    ]


async def test_an_address_without_a_mail_server_is_not_a_channel(
    record: RecordStore, directory: Directory
) -> None:
    assert await outbox(record, directory).deliver(note("0001-a", ["P-001"]), False) == "recorded"


async def test_a_mail_server_that_is_down_fails_the_notification_on_the_last_attempt(
    record: RecordStore, directory: Directory
) -> None:
    down = MailSettings(host=HOST, port=free_port(), timeout=2.0)
    box = outbox(record, directory, down)
    with pytest.raises(ApplicationError) as err:
        await box.deliver(note("0001-a", ["P-001"]), last_attempt=False)
    assert err.value.type == "DeliveryFailed"
    assert not err.value.non_retryable
    assert await box.deliver(note("0001-a", ["P-001"]), last_attempt=True) == "failed"
    recorded = record.notification(CASE, "0001-a")
    assert recorded is not None
    assert (recorded.state, recorded.attempts) == ("failed", 2)
    assert recorded.last_error is not None
    assert "alison.reed" not in recorded.last_error
    assert [(d.channel, d.state, d.attempts) for d in recorded.deliveries] == [
        ("email", "failed", 2)
    ]


# -- webhooks -------------------------------------------------------------------------------------


async def test_a_webhook_that_fails_once_is_retried_then_delivered(
    record: RecordStore, directory: Directory
) -> None:
    with HttpReceiver(fail_first=1) as receiver:
        people = reached(directory, P_013={"webhook": hook(receiver)})
        box = outbox(record, people)
        sent = note("0001-a", ["P-013"])
        with pytest.raises(ApplicationError, match="P-013 by webhook") as err:
            await box.deliver(sent, last_attempt=False)
        assert err.value.type == "DeliveryFailed"
        pending = record.notification(CASE, "0001-a")
        assert pending is not None
        assert (pending.state, pending.attempts) == ("pending", 1)
        assert pending.deliveries == [
            Delivery(
                person="P-013",
                channel="webhook",
                state="failed",
                attempts=1,
                last_error="webhook delivery failed: the webhook answered 500",
            )
        ]
        assert await box.deliver(sent, last_attempt=False) == "delivered"
        assert await box.deliver(sent, last_attempt=False) == "delivered"  # nothing more
    assert [r.status for r in receiver.requests] == [500, 200]
    assert {r.headers["Idempotency-Key"] for r in receiver.requests} == {f"{CASE}#0001-a"}
    assert receiver.requests[1].path == f"/hooks/{SECRET}"
    assert receiver.requests[1].json()["link"] == case_link(PUBLIC, CASE)
    delivered = record.notification(CASE, "0001-a")
    assert delivered is not None
    assert (delivered.state, delivered.attempts, delivered.last_error) == ("delivered", 2, None)
    assert delivered.deliveries == [
        Delivery(person="P-013", channel="webhook", state="sent", attempts=2)
    ]


async def test_a_retry_sends_only_what_has_not_gone(
    record: RecordStore, directory: Directory
) -> None:
    """One recipient's e-mail went, another's webhook failed: the retry posts the webhook and
    sends no second e-mail."""
    with SmtpCatcher() as smtp, HttpReceiver(fail_first=1) as receiver:
        people = reached(
            directory,
            P_001={"email": "alison.reed@fenmoor.example"},
            P_013={"webhook": hook(receiver)},
        )
        box = outbox(record, people, mail_to(smtp))
        sent = note("0001-a", ["P-001", "P-013"])
        with pytest.raises(ApplicationError):
            await box.deliver(sent, last_attempt=False)
        assert await box.deliver(sent, last_attempt=False) == "delivered"
    assert len(smtp.messages) == 1
    assert [r.status for r in receiver.requests] == [500, 200]
    recorded = record.notification(CASE, "0001-a")
    assert recorded is not None
    assert [(d.person, d.channel, d.state, d.attempts) for d in recorded.deliveries] == [
        ("P-001", "email", "sent", 1),
        ("P-013", "webhook", "sent", 2),
    ]


async def test_a_webhook_that_always_fails_is_failed_in_the_record_on_the_last_attempt(
    record: RecordStore, directory: Directory
) -> None:
    with HttpReceiver(fail_first=100) as receiver:
        box = outbox(record, reached(directory, P_013={"webhook": hook(receiver)}))
        assert await box.deliver(note("0001-a", ["P-013"]), last_attempt=True) == "failed"
    recorded = record.notification(CASE, "0001-a")
    assert recorded is not None
    assert recorded.state == "failed"
    assert recorded.last_error == "P-013 by webhook: the webhook answered 500"
    assert [n.id for n in record.notifications(state="failed")] == ["0001-a"]
    assert record.notifications(state="delivered") == []


# -- the activity ---------------------------------------------------------------------------------


def attempt(number: int, most: int = 4) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, attempt=number, retry_policy=RetryPolicy(maximum_attempts=most)
    )
    return env


async def test_the_activity_retries_until_its_last_attempt_then_records_the_failure(
    record: RecordStore, directory: Directory
) -> None:
    with HttpReceiver(fail_first=100) as receiver:
        box = outbox(record, reached(directory, P_013={"webhook": hook(receiver)}))
        sent = note("0001-a", ["P-013"])
        for number in (1, 2, 3):
            with pytest.raises(ApplicationError):
                await attempt(number).run(box.notify, sent)
        assert await attempt(4).run(box.notify, sent) == "failed"
    assert len(receiver.requests) == 4
    recorded = record.notification(CASE, "0001-a")
    assert recorded is not None
    assert (recorded.state, recorded.attempts) == ("failed", 4)


async def test_the_activity_of_a_record_that_is_down_is_retried(directory: Directory) -> None:
    down = RecordStore(UNREACHABLE)
    try:
        with pytest.raises(ApplicationError) as err:
            await attempt(1).run(outbox(down, directory).notify, note("0001-a", ["P-001"]))
        assert err.value.type == "RecordUnavailable"
        assert not err.value.non_retryable
    finally:
        down.close()


# -- the log --------------------------------------------------------------------------------------


async def test_the_log_says_what_was_sent_and_how_never_to_which_address(
    record: RecordStore, directory: Directory, stream: io.StringIO
) -> None:
    with SmtpCatcher() as smtp, HttpReceiver(fail_first=100) as receiver:
        people = reached(
            directory,
            P_001={"email": "alison.reed@fenmoor.example"},
            P_013={"webhook": hook(receiver)},
        )
        box = outbox(record, people, mail_to(smtp))
        await box.deliver(note("0001-a", ["P-001"]), last_attempt=False)
        await box.deliver(note("0002-b", ["P-013"]), last_attempt=True)
    # The engine's own lines: mail.log is the test's SMTP receiver talking about what it got.
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    ours = [line for line in lines if line.get("logger") != "mail.log"]
    events = [(line["event"], line.get("notification_id")) for line in ours]
    assert ("notification.sent", "0001-a") in events
    assert ("notification.failed", "0002-b") in events
    log = json.dumps(ours)
    for address in ("alison.reed", SECRET, receiver.url):
        assert address not in log

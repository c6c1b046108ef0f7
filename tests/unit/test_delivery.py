"""The delivery channels against real local servers: an aiosmtpd server and an HTTP receiver."""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest

from activities.delivery import (
    DeliveryFailed,
    MailSettings,
    Outgoing,
    message_id,
    post_webhook,
    send_email,
)
from tests.receivers import HOST, HttpReceiver, SmtpCatcher, free_port

ADDRESS = "ada.lovelace@example.org"
OTHER = "grace.hopper@example.org"
MESSAGE = Outgoing(
    notification_id="0004-1a2b3c4d",
    case_id="new-service/PRO-004",
    subject="Your review is needed",
    body="The proposal PRO-004 waits for your assessment.",
    link="https://osom.example.org/cases/new-service/PRO-004",
)


def mail_to(port: int) -> MailSettings:
    return MailSettings(host=HOST, port=port, sender="osom@example.org", timeout=5.0)


# --- e-mail -----------------------------------------------------------------------------------


async def test_an_email_is_received_once_with_its_headers_and_link() -> None:
    with SmtpCatcher() as smtp:
        await send_email(mail_to(smtp.port), ADDRESS, MESSAGE)

    assert len(smtp.messages) == 1
    received = smtp.messages[0]
    assert received.rcpt_tos == [ADDRESS]
    assert received.mail_from == "osom@example.org"
    mail = received.message
    assert mail["To"] == ADDRESS
    assert mail["From"] == "osom@example.org"
    assert mail["Subject"] == MESSAGE.subject
    assert mail["X-OSOM-Notification"] == "new-service/PRO-004#0004-1a2b3c4d"
    assert mail["Message-ID"] == message_id(MESSAGE, ADDRESS)
    text = mail.get_content()
    assert MESSAGE.body in text
    assert f"Open the case: {MESSAGE.link}" in text


async def test_the_message_id_is_stable_per_notification_and_recipient() -> None:
    with SmtpCatcher() as smtp:
        settings = mail_to(smtp.port)
        await send_email(settings, ADDRESS, MESSAGE)
        await send_email(settings, ADDRESS, MESSAGE)  # a retry
        await send_email(settings, OTHER, MESSAGE)
        await send_email(settings, ADDRESS, replace(MESSAGE, notification_id="0005-99999999"))

    ids = [m.message["Message-ID"] for m in smtp.messages]
    assert len(ids) == 4
    assert ids[0] == ids[1]
    assert len({ids[0], ids[2], ids[3]}) == 3
    assert all(ADDRESS not in i and OTHER not in i for i in ids)


async def test_a_line_break_in_the_subject_does_not_break_the_headers() -> None:
    with SmtpCatcher() as smtp:
        await send_email(mail_to(smtp.port), ADDRESS, replace(MESSAGE, subject="One\r\nBcc: x@y"))

    mail = smtp.messages[0].message
    assert mail["Subject"] == "One Bcc: x@y"
    assert mail["Bcc"] is None


async def test_an_unreachable_mail_server_fails_without_naming_the_address() -> None:
    with pytest.raises(DeliveryFailed) as caught:
        await send_email(mail_to(free_port()), ADDRESS, MESSAGE)

    assert caught.value.channel == "email"
    assert ADDRESS not in str(caught.value)
    assert ADDRESS not in caught.value.message


def test_delivery_failed_survives_pickling() -> None:
    copy = pickle.loads(pickle.dumps(DeliveryFailed("webhook", "the webhook answered 500")))
    assert (copy.channel, copy.message) == ("webhook", "the webhook answered 500")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", MailSettings("mail.example.org", 25, "osom@example.org")),
        (
            "smtp://mail.example.org:2525",
            MailSettings("mail.example.org", 2525, "osom@example.org"),
        ),
        (
            "smtps://mail.example.org",
            MailSettings("mail.example.org", 465, "osom@example.org", use_tls=True),
        ),
        (
            "smtp+starttls://mail.example.org",
            MailSettings("mail.example.org", 587, "osom@example.org", starttls=True),
        ),
        (
            "SMTP+STARTTLS://osom%40example.org:p%40ss%3Aw0rd@Mail.Example.org:25/",
            MailSettings(
                "mail.example.org",
                25,
                "osom@example.org",
                username="osom@example.org",
                password="p@ss:w0rd",
                starttls=True,
            ),
        ),
    ],
)
def test_mail_settings_from_url(url: str, expected: MailSettings) -> None:
    assert MailSettings.from_url(url, sender="osom@example.org") == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://user:s3cret@mail.example.org",
        "mail.example.org:25",
        "smtp://user:s3cret@",
        "smtp://user:s3cret@mail.example.org:port",
        "smtp://user:s3cret@mail.example.org:99999",
        "smtp://user:s3cret@mail.example.org/inbox",
        "smtp://user@mail.example.org",
    ],
)
def test_a_bad_mail_url_is_refused_without_echoing_the_password(url: str) -> None:
    with pytest.raises(ValueError, match="mail URL") as caught:
        MailSettings.from_url(url, sender="osom@example.org")
    assert "s3cret" not in str(caught.value)


def test_the_password_is_not_in_the_repr() -> None:
    settings = MailSettings.from_url("smtp://user:s3cret@mail.example.org", sender="o@x")
    assert "s3cret" not in repr(settings)


# --- webhook ----------------------------------------------------------------------------------


async def test_a_webhook_is_posted_once_with_the_fields_and_key() -> None:
    with HttpReceiver() as hook:
        await post_webhook(f"{hook.url}/hooks/T0K3N", MESSAGE, timeout=5.0)

    assert len(hook.requests) == 1
    request = hook.requests[0]
    assert (request.method, request.path) == ("POST", "/hooks/T0K3N")
    assert request.headers["Idempotency-Key"] == "new-service/PRO-004#0004-1a2b3c4d"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {
        "text": f"{MESSAGE.subject}\n{MESSAGE.body}\n{MESSAGE.link}",
        "subject": MESSAGE.subject,
        "body": MESSAGE.body,
        "link": MESSAGE.link,
        "case_id": MESSAGE.case_id,
        "notification_id": MESSAGE.notification_id,
    }


async def test_a_failing_webhook_raises_without_the_url_and_a_retry_keeps_the_key() -> None:
    with HttpReceiver(fail_first=1) as hook:
        url = f"{hook.url}/hooks/T0K3N"
        with pytest.raises(DeliveryFailed) as caught:
            await post_webhook(url, MESSAGE, timeout=5.0)
        await post_webhook(url, MESSAGE, timeout=5.0)

    assert caught.value.channel == "webhook"
    assert "500" in str(caught.value)
    assert "T0K3N" not in str(caught.value)
    assert str(hook.port) not in str(caught.value)
    assert [r.status for r in hook.requests] == [500, 200]
    keys = {r.headers["Idempotency-Key"] for r in hook.requests}
    assert keys == {"new-service/PRO-004#0004-1a2b3c4d"}


async def test_a_redirect_is_not_followed() -> None:
    with (
        HttpReceiver() as target,
        HttpReceiver(redirect_to=f"{target.url}/elsewhere") as hook,
        pytest.raises(DeliveryFailed, match="answered 307"),
    ):
        await post_webhook(f"{hook.url}/hooks/T0K3N", MESSAGE, timeout=5.0)

    assert len(hook.requests) == 1
    assert target.requests == []


async def test_an_unreachable_webhook_raises_without_the_url() -> None:
    url = f"http://{HOST}:{free_port()}/hooks/T0K3N"
    with pytest.raises(DeliveryFailed) as caught:
        await post_webhook(url, MESSAGE, timeout=5.0)

    assert caught.value.channel == "webhook"
    assert "T0K3N" not in str(caught.value)

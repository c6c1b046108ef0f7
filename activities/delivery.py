"""The channels that carry one notification to one person: e-mail (SMTP) and a chat webhook.

Both stamp a key derived from the notification, case and recipient, so that a retried delivery
can be recognised and dropped by the receiver. Failures become ``DeliveryFailed``, whose text
holds neither addresses nor URLs: webhook URLs often carry a secret token and both end up in logs.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal
from urllib.parse import unquote, urlsplit

import aiosmtplib
import httpx

# httpx logs every request's URL at INFO; a webhook's URL carries its secret, so only its
# warnings and errors may reach the log.
logging.getLogger("httpx").setLevel(logging.WARNING)

Channel = Literal["email", "webhook"]

# scheme -> (default port, implicit TLS, STARTTLS)
_MAIL_SCHEMES: dict[str, tuple[int, bool, bool]] = {
    "smtp": (25, False, False),
    "smtps": (465, True, False),
    "smtp+starttls": (587, False, True),
}


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int = 25
    sender: str = "osom@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # kept out of logs
    starttls: bool = False  # STARTTLS after connect
    use_tls: bool = False  # implicit TLS (port 465)
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url: str, sender: str) -> MailSettings:
        """Settings from one URL, so a deployment configures mail with a single secret:
        ``smtp://user:pass@host:port``, ``smtps://host`` (implicit TLS) or
        ``smtp+starttls://host``. Errors name the problem but never repeat the URL."""
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in _MAIL_SCHEMES:
            known = ", ".join(f"{name}://" for name in _MAIL_SCHEMES)
            raise ValueError(f"the mail URL must start with one of {known}")
        default_port, use_tls, starttls = _MAIL_SCHEMES[scheme]
        if not parts.hostname:
            raise ValueError("the mail URL names no host")
        try:
            port = parts.port or default_port
        except ValueError:
            raise ValueError("the mail URL's port is not a number from 1 to 65535") from None
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("the mail URL has a path, query or fragment; it takes none")
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        if (username is None) != (password is None):
            raise ValueError("the mail URL gives a user without a password, or the reverse")
        return cls(
            host=parts.hostname,
            port=port,
            sender=sender,
            username=username,
            password=password,
            starttls=starttls,
            use_tls=use_tls,
        )


@dataclass(frozen=True)
class Outgoing:
    notification_id: str  # e.g. "0004-1a2b3c4d"
    case_id: str  # e.g. "new-service/PRO-004"
    subject: str
    body: str
    link: str  # http(s) URL of the case

    @property
    def key(self) -> str:
        """The same for every attempt at this notification: the receiver's duplicate check."""
        return f"{self.case_id}#{self.notification_id}"


class DeliveryFailed(Exception):
    """The channel refused or could not be reached; worth trying again later."""

    def __init__(self, channel: Channel, message: str) -> None:
        super().__init__(channel, message)  # both in args, so the error pickles
        self.channel: Channel = channel
        self.message = message

    def __str__(self) -> str:
        return f"{self.channel} delivery failed: {self.message}"


def message_id(message: Outgoing, address: str) -> str:
    """A Message-ID fixed by notification, case and recipient, so a resent copy is a duplicate;
    hashed, so the header shows no address."""
    seed = f"{message.key}\n{address.strip().lower()}".encode()
    return f"<{hashlib.sha256(seed).hexdigest()[:32]}@osom>"


def _email(mail: MailSettings, address: str, message: Outgoing) -> EmailMessage:
    email = EmailMessage()
    email["From"] = mail.sender
    email["To"] = address
    email["Subject"] = " ".join(message.subject.split())  # a line break would be refused
    email["Message-ID"] = message_id(message, address)
    email["X-OSOM-Notification"] = message.key
    email.set_content(f"{message.body}\n\nOpen the case: {message.link}\n")
    return email


def _why(err: BaseException) -> str:
    """The kind of failure and, for a refusal, the SMTP code, but not the server's text: that
    often quotes the address."""
    code = getattr(err, "code", None)
    return f"{type(err).__name__} {code}" if isinstance(code, int) else type(err).__name__


async def send_email(mail: MailSettings, address: str, message: Outgoing) -> None:
    """Send one notification to one address through the configured mail server."""
    email = _email(mail, address, message)
    try:
        await aiosmtplib.send(
            email,
            sender=mail.sender,
            recipients=[address],
            hostname=mail.host,
            port=mail.port,
            username=mail.username,
            password=mail.password,
            use_tls=mail.use_tls,
            start_tls=mail.starttls,
            timeout=mail.timeout,
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:
        raise DeliveryFailed(
            "email", f"the mail server did not take the message ({_why(err)})"
        ) from err


# ASYNC109: the timeout is httpx's, per phase of the one request, not a deadline for the caller.
async def post_webhook(url: str, message: Outgoing, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """POST one notification as JSON to a chat webhook (Slack, Teams, Mattermost read ``text``).
    Redirects are not followed: they could carry the payload somewhere unintended."""
    payload = {
        "text": f"{message.subject}\n{message.body}\n{message.link}",
        "subject": message.subject,
        "body": message.body,
        "link": message.link,
        "case_id": message.case_id,
        "notification_id": message.notification_id,
    }
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            response = await client.post(
                url, json=payload, headers={"Idempotency-Key": message.key}
            )
    except httpx.HTTPError as err:
        raise DeliveryFailed("webhook", f"the webhook could not be reached ({_why(err)})") from err
    if not response.is_success:
        raise DeliveryFailed("webhook", f"the webhook answered {response.status_code}")

"""Real local receivers for delivery tests: an SMTP server and an HTTP endpoint that record what
they get, so tests exercise the actual protocols instead of mocks."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from dataclasses import dataclass
from email.message import EmailMessage, Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on right now: for a server to take, or to find a closed port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Mail:
    mail_from: str | None
    rcpt_tos: list[str]
    message: EmailMessage


class _Collect:
    def __init__(self, messages: list[Mail]) -> None:
        self.messages = messages

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


class SmtpCatcher:
    """An aiosmtpd server on 127.0.0.1 that keeps every message in ``.messages``.

    aiosmtpd 1.4's Controller cannot take port 0 (it probes the port it was given), so a free
    port is picked first."""

    def __init__(self) -> None:
        self.messages: list[Mail] = []
        self.port = free_port()
        self._controller = Controller(_Collect(self.messages), hostname=HOST, port=self.port)

    def __enter__(self) -> SmtpCatcher:
        self._controller.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._controller.stop()


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Message  # case-insensitive: headers["idempotency-key"]
    body: bytes
    status: int  # what the receiver answered

    def json(self) -> Any:
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    receiver: HttpReceiver
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = receiver.answer()
        receiver.requests.append(Request(self.command, self.path, self.headers, body, status))
        self.send_response(status)
        if receiver.redirect_to and status == 307:
            self.send_header("Location", receiver.redirect_to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is for the tests."""


class HttpReceiver:
    """An HTTP server on 127.0.0.1 that records each POST in ``.requests``. It answers 500 to the
    first ``fail_first`` requests, then 200 (or 307 to ``redirect_to``, if given)."""

    def __init__(self, fail_first: int = 0, *, redirect_to: str | None = None) -> None:
        self.requests: list[Request] = []
        self.fail_first = fail_first
        self.redirect_to = redirect_to
        self._count = 0
        self._lock = threading.Lock()
        self._server = _Server((HOST, 0), _Handler)
        self._server.receiver = self
        self.port = int(self._server.server_address[1])
        self.url = f"http://{HOST}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def answer(self) -> int:
        with self._lock:
            self._count += 1
            if self._count <= self.fail_first:
                return 500
        return 307 if self.redirect_to else 200

    def __enter__(self) -> HttpReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

"""What the record store hands back: artefact versions, audit chains, the outbox and tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

# pending: not yet delivered (or being retried); delivered: every channel took it; recorded:
# nobody it is for has a channel, so the outbox is where it is read; failed: retries ran out.
DeliveryState = Literal["pending", "delivered", "recorded", "failed"]


class StoredArtefact(BaseModel):
    """One artefact version as the record holds it."""

    case_id: str
    kind: str
    version: int
    sha256: str
    content: dict[str, Any]
    document: str
    submitted_by: str | None = None
    submitted_at: datetime | None = None
    recorded_at: datetime


class ArtefactListing(BaseModel):
    """One artefact version of a case, without its content (GET /v1/cases/{case}/artefacts)."""

    kind: str
    version: int
    sha256: str
    submitted_by: str | None = None
    submitted_at: datetime | None = None
    url: str


class ChainReport(BaseModel):
    """What ``osom verify`` found in one case's audit chain."""

    case_id: str
    entries: int
    intact: bool
    head: str | None = None
    broken_at: int | None = None
    problem: str | None = None


class Delivery(BaseModel):
    person: str
    channel: Literal["email", "webhook"]
    state: Literal["sent", "failed"]
    attempts: int
    last_error: str | None = None


class RecordedNotification(BaseModel):
    """A notification in the outbox, with where its delivery stands."""

    case_id: str
    id: str
    kind: str
    to: list[str]
    subject: str
    body: str
    at: datetime
    state: DeliveryState
    attempts: int
    last_error: str | None = None
    deliveries: list[Delivery] = []


class RecordedCase(BaseModel):
    """The latest view of a case its workflow recorded."""

    case_id: str
    process: str
    state: str
    status: dict[str, Any]
    updated_at: datetime


class TokenRecord(BaseModel):
    sha256: str
    person: str
    label: str = ""
    issued_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

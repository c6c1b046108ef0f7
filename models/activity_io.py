"""What workflows hand their activities and get back: the data that crosses the seam."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from models.audit import AuditEntry
from models.case_view import CaseStatus
from models.people import Directory
from models.policy import Policy


class StoreRequest(BaseModel):
    """One artefact version to store under its case."""

    case_id: str
    kind: str
    version: int
    content: dict[str, Any]
    submitted_by: str | None = None
    submitted_at: datetime | None = None


class Notification(BaseModel):
    """A message to people in the directory; its id makes a retried send write the same file."""

    id: str
    case_id: str
    kind: Literal["info", "reminder", "escalation"]
    to: list[str]
    subject: str
    body: str
    at: datetime


class CaseRecordUpdate(BaseModel):
    """Audit entries to append to the case's chain (numbered from ``first_seq``) and the
    case's view as it is now; an empty update only checks that the record answers."""

    case_id: str
    process: str
    first_seq: int = 0
    entries: list[AuditEntry] = []
    status: CaseStatus | None = None


class CaseContext(BaseModel):
    """The directory and policy a case pins when it starts."""

    directory: Directory
    policy: Policy

"""The audit trail of a case: every accepted move and every refused signal (DOMAIN §9.0)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    actor: str
    role: str
    command: str
    from_state: str
    to_state: str
    outcome: Literal["accepted", "refused", "system"]
    decision_id: str | None = None
    reason: str | None = None
    artefact_versions: dict[str, int] = {}
    error_type: str | None = None
    message: str | None = None

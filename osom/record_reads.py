"""Reads that outlive the workflow: a case's view and audit log from its workflow while Temporal
keeps it, from the record once its history is gone (retention ran out, or it was deleted)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from temporalio.client import Client

from models.audit import AuditEntry
from models.case_view import CaseStatus
from models.errors import UnknownCase
from osom import cases

if TYPE_CHECKING:  # every `osom` command imports this; SQLAlchemy loads only when it is used
    from activities.record import RecordStore


async def status(client: Client, record: RecordStore, workflow_id: str) -> CaseStatus:
    try:
        return await cases.status(client, workflow_id)
    except UnknownCase:
        recorded = await asyncio.to_thread(record.case, workflow_id)
        if recorded is None:
            raise
        return CaseStatus.model_validate(recorded.status)


async def audit_log(client: Client, record: RecordStore, workflow_id: str) -> list[AuditEntry]:
    try:
        return await cases.audit_log(client, workflow_id)
    except UnknownCase:
        if await asyncio.to_thread(record.case, workflow_id) is None:
            raise
        entries = await asyncio.to_thread(record.audit, workflow_id)
        return [AuditEntry.model_validate(entry) for entry in entries]

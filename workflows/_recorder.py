"""Keeping a case's record: its audit entries appended to the chain, its view kept current.

Commands check that the record answers before they change anything, so a database that is
down refuses them (``RecordUnavailable``) and the case stays as it was. Entries are then
written by the case's run loop as they arise, retried until the record takes them: an entry
accepted while the database went away is written once it is back, never lost, never twice (the
record skips what it holds). Runs only inside a workflow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from models.activity_io import CaseRecordUpdate
    from models.case_state import CaseState
    from models.case_view import CaseStatus
    from models.errors import RecordUnavailable
    from workflows._activity import call
    from workflows.activity_contracts import RecordActivities

# Histories from before the record replay without any of this.
PATCH = "record-store"
# A command waits this long at most for the record before it is refused.
READY_TIMEOUT = timedelta(seconds=5)
READY_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=300), backoff_coefficient=2, maximum_attempts=3
)
# Entries already accepted are retried until the record takes them.
WRITE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
WRITE_TIMEOUT = timedelta(seconds=15)


class CaseRecorder:
    def __init__(self, process: str, case: CaseState, status: Callable[[], CaseStatus]) -> None:
        self._process = process
        self._case = case
        self._status = status
        self._writing = False

    def _on(self) -> bool:
        return workflow.patched(PATCH)

    async def ready(self) -> None:
        """RecordUnavailable unless the record answers now (before a command changes the case)."""
        if not self._on():
            return
        try:
            await call(
                RecordActivities.record_case,
                CaseRecordUpdate(case_id=workflow.info().workflow_id, process=self._process),
                summary="check the record answers",
                start_to_close=READY_TIMEOUT,
                retry=READY_RETRY,
            )
        except ActivityError as err:
            raise RecordUnavailable(
                f"the record store is unavailable, so nothing was changed: {err.cause}; "
                "send the command again with the same decision id"
            ) from err

    def unwritten(self) -> int:
        case = self._case
        return case.audit_offset + len(case.audit) - case.audit_recorded

    @property
    def busy(self) -> bool:
        """Entries waiting for the record, or a write under way."""
        return self._writing or (self._on() and self.unwritten() > 0)

    async def keep(self, done: Callable[[], bool]) -> None:
        """Write entries as they arise, until ``done`` holds and every entry is written."""
        if not self._on():
            return
        while True:
            await workflow.wait_condition(lambda: self.unwritten() > 0 or done())
            if self.unwritten() <= 0:
                return
            await self._write()

    async def _write(self) -> None:
        case = self._case
        start = max(case.audit_recorded - case.audit_offset, 0)
        entries = case.audit[start:]
        update = CaseRecordUpdate(
            case_id=workflow.info().workflow_id,
            process=self._process,
            first_seq=case.audit_offset + start,
            entries=entries,
            status=self._status(),
        )
        self._writing = True
        try:
            case.audit_recorded = await call(
                RecordActivities.record_case,
                update,
                summary=f"record {len(entries)} audit entries",
                start_to_close=WRITE_TIMEOUT,
                retry=WRITE_RETRY,
            )
        except ActivityError as err:  # refused for good (a conflicting chain): say so, go on
            workflow.logger.error("record.refused", extra={"error": str(err.cause)})
            case.audit_recorded = update.first_seq + len(entries)
        finally:
            self._writing = False

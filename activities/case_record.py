"""The activity that keeps a case's record: its audit chain and its latest view."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.record import AuditConflict, RecordStore
from models.activity_io import CaseRecordUpdate
from models.errors import RecordUnavailable
from workflows.activity_contracts import RecordActivities


class CaseRecords(RecordActivities):
    def __init__(self, record: RecordStore) -> None:
        self.record = record

    def write(self, update: CaseRecordUpdate) -> int:
        if not update.entries and update.status is None:
            self.record.ping()
            return update.first_seq
        entries = [entry.model_dump(mode="json") for entry in update.entries]
        following = self.record.append_audit(update.case_id, update.first_seq, entries)
        if update.status is not None:
            status = update.status.model_dump(mode="json")
            self.record.put_case(update.case_id, update.process, update.status.state, status)
        return following

    @activity.defn
    def record_case(self, update: CaseRecordUpdate) -> int:
        """Append audit entries to the case's chain and keep its view; the number of the next
        entry to record. An empty update only checks that the record answers."""
        try:
            return self.write(update)
        except AuditConflict as err:  # a chain that disagrees is reported, never rewritten
            raise ApplicationError(err.message, type=err.type, non_retryable=True) from err
        except RecordUnavailable as err:
            raise ApplicationError(err.message, type=err.type) from err

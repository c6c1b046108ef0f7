"""The record: artefact versions, audit chains, case views, the outbox and API tokens, in one
database that every worker and API instance shares (SQLite by default, PostgreSQL deployed)."""

from activities.record.store import AuditConflict, RecordStore

__all__ = ["AuditConflict", "RecordStore"]

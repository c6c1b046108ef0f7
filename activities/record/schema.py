"""The record's tables: what the organisation keeps of every case, on every host.

Immutability and idempotency are the database's rules here (primary keys and unique
constraints), not a check one host makes against its own files.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKeyConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

CASE_ID = 200  # workflow ids: "new-service/PRO-004", "coe-review/2026-12-02T09:00:00Z"


class Base(DeclarativeBase):
    pass


class ArtefactRow(Base):
    """One accepted artefact version: its content (canonical JSON), its rendered document and
    the sha256 of the content. (case, kind, version) is unique: a version is never rewritten."""

    __tablename__ = "artefacts"
    __table_args__ = (UniqueConstraint("case_id", "kind", "version", name="uq_artefact_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(CASE_ID), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    document: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """One audit entry of a case, chained to the one before it: ``hash`` is the sha256 of the
    previous entry's hash and this entry's canonical JSON, so an edit anywhere shows."""

    __tablename__ = "audit_entries"

    case_id: Mapped[str] = mapped_column(String(CASE_ID), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entry: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseRow(Base):
    """The latest view of a case its workflow recorded: what reads fall back on once the
    workflow's history is gone."""

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(CASE_ID), primary_key=True)
    process: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NotificationRow(Base):
    """The outbox: every notification a case sent, with where its delivery stands."""

    __tablename__ = "notifications"

    case_id: Mapped[str] = mapped_column(String(CASE_ID), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    recipients: Mapped[str] = mapped_column(Text)  # JSON list of person ids
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    state: Mapped[str] = mapped_column(String(16))  # recorded | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeliveryRow(Base):
    """One channel of one recipient of a notification: sent once, or why not yet."""

    __tablename__ = "deliveries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["case_id", "notification_id"], ["notifications.case_id", "notifications.id"]
        ),
    )

    case_id: Mapped[str] = mapped_column(String(CASE_ID), primary_key=True)
    notification_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)  # email | webhook
    state: Mapped[str] = mapped_column(String(16))  # sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TokenRow(Base):
    """An API token: only its sha256 is kept, with whose it is, until when, and if revoked."""

    __tablename__ = "api_tokens"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(32), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

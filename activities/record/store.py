"""The record store: one interface over SQLite (the embedded default) and PostgreSQL.

Artefact versions, audit chains, case views and API tokens here; the outbox in ``outbox``, the
database and its migrations in ``database``. Every method is one short transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from activities.record import chain
from activities.record.database import aware, now, utc
from activities.record.outbox import OutboxRecords
from activities.record.schema import ArtefactRow, AuditRow, CaseRow, TokenRow
from models.errors import ArtefactConflict, RecordUnavailable
from models.record import ChainReport, RecordedCase, StoredArtefact, TokenRecord


class AuditConflict(ArtefactConflict):
    """An audit entry already recorded under that number holds something else."""


class RecordStore(OutboxRecords):
    """The organisation's record of every case, shared by every worker and API instance:
    artefact versions, audit chains, case views, the outbox (``OutboxRecords``) and tokens."""

    @classmethod
    def open(cls, url: str) -> RecordStore:
        """The store at ``url`` with its schema brought up to date."""
        store = cls(url)
        store.migrate()
        return store

    # -- artefacts -------------------------------------------------------------------------------

    def put_artefact(
        self,
        case_id: str,
        kind: str,
        version: int,
        content: Mapping[str, Any],
        document: str,
        submitted_by: str | None = None,
        submitted_at: datetime | None = None,
    ) -> StoredArtefact:
        """Record one version; the same content again is a no-op, other content an
        ArtefactConflict (on every host: the database holds the rule)."""
        body = chain.artefact_body(content)
        digest = chain.sha256(body)
        existing = self.artefact(case_id, kind, version)
        if existing is None:
            row = ArtefactRow(
                case_id=case_id,
                kind=kind,
                version=version,
                content=body,
                document=document,
                sha256=digest,
                submitted_by=submitted_by,
                submitted_at=utc(submitted_at),
                recorded_at=now(),
            )
            try:
                with self._session() as session:
                    session.add(row)
            except IntegrityError:  # another worker wrote this version meanwhile
                pass
            existing = self.artefact(case_id, kind, version)
            assert existing is not None
        if existing.sha256 != digest:
            raise ArtefactConflict(
                f"{kind} v{version} of {case_id} already exists with different content; "
                "versions are immutable",
                case_id=case_id,
                kind=kind,
                version=version,
            )
        return existing

    def artefact(self, case_id: str, kind: str, version: int) -> StoredArtefact | None:
        with self._session() as session:
            row = session.scalars(
                select(ArtefactRow).where(
                    ArtefactRow.case_id == case_id,
                    ArtefactRow.kind == kind,
                    ArtefactRow.version == version,
                )
            ).one_or_none()
            return _artefact(row) if row else None

    def artefacts(self, case_id: str) -> list[StoredArtefact]:
        """Every version of every artefact of the case, by kind then version, with those it
        keeps under it (a service's lifecycle keeps its assessments' reports under
        ``lifecycle/SVC-001/assessments/...``)."""
        under = case_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
        with self._session() as session:
            rows = session.scalars(
                select(ArtefactRow)
                .where(
                    (ArtefactRow.case_id == case_id) | ArtefactRow.case_id.like(under, escape="\\")
                )
                .order_by(ArtefactRow.case_id, ArtefactRow.kind, ArtefactRow.version)
            ).all()
            return [_artefact(row) for row in rows]

    # -- the audit chain ---------------------------------------------------------------------------

    def append_audit(
        self, case_id: str, first_seq: int, entries: Sequence[Mapping[str, Any]]
    ) -> int:
        """Record ``entries`` as numbers ``first_seq`` on; what is already recorded with the
        same content is skipped (a retry or a replay never writes an entry twice). Returns the
        number of the next entry to record."""
        for _ in range(3):  # another writer may take a number between our read and our write
            try:
                with self._session() as session:
                    self._append(session, case_id, first_seq, entries)
                return first_seq + len(entries)
            except IntegrityError:
                continue
        raise RecordUnavailable(f"the audit log of {case_id} is being written by another worker")

    def _append(
        self,
        session: Session,
        case_id: str,
        first_seq: int,
        entries: Sequence[Mapping[str, Any]],
    ) -> None:
        rows = {
            row.seq: row
            for row in session.scalars(
                select(AuditRow).where(
                    AuditRow.case_id == case_id,
                    AuditRow.seq >= first_seq - 1,
                    AuditRow.seq < first_seq + len(entries),
                )
            )
        }
        previous = rows.get(first_seq - 1)
        # The chain may start past 0 (its case's oldest entries predate the record); then the
        # batch that starts it has nothing before it, and a retry of that batch neither.
        first = session.scalar(select(func.min(AuditRow.seq)).where(AuditRow.case_id == case_id))
        if previous is None and first is not None and first != first_seq:
            raise AuditConflict(
                f"the audit log of {case_id} has no entry {first_seq - 1} to chain {first_seq} to"
            )
        prev_hash = previous.hash if previous else chain.GENESIS
        for seq, entry in enumerate(entries, start=first_seq):
            body = chain.entry_body(entry)
            if (existing := rows.get(seq)) is not None:
                if existing.entry != body:
                    raise AuditConflict(
                        f"audit entry {seq} of {case_id} is already recorded with other content"
                    )
                prev_hash = existing.hash
                continue
            digest = chain.link(prev_hash, body)
            session.add(
                AuditRow(
                    case_id=case_id,
                    seq=seq,
                    entry=body,
                    prev_hash=prev_hash,
                    hash=digest,
                    recorded_at=now(),
                )
            )
            prev_hash = digest

    def audit(self, case_id: str) -> list[dict[str, Any]]:
        """The recorded audit entries of the case, oldest first."""
        with self._session() as session:
            rows = session.scalars(
                select(AuditRow.entry).where(AuditRow.case_id == case_id).order_by(AuditRow.seq)
            ).all()
            return [json.loads(row) for row in rows]

    def verify(self, case_id: str) -> ChainReport:
        """Walk the case's chain: each entry must hash to what it says and point at the one
        before it. A break is reported, never repaired."""
        with self._session() as session:
            rows = session.scalars(
                select(AuditRow).where(AuditRow.case_id == case_id).order_by(AuditRow.seq)
            ).all()
            return chain.verify(case_id, [(r.seq, r.entry, r.prev_hash, r.hash) for r in rows])

    # -- the view of a case ----------------------------------------------------------------------

    def put_case(self, case_id: str, process: str, state: str, status: Mapping[str, Any]) -> None:
        """Keep the case's latest view (what reads use once its workflow is gone)."""
        with self._session() as session:
            row = session.get(CaseRow, case_id)
            if row is None:
                row = CaseRow(case_id=case_id)
                session.add(row)
            row.process = process
            row.state = state
            row.status = json.dumps(status, sort_keys=True, default=str)
            row.updated_at = now()

    def case(self, case_id: str) -> RecordedCase | None:
        with self._session() as session:
            row = session.get(CaseRow, case_id)
            if row is None:
                return None
            return RecordedCase(
                case_id=row.case_id,
                process=row.process,
                state=row.state,
                status=json.loads(row.status),
                updated_at=aware(row.updated_at),
            )

    # -- API tokens ----------------------------------------------------------------------------

    def add_token(self, token: TokenRecord) -> None:
        with self._session() as session:
            session.add(
                TokenRow(
                    sha256=token.sha256,
                    person=token.person,
                    label=token.label,
                    issued_at=utc(token.issued_at),
                    expires_at=utc(token.expires_at),
                    revoked_at=utc(token.revoked_at),
                )
            )

    def token(self, sha256: str) -> TokenRecord | None:
        with self._session() as session:
            row = session.get(TokenRow, sha256)
            return _token(row) if row else None

    def tokens(self, person: str | None = None) -> list[TokenRecord]:
        query = select(TokenRow).order_by(TokenRow.issued_at)
        if person is not None:
            query = query.where(TokenRow.person == person)
        with self._session() as session:
            return [_token(row) for row in session.scalars(query)]

    def revoke_token(self, sha256: str, at: datetime) -> bool:
        """Revoke a token; False if there is no such token or it was revoked already."""
        with self._session() as session:
            row = session.get(TokenRow, sha256)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = utc(at)
            return True


def _artefact(row: ArtefactRow) -> StoredArtefact:
    return StoredArtefact(
        case_id=row.case_id,
        kind=row.kind,
        version=row.version,
        sha256=row.sha256,
        content=json.loads(row.content),
        document=row.document,
        submitted_by=row.submitted_by,
        submitted_at=aware(row.submitted_at),
        recorded_at=aware(row.recorded_at),
    )


def _token(row: TokenRow) -> TokenRecord:
    return TokenRecord(
        sha256=row.sha256,
        person=row.person,
        label=row.label,
        issued_at=aware(row.issued_at),
        expires_at=aware(row.expires_at),
        revoked_at=aware(row.revoked_at),
    )

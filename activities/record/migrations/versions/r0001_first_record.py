"""The first record: artefact versions, audit chains, case views, the outbox and API tokens.

Revision ID: r0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None

CASE_ID = 200
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "artefacts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(CASE_ID), nullable=False, index=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("submitted_by", sa.String(64)),
        sa.Column("submitted_at", WHEN),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.UniqueConstraint("case_id", "kind", "version", name="uq_artefact_version"),
    )
    op.create_table(
        "audit_entries",
        sa.Column("case_id", sa.String(CASE_ID), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("entry", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(CASE_ID), primary_key=True),
        sa.Column("process", sa.String(64), nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("case_id", sa.String(CASE_ID), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("at", WHEN, nullable=False, index=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("person", sa.String(32), nullable=False, index=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("issued_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN),
        sa.Column("revoked_at", WHEN),
    )


def downgrade() -> None:
    for table in ("api_tokens", "notifications", "cases", "audit_entries", "artefacts"):
        op.drop_table(table)

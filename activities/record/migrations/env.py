"""Alembic's entry point: runs the record's migrations on the connection the store hands over."""

from __future__ import annotations

from alembic import context

from activities.record.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()

"""Alembic environment: always run with a connection handed in by segport.metadata.upgrade."""

from __future__ import annotations

from alembic import context

from segport.metadata.db import include_name

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through the alembic CLI
    raise RuntimeError("run migrations through segport.metadata.upgrade(engine)")

# include_name: procrastinate's tables (migration 0014) are not declared by the models.
context.configure(connection=connection, render_as_batch=True, include_name=include_name)
with context.begin_transaction():
    context.run_migrations()

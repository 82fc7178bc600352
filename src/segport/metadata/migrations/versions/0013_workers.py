"""Live workers (issue 12): one row per `segport worker` process while it runs.

- ``host`` / ``pid``: where the worker runs; ``started_at``; ``heartbeat_at``: its last
  sign of life (a worker whose heartbeat is older than the run heartbeat timeout and whose
  process is gone is stale, and its row is replaced).
- ``current_run_id``: the run it is executing, if any (set to NULL if that run is deleted).
- ``slot``: 1 for a worker on a SQLite workspace, NULL otherwise. The unique index on it
  lets the database, not a check-then-insert, refuse a second worker on SQLite (one
  process per workspace there), while PostgreSQL rows (NULLs) may be many.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["current_run_id"],
            ["runs.id"],
            name="fk_workers_current_run_id_runs",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_workers"),
    )
    op.create_index("ix_workers_slot", "workers", ["slot"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_workers_slot", table_name="workers")
    op.drop_table("workers")

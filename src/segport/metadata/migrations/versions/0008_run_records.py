"""Runs as records (issue 10): per-export run numbers, reason codes, heartbeats, claims,
cancel requests, and one unfinished run per export enforced by the database.

- ``number``: the run's number within its export (1, 2, 3 …), what users see; the id stays
  the workspace-wide handle. Existing runs are numbered in the order of their ids.
- ``reason``: why the run ended as it did (``segport.service.run_lifecycle`` lists them).
- ``heartbeat_at`` / ``claimed_by`` (``host:pid``): the executor's sign of life, so a run
  whose process died is found and never left ``processing``.
- ``cancel_requested_at`` / ``cancel_requested_by``: `segport runs cancel` on a processing
  run; its executor stops at the next safe point.
- ``ix_runs_one_unfinished``: a partial unique index, so at most one run per export is
  ``queued`` or ``processing`` (SQLite and PostgreSQL both have partial indexes). Older
  duplicates are ended first (``failed``, reason ``superseded``).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UNFINISHED = "status IN ('queued', 'processing')"


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reason", sa.String(32), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(200), nullable=True))
        batch.add_column(
            sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("cancel_requested_by", sa.String(200), nullable=True))
    op.execute(
        "UPDATE runs SET number = (SELECT count(*) FROM runs AS r "
        "WHERE r.export_id = runs.export_id AND r.id <= runs.id)"
    )
    # Only the newest unfinished run of an export can still be the one going on.
    op.execute(
        "UPDATE runs SET status = 'failed', reason = 'superseded', "
        "finished_at = CURRENT_TIMESTAMP, "
        "message = 'ended by the upgrade: a newer run of the export was unfinished too' "
        f"WHERE {UNFINISHED} AND id < (SELECT max(r.id) FROM runs AS r "
        f"WHERE r.export_id = runs.export_id AND r.{UNFINISHED})"
    )
    with op.batch_alter_table("runs") as batch:
        batch.alter_column("number", existing_type=sa.Integer(), nullable=False)
    op.create_index("ix_runs_export_id_number", "runs", ["export_id", "number"], unique=True)
    op.create_index(
        "ix_runs_one_unfinished",
        "runs",
        ["export_id"],
        unique=True,
        sqlite_where=sa.text(UNFINISHED),
        postgresql_where=sa.text(UNFINISHED),
    )


def downgrade() -> None:
    op.drop_index("ix_runs_one_unfinished", table_name="runs")
    op.drop_index("ix_runs_export_id_number", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("cancel_requested_by")
        batch.drop_column("cancel_requested_at")
        batch.drop_column("claimed_by")
        batch.drop_column("heartbeat_at")
        batch.drop_column("reason")
        batch.drop_column("number")

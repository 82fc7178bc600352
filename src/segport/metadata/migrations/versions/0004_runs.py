"""Runs of exports: status, counts and timings (export engine issue).

The per-email export state (fingerprints, checkpoints) is not here: it lives in one DuckDB
file per export in the workspace's ``state/`` folder, where the engine diffs a million rows
in well under a second. This table is the record users see: one row per run.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "export_id",
            sa.Integer(),
            sa.ForeignKey("exports.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("allow_mass_removal", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("members", sa.Integer(), nullable=True),
        sa.Column("sent", sa.Integer(), nullable=True),
        sa.Column("removed", sa.Integer(), nullable=True),
        sa.Column("rejected", sa.Integer(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "status IN ('not_started', 'queued', 'processing', 'successful', 'failed', "
            "'skipped', 'canceled')",
            name="status",
        ),
    )
    op.create_index("ix_runs_export_id_id", "runs", ["export_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_runs_export_id_id", table_name="runs")
    op.drop_table("runs")

"""The export state's copy in the metadata database (issue 12: workers on many machines).

- ``export_states``: per export, the token, size, SHA-256, time and saver of the copy;
  for a copy saved at a run's plan, that run and its chunk checkpoints since (JSON).
- ``export_state_parts``: the state file in numbered zstd-compressed parts (bytea on
  PostgreSQL, stored EXTERNAL: already compressed, so PostgreSQL does not try again).

Used when the metadata database is PostgreSQL, so that a run of any export can execute on
any worker; on SQLite the tables stay empty (the state lives in the workspace's folder).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_states",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("parts_written", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(255), nullable=False),
        sa.Column("plan_run_id", sa.Integer(), nullable=True),
        sa.Column("checkpoints", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["exports.id"],
            name="fk_export_states_export_id_exports",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("export_id", name="pk_export_states"),
    )
    op.create_table(
        "export_state_parts",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("part_no", sa.Integer(), nullable=False),
        sa.Column("raw_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["exports.id"],
            name="fk_export_state_parts_export_id_exports",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("export_id", "part_no", name="pk_export_state_parts"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE export_state_parts ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("export_state_parts")
    op.drop_table("export_states")

"""A processing run's latest progress (issue 13: the run's page shows it live).

- ``runs.progress``: JSON ``{"stage", "done", "total", "unit", "note", "at"}``, the last
  progress event the run reported, written by its heartbeat thread at most once a second.
  Null before a run reports any; kept when it ends (the summary is what ended runs show).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("progress", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("progress")

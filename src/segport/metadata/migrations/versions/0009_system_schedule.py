"""The system refresh's schedule (issue 12): one row per workspace, absent until set.

- ``days``: the weekdays it fires on, ``mon,thu`` (all seven: daily); ``times``: one to
  four times of day, ``08:30,14:00``; ``timezone``: the IANA zone they are read in.
- ``enabled``: off keeps the days and times, so `segport schedule show` can say what it was.
- ``updated_by`` / ``updated_at``: who set or turned it off last, and when.
- ``last_fired_at``: the scheduled instant (UTC) of the last firing a worker acted on; a
  worker computes what is due after ``max(last_fired_at, updated_at)``, so a change of
  times never fires a past time, and a worker that was down fires once
  (``segport.scheduler.times.due``).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "system_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("days", sa.String(32), nullable=False),
        sa.Column("times", sa.String(32), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_system_schedule"),
        # One schedule per workspace: the row is always id 1.
        sa.CheckConstraint("id = 1", name="ck_system_schedule_one_row"),
    )


def downgrade() -> None:
    op.drop_table("system_schedule")

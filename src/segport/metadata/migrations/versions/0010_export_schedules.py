"""Exports' own schedules (issue 12): an export runs with the system refresh, only on
demand, or on a cron schedule of its own.

- ``schedule``: ``system``, ``manual`` or (new) ``cron``.
- ``cron`` / ``timezone``: the five-field cron expression and the IANA zone it is read
  in; set only when ``schedule`` is ``cron``.
- ``schedule_updated_at``: when the schedule was last set or changed; a worker never
  fires a time before it, so a change does not fire times that already passed.
- ``schedule_fired_at``: the scheduled instant (UTC) of the last firing a worker acted
  on; what is due is computed after ``max(schedule_fired_at, schedule_updated_at)``, so
  a worker that was down fires once (``segport.service.export_schedules``).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exports") as batch:
        batch.add_column(sa.Column("cron", sa.String(100), nullable=True))
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("schedule_updated_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("schedule_fired_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # An export on its own schedule runs with the system refresh after a downgrade.
    op.execute("UPDATE exports SET schedule = 'system' WHERE schedule = 'cron'")
    with op.batch_alter_table("exports") as batch:
        batch.drop_column("schedule_fired_at")
        batch.drop_column("schedule_updated_at")
        batch.drop_column("timezone")
        batch.drop_column("cron")

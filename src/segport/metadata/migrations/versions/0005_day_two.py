"""Day-two settings of exports (day-two correctness issue).

- ``empty_values``: what a run does with a value that became empty in the profiles:
  ``clear`` it in Brevo (the default) or ``keep`` what Brevo has.
- ``share_list``: the export knowingly shares its Brevo list with another export of the
  workspace; a second export on a list is refused without it.
- ``phone_country_column``: a profile column holding each row's ISO 3166 alpha-2 country,
  used to read national phone numbers (``phone_region`` is the fallback).
- ``state_token``: written with every successful run into both the metadata and the
  export's state file; a state whose token differs (restored from an older backup, lost
  write-ahead log, cut short) is detected instead of silently resending everything.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exports") as batch:
        batch.add_column(
            sa.Column("empty_values", sa.String(5), nullable=False, server_default="clear")
        )
        batch.add_column(
            sa.Column("share_list", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("phone_country_column", sa.String(200), nullable=True))
        batch.add_column(sa.Column("state_token", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exports") as batch:
        batch.drop_column("state_token")
        batch.drop_column("phone_country_column")
        batch.drop_column("share_list")
        batch.drop_column("empty_values")

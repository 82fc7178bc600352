"""A PostgreSQL profile store that segport loads (`profiles load --into`, issue 12).

- ``profile_source.managed``: True when segport loads the PostgreSQL table itself, so a
  later `profiles load` loads into it again; False (every existing row) for the embedded
  store and for a table it only reads (`profiles use`).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("profile_source") as batch:
        batch.add_column(
            sa.Column("managed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("profile_source") as batch:
        batch.drop_column("managed")

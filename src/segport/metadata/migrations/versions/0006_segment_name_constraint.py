"""Segment names' unique constraint gets its conventional name, ``uq_segments_name``.

Migration 0002 created it without a name (SQLite keeps it unnamed, PostgreSQL calls it
``segments_name_key``), while the models name every constraint by ``NAMING`` so later
migrations can alter them the same way on both. Nothing else changes.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NAME = "uq_segments_name"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE segments RENAME CONSTRAINT segments_name_key TO {NAME}")
        return
    # SQLite cannot rename a constraint: the table is rebuilt, its unnamed constraint
    # named by this convention on the way.
    convention = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
    with op.batch_alter_table("segments", recreate="always", naming_convention=convention):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE segments RENAME CONSTRAINT {NAME} TO segments_name_key")
        return
    # On SQLite the constraint keeps its name: batch mode cannot make an unnamed one, and
    # no earlier revision refers to it by name.

"""Alerts about run endings (issue 12) and the workspace's SMTP server.

- ``alerts``: one row per named alert. ``kind`` says where it goes: ``email`` (to the
  comma-separated addresses in ``email``) or ``webhook`` (a POST to ``webhook_url``,
  signed with the secret in the environment variable named ``secret_env``). ``rule`` is
  the ``--on`` spec (``failed,skipped,rejected-over:5%``). Only a variable's *name* is
  kept: never a secret.
- ``smtp_settings``: one row (id 1), absent until an admin sets it. The password is
  read, when an alert is sent, from the environment variable named ``password_env``.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# The lead renumbers this migration at merge time: the id lives here and in HEAD_REVISION.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("email", sa.String(1000), nullable=True),
        sa.Column("webhook_url", sa.String(2000), nullable=True),
        sa.Column("secret_env", sa.String(255), nullable=True),
        sa.Column("rule", sa.String(500), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("name", name="uq_alerts_name"),
        sa.CheckConstraint("kind IN ('email', 'webhook')", name="ck_alerts_kind"),
    )
    op.create_table(
        "smtp_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("starttls", sa.Boolean(), nullable=False),
        sa.Column("user", sa.String(255), nullable=True),
        sa.Column("password_env", sa.String(255), nullable=True),
        sa.Column("from_address", sa.String(320), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_smtp_settings"),
        # One SMTP server per workspace: the row is always id 1.
        sa.CheckConstraint("id = 1", name="ck_smtp_settings_one_row"),
    )


def downgrade() -> None:
    op.drop_table("smtp_settings")
    op.drop_table("alerts")

"""Users, audit log, connections and exports (workspace issue).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ts("at"),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=False),
        sa.Column("api_key_token", sa.LargeBinary(), nullable=False),
        sa.Column("shared_with_contributors", sa.Boolean(), nullable=False),
        sa.Column("requests_per_second", sa.Float(), nullable=False),
        sa.Column("export_user_id", sa.Integer(), nullable=True),
        sa.Column("export_user_name", sa.String(100), nullable=False),
        sa.Column("consent_by", sa.String(100), nullable=False),
        _ts("consent_at"),
        sa.Column("consent_version", sa.String(20), nullable=False),
        sa.Column("account_email", sa.String(300), nullable=True),
        sa.Column("account_company", sa.String(300), nullable=True),
        sa.Column("account_plan", sa.String(300), nullable=True),
        _ts("verified_at", nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_connections"),
        sa.UniqueConstraint("name", name="uq_connections_name"),
        sa.ForeignKeyConstraint(
            ["export_user_id"],
            ["users.id"],
            name="fk_connections_export_user_id_users",
            ondelete="SET NULL",
        ),
    )
    op.create_table(
        "exports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("email_column", sa.String(200), nullable=False),
        sa.Column("first_name_column", sa.String(200), nullable=True),
        sa.Column("last_name_column", sa.String(200), nullable=True),
        sa.Column("phone_column", sa.String(200), nullable=True),
        sa.Column("first_name_attribute", sa.String(100), nullable=True),
        sa.Column("last_name_attribute", sa.String(100), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("phone_region", sa.String(2), nullable=True),
        sa.Column("profile_limit", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.String(10), nullable=False),
        sa.Column("last_status", sa.String(20), nullable=True),
        _ts("last_run_at", nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_exports"),
        sa.UniqueConstraint("name", name="uq_exports_name"),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name="fk_exports_connection_id_connections",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_exports_connection_id", "exports", ["connection_id"])
    op.create_table(
        "export_segments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("segment_name", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_export_segments"),
        sa.UniqueConstraint("export_id", "segment_name", name="uq_export_segments_export_id"),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["exports.id"],
            name="fk_export_segments_export_id_exports",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_export_segments_segment_name", "export_segments", ["segment_name"])


def downgrade() -> None:
    op.drop_table("export_segments")
    op.drop_table("exports")
    op.drop_table("connections")
    op.drop_table("audit_log")
    op.drop_table("users")

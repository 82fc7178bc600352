"""Tables of the workspace layer: users, audit log, connections, exports, API tokens.

Migration 0003 creates these tables (0007 the credentials); keep the two in step.
Timestamps are stored as timezone-aware UTC. Secrets are kept only as Fernet tokens
(``api_key_token``); passwords and API tokens only as hashes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from segport.metadata import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite hands back naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Migration 0007: an argon2id hash in PHC form (never the password), for the server.
    # Deferred: loaded only where credentials are handled, so naming a user (every
    # command) neither reads the hash nor needs these columns (`segport doctor` reads a
    # workspace whose migrations are behind without upgrading it).
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True, deferred=True)
    password_set_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, deferred=True
    )


class ApiToken(Base):
    """An API token of a user (migration 0007): only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The database removes a user's tokens with the user.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[User] = relationship(lazy="joined")


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # The name, not a foreign key: the log outlives the users it mentions.
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Connection(Base):
    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    base_url: Mapped[str] = mapped_column(String(500))
    api_key_token: Mapped[bytes] = mapped_column(LargeBinary)
    shared_with_contributors: Mapped[bool] = mapped_column(Boolean, default=False)
    # Float, as migration 0003 made it (a bare `float` annotation maps to Double).
    requests_per_second: Mapped[float] = mapped_column(Float, default=10.0)
    # The export user: runs on this connection act as them. The name is kept beside the id
    # so a run can say who was removed.
    export_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    export_user_name: Mapped[str] = mapped_column(String(100))
    consent_by: Mapped[str] = mapped_column(String(100))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consent_version: Mapped[str] = mapped_column(String(20))
    # What GET /account said when the key was last verified (never the key).
    account_email: Mapped[str | None] = mapped_column(String(300), nullable=True)
    account_company: Mapped[str | None] = mapped_column(String(300), nullable=True)
    account_plan: Mapped[str | None] = mapped_column(String(300), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    export_user: Mapped[User | None] = relationship(lazy="joined")


class Export(Base):
    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL"), nullable=True, index=True
    )
    list_id: Mapped[int] = mapped_column(Integer)
    email_column: Mapped[str] = mapped_column(String(200))
    first_name_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_name_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    first_name_attribute: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_name_attribute: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Further Brevo attribute -> profile column pairs, in the order the user gave them.
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    mode: Mapped[str] = mapped_column(String(10), default="add")
    phone_region: Mapped[str | None] = mapped_column(String(2), nullable=True)
    # Migration 0005: day-two settings (see its docstring).
    phone_country_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    empty_values: Mapped[str] = mapped_column(String(5), default="clear", server_default="clear")
    share_list: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    state_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    profile_limit: Mapped[int] = mapped_column(Integer, default=1_000_000)
    schedule: Mapped[str] = mapped_column(String(10), default="system")
    # Migration 0010: the export's own schedule (schedule "cron"), and for the worker
    # when it last fired and when the schedule was last set (service.export_schedules).
    cron: Mapped[str | None] = mapped_column(String(100), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    schedule_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    schedule_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Written by the run engine when a run ends (see exports.record_last_run).
    last_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    connection: Mapped[Connection | None] = relationship(lazy="joined")
    segments: Mapped[list[ExportSegment]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="ExportSegment.position",
    )

    @property
    def segment_names(self) -> list[str]:
        return [s.segment_name for s in self.segments]


class ExportSegment(Base):
    __tablename__ = "export_segments"
    __table_args__ = (UniqueConstraint("export_id", "segment_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("exports.id", ondelete="CASCADE"))
    segment_name: Mapped[str] = mapped_column(String(200), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


__all__ = ["ApiToken", "AuditEntry", "Connection", "Export", "ExportSegment", "User", "utcnow"]

"""Alerts and the workspace's SMTP server as stored (tables ``alerts`` and
``smtp_settings``, migration 0011: keep the two in step). Environment variables are kept
by name only: the SMTP password and a webhook's secret are never stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from segport.metadata import Base
from segport.service.models import UTCDateTime, utcnow

EMAIL = "email"
WEBHOOK = "webhook"
SMTP_ROW_ID = 1


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (CheckConstraint("kind IN ('email', 'webhook')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(1000), nullable=True)  # "a@x.com,b@y.org"
    webhook_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    secret_env: Mapped[str | None] = mapped_column(String(255), nullable=True)  # a name
    rule: Mapped[str] = mapped_column(String(500))  # the --on spec
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SmtpRow(Base):
    __tablename__ = "smtp_settings"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    starttls: Mapped[bool] = mapped_column(Boolean)
    user: Mapped[str | None] = mapped_column(String(255), nullable=True)
    password_env: Mapped[str | None] = mapped_column(String(255), nullable=True)  # a name
    from_address: Mapped[str] = mapped_column(String(320))
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


__all__ = ["EMAIL", "SMTP_ROW_ID", "WEBHOOK", "AlertRow", "SmtpRow"]

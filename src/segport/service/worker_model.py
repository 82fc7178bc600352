"""The live-workers registry as stored (table ``workers``, migration 0013: keep the two in
step). One row per running `segport worker`; ``slot`` is 1 on SQLite, where the unique
index allows one worker per workspace, and NULL on PostgreSQL, where workers are many."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from segport.metadata import Base
from segport.service import run_model as _run_model  # noqa: F401  (runs table for the FK)
from segport.service.models import UTCDateTime, utcnow

SQLITE_SLOT = 1


class WorkerRow(Base):
    __tablename__ = "workers"
    __table_args__ = (Index("ix_workers_slot", "slot", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    slot: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    current_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), nullable=True
    )


__all__ = ["SQLITE_SLOT", "WorkerRow"]

"""The system refresh's schedule as stored (table ``system_schedule``, migration 0009:
keep the two in step). One row, id 1, absent until an admin sets the schedule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from segport.metadata import Base
from segport.service.models import UTCDateTime, utcnow

ROW_ID = 1


class SystemSchedule(Base):
    __tablename__ = "system_schedule"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    enabled: Mapped[bool] = mapped_column(Boolean)
    days: Mapped[str] = mapped_column(String(32))  # "mon,thu"; all seven: daily
    times: Mapped[str] = mapped_column(String(32))  # "08:30,14:00"
    timezone: Mapped[str] = mapped_column(String(64))
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The scheduled instant of the last firing a worker acted on (what `due` returned);
    # firings after max(this, updated_at) are the ones still to come.
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


__all__ = ["ROW_ID", "SystemSchedule"]

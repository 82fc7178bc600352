"""Segment definitions as kept in the workspace's metadata database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from segport.metadata import Base

ACTIVE = "active"
INACTIVE = "inactive"
RULE = "rule"
COMBINATION = "combination"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Segment(Base):
    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # rule | combination
    # Rules: the structured document (JSON); combinations: the tree of segment names (JSON).
    definition: Mapped[str] = mapped_column(Text, nullable=False)
    # The canonical text: the --where expression, or the --combine expression.
    expression: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=ACTIVE)
    member_count: Mapped[int | None] = mapped_column(Integer)
    evaluated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

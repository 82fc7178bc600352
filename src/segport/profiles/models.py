"""Where the workspace's profiles live, as kept in the metadata database (one row)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from segport.metadata import Base

EMBEDDED = "duckdb"
POSTGRES = "postgres"


class ProfileSource(Base):
    __tablename__ = "profile_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # duckdb | postgres
    # The warehouse URL for `profiles use` and `profiles load --into`; None for the embedded store.
    url: Mapped[str | None] = mapped_column(Text)
    # PostgreSQL: True when segport loads the table (`profiles load --into`), so later loads
    # go there too; False for a table it only reads (`profiles use`). Deferred: read only by
    # the code that needs it, so what reads the row on a schema not yet upgraded (`segport
    # doctor` before migration 0012) still works.
    managed: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), deferred=True
    )
    table_name: Mapped[str] = mapped_column(String(200), nullable=False)
    id_column: Mapped[str] = mapped_column(String(200), nullable=False)
    loaded_from: Mapped[str | None] = mapped_column(Text)
    row_count: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )

"""The copy of each export's state kept in a PostgreSQL metadata database, as stored
(tables ``export_states`` and ``export_state_parts``, migration 0014: keep the two in step).

One ``export_states`` row per export that has a copy: the state's token when it was saved
(the same token ``exports.state_token`` holds once the copy is current), its size, its
SHA-256 and when it was saved. The file itself is in ``export_state_parts``, in numbered
parts of at most :data:`PART_BYTES`, so neither saving nor fetching ever holds a whole
state in memory; each part is compressed with zstd (level 1: a 1M-contact state of 337 MB
becomes 139 MB, in 0.7 s), and PostgreSQL is told not to compress it again (``STORAGE
EXTERNAL``: its own pglz made saving 3-4x slower, bench/README.md). Each part's SHA-256
lets a save write only the parts that changed, and a fetch take the unchanged ones from
the folder's older file. Both tables' rows go when the export goes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from segport.metadata import Base
from segport.service import models as _models  # noqa: F401  (exports table for the FKs)
from segport.service.models import UTCDateTime, utcnow

PART_BYTES = 4 * 1024 * 1024


class ExportStateCopy(Base):
    __tablename__ = "export_states"

    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(BigInteger)
    parts: Mapped[int] = mapped_column(Integer)
    parts_written: Mapped[int] = mapped_column(Integer)  # by the last save: those that changed
    sha256: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    saved_by: Mapped[str] = mapped_column(String(255))  # host:pid of the process that saved
    # A copy saved as a run's plan was made (service.run_checkpoints): that run's id, and
    # its chunk checkpoints since (JSON), which a worker elsewhere lays over the copy to
    # resume the run exactly should it be lost. NULL for a copy saved as a run ended.
    plan_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    checkpoints: Mapped[str | None] = mapped_column(Text, nullable=True)


class ExportStatePart(Base):
    __tablename__ = "export_state_parts"

    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    part_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    raw_bytes: Mapped[int] = mapped_column(Integer)  # the part's size before compression
    sha256: Mapped[str] = mapped_column(String(64))  # of the part before compression
    data: Mapped[bytes] = mapped_column(LargeBinary)  # zstd-compressed


__all__ = ["PART_BYTES", "ExportStateCopy", "ExportStatePart"]

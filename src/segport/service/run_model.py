"""The run record (table ``runs``, migrations 0004 and 0006), its view and its reason codes.

A run is requested (``queued``, committed), claimed by one executor (``processing``), and
ends ``successful``, ``failed``, ``skipped`` or ``canceled`` with a reason code. The
database keeps at most one ``queued``-or-``processing`` run per export
(``ix_runs_one_unfinished``). Users see a run as "Run 3 of export 'news'" (``number``, per
export); the ``id`` is the workspace-wide handle (`segport runs show ID`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from segport.errors import NotFound
from segport.exports.summary import RunSummary
from segport.metadata import Base
from segport.service import models as _workspace_models  # noqa: F401  (exports table for the FK)
from segport.service.models import Export, UTCDateTime, utcnow
from segport.service.workspace import WorkspaceError

RUNS_DIR = "runs"
STATUSES = ("not_started", "queued", "processing", "successful", "failed", "skipped", "canceled")
UNFINISHED = ("queued", "processing")
_UNFINISHED_SQL = "status IN ('queued', 'processing')"

# Why a run ended as it did (``runs.reason``). One code per cause; docs/exports.md lists
# them for users. Faces show the message; programs match on the code.
COMPLETED = "completed"  # successful: everything planned is in Brevo
OVER_PROFILE_LIMIT = "over_profile_limit"  # skipped: more members than the export allows
NO_CONNECTION = "no_connection"  # skipped: the export is detached from its connection
SEGMENT_INACTIVE = "segment_inactive"  # skipped by a refresh: a segment is inactive or gone
SEGMENT_FAILED = "segment_failed"  # skipped by a refresh: a segment failed to evaluate
CONNECTION_UNUSABLE = "connection_unusable"  # its connection's owner can no longer use it
ATTRIBUTE_MISSING = "attribute_missing"  # a mapped Brevo attribute is gone
BREVO_ERROR = "brevo_error"  # Brevo refused or failed; what it accepted is checkpointed
BREVO_BUSY = "brevo_busy"  # Brevo is still importing chunks of the previous run
INCOMPLETE = "incomplete"  # some chunks were not imported: the next run sends them
REMOVAL_REFUSED = "removal_refused"  # mirror removal refused (mass removal guard)
STATE_LOST = "state_lost"  # the export's state is missing, damaged or not the last one
ERROR = "error"  # an unexpected error ended the run (its message says which)
CANCELED_BY_USER = "canceled_by_user"  # a user canceled it (cancel_run)
INTERRUPTED = "interrupted"  # SIGTERM or Ctrl-C
WORKER_LOST = "worker_lost"  # its process died: heartbeat expired, process gone
CONTINUED = "continued"  # a crash left it unfinished; a later run continued its work
SUPERSEDED = "superseded"  # migration 0006: a newer unfinished run of the export existed
REASONS = (
    COMPLETED,
    OVER_PROFILE_LIMIT,
    NO_CONNECTION,
    SEGMENT_INACTIVE,
    SEGMENT_FAILED,
    CONNECTION_UNUSABLE,
    ATTRIBUTE_MISSING,
    BREVO_ERROR,
    BREVO_BUSY,
    INCOMPLETE,
    REMOVAL_REFUSED,
    STATE_LOST,
    ERROR,
    CANCELED_BY_USER,
    INTERRUPTED,
    WORKER_LOST,
    CONTINUED,
    SUPERSEDED,
)


class RunNotFound(NotFound, WorkspaceError):
    """No run has the id asked for."""

    default_code = "run_not_found"


class Run(Base):
    """One run of an export (migrations 0004 and 0006: keep the two in step)."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_export_id_id", "export_id", "id"),
        Index("ix_runs_export_id_number", "export_id", "number", unique=True),
        Index(
            "ix_runs_one_unfinished",
            "export_id",
            unique=True,
            sqlite_where=text(_UNFINISHED_SQL),
            postgresql_where=text(_UNFINISHED_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("exports.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    trigger: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_mass_removal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_requested_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    members: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sent: Mapped[int | None] = mapped_column(Integer, nullable=True)
    removed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rejected: Mapped[int | None] = mapped_column(Integer, nullable=True)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # the last progress event a processing run reported (Heartbeat.note); migration 0017
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


@dataclass(frozen=True)
class RunView:
    """A run as every face shows it. ``number`` counts the export's runs (1, 2, 3 …);
    ``id`` is the handle for `runs show` and `runs cancel`."""

    id: int
    number: int
    export_name: str
    status: str
    reason: str | None
    trigger: str
    actor: str | None
    full: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    claimed_by: str | None
    cancel_requested_at: datetime | None
    cancel_requested_by: str | None
    message: str | None
    members: int | None
    sent: int | None
    removed: int | None
    rejected: int | None
    summary: RunSummary | None
    # ``{"stage", "done", "total", "unit", "note", "at"}``: the last progress the run reported
    # (updated about once a second while it processes); None before any
    progress: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        """How users see the run: ``Run 3 of export 'news' (id 17)``."""
        return f"Run {self.number} of export {self.export_name!r} (id {self.id})"

    def to_dict(self) -> dict[str, Any]:
        """The view as JSON holds it: every field, times in ISO 8601 (UTC offset shown)."""
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, RunSummary):
                value = value.to_dict()
            data[name] = value
        return data


def run_view(export_name: str, run: Run, runs_dir: Path | None = None) -> RunView:
    """The run as shown; with ``runs_dir``, its summary names its files where they are
    now (the summary recorded them as the run saw them: relative to the folder the run
    was started from, and in the workspace's place then)."""
    summary = RunSummary.from_dict(run.summary) if run.summary else None
    if summary is not None and runs_dir is not None:
        from segport.exports.report import CHANGES_CSV, REJECTED_CSV

        folder = runs_dir / str(run.id)
        summary = replace(
            summary,
            rejected_csv=str(folder / REJECTED_CSV) if summary.rejected_csv else None,
            changes_csv=str(folder / CHANGES_CSV) if summary.changes_csv else None,
        )
    if summary is not None and summary.run_number is None:  # recorded before 0006
        summary = replace(summary, run_number=run.number)
    return RunView(
        id=run.id,
        number=run.number,
        export_name=export_name,
        status=run.status,
        reason=run.reason,
        trigger=run.trigger,
        actor=run.actor,
        full=run.full,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        heartbeat_at=run.heartbeat_at,
        claimed_by=run.claimed_by,
        cancel_requested_at=run.cancel_requested_at,
        cancel_requested_by=run.cancel_requested_by,
        message=run.message,
        members=run.members,
        sent=run.sent,
        removed=run.removed,
        rejected=run.rejected,
        summary=summary,
        progress=run.progress,
    )


def find_run(session: Session, run_id: int) -> tuple[Run, str]:
    """The run ``run_id`` and its export's name; :class:`RunNotFound` when there is none."""
    found = session.execute(
        select(Run, Export.name).join(Export, Export.id == Run.export_id).where(Run.id == run_id)
    ).one_or_none()
    if found is None:
        raise RunNotFound(f"no run {run_id} in this workspace", field="run_id")
    return found[0], str(found[1])

"""Runs of exports: the service every face calls to run an export and to list its runs.

It checks the actor may run the export, records the run (``queued`` → ``processing`` →
a final status), opens the export's state (whose file lock keeps two runs of one export
apart), resumes a run that a crash left ``processing``, and hands the work to the engine
(:mod:`segport.exports`). The summary of each run is kept with the record.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from segport.exports.engine import RunOptions, execute_run
from segport.exports.errors import RunTerminated
from segport.exports.progress import ProgressCallback, no_progress
from segport.exports.stop import stop_requested
from segport.exports.summary import CANCELED, FAILED, SKIPPED, RunSummary
from segport.metadata import Base
from segport.secret import redact, redact_data
from segport.service import models as _workspace_models  # noqa: F401  (exports table for the FK)
from segport.service.access import Action, Actor, authorize
from segport.service.export_configs import (
    ExportNotFound,
    ExportNotRunnable,
    get_run_spec,
    record_last_run,
)
from segport.service.export_state import open_checked, record_token
from segport.service.member_queries import QueryCache, query_key
from segport.service.models import Export, UTCDateTime, utcnow
from segport.service.workspace import Workspace, WorkspaceError

RUNS_DIR = "runs"
STATUSES = ("not_started", "queued", "processing", "successful", "failed", "skipped", "canceled")
UNFINISHED = ("queued", "processing")


class Run(Base):
    """One run of an export (migration 0004)."""

    __tablename__ = "runs"
    # An export's runs, newest first (migration 0004).
    __table_args__ = (Index("ix_runs_export_id_id", "export_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("exports.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_mass_removal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    members: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sent: Mapped[int | None] = mapped_column(Integer, nullable=True)
    removed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rejected: Mapped[int | None] = mapped_column(Integer, nullable=True)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


@dataclass(frozen=True)
class RunView:
    id: int
    export_name: str
    status: str
    trigger: str
    actor: str | None
    full: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    message: str | None
    members: int | None
    sent: int | None
    removed: int | None
    rejected: int | None
    summary: RunSummary | None


class SegmentMembers:
    """The export's segments as a member source for the engine.

    The profile store is opened per call and closed right after: its database keeps the
    blocks it read cached while open, memory the rest of the run needs more.
    """

    def __init__(self, ws: Workspace, segments: Sequence[str]) -> None:
        self._ws = ws
        self._segments = list(segments)
        with self._store() as store:
            self._id_column = str(store.id_column)
            self._dialect = str(store.dialect)

    @contextmanager
    def _store(self) -> Iterator[Any]:
        from segport.profiles import open_profile_store

        store = open_profile_store(self._ws.engine, self._ws.path)
        try:
            yield store
        finally:
            store.close()

    @property
    def id_column(self) -> str:
        return self._id_column

    def count(self) -> int:
        from segport.segments import count_members

        with self._store() as store, self._ws.session() as session:
            if self._dialect != "duckdb":
                return count_members(session, store, self._segments)

            def render() -> str:
                from sqlglot import exp

                from segport.segments.evaluation import members_predicate

                where = members_predicate(session, store, self._segments)
                query = exp.select(exp.Count(this=exp.Star())).from_(store.table_expr())
                return str(store.render(query.where(where)))

            key = query_key(session, store, self._segments, {"kind": "count"})
            sql = QueryCache(self._ws.path).get_or_render(key, render)
            rows = store.con.execute(sql).fetchall()
            return int(rows[0][0] or 0) if rows else 0

    def batches(self, columns: Sequence[str], batch_size: int) -> Iterator[pa.RecordBatch]:
        from segport.segments import stream_members

        with self._store() as store, self._ws.session() as session:
            yield from stream_members(session, store, self._segments, columns, batch_size)

    def duckdb_members(self, columns: Sequence[str], catalog: str) -> tuple[Path, str] | None:
        """The profile file and the members query with its table in ``catalog``, for the
        export state to attach and read (exports.members); None unless the profiles are in
        the workspace's DuckDB file."""
        if self._dialect != "duckdb":
            return None
        with self._store() as store, self._ws.session() as session:

            def render() -> str:
                from segport.segments.evaluation import members_predicate, members_query

                where = members_predicate(session, store, self._segments)
                query = members_query(store, where, columns)
                return str(store.render(_in_catalog(query, store.table_expr().name, catalog)))

            shape = {"kind": "members", "columns": list(columns), "catalog": catalog}
            key = query_key(session, store, self._segments, shape)
            return Path(store.path), QueryCache(self._ws.path).get_or_render(key, render)


def _in_catalog(query: Any, table: str, catalog: str) -> Any:
    """``query`` (a sqlglot tree) with every reference to ``table`` qualified by
    ``catalog`` (and schema ``main`` where it has none)."""
    from sqlglot import exp

    def qualify(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.name == table:
            qualified = node.copy()
            qualified.set("catalog", exp.to_identifier(catalog, quoted=True))
            if not qualified.args.get("db"):
                qualified.set("db", exp.to_identifier("main", quoted=True))
            return qualified
        return node

    return query.transform(qualify)


def run_export(
    ws: Workspace,
    actor: Actor,
    export_name: str,
    *,
    full: bool = False,
    dry_run: bool = False,
    allow_mass_removal: bool = False,
    progress: ProgressCallback | None = None,
    trigger: str = "manual",
    options: RunOptions | None = None,
) -> RunSummary:
    """Run an export now (or, with ``dry_run``, say what a run would do, sending nothing).

    Raises PermissionDenied / ExportNotFound for the caller to show; StateBusy when another
    run of this export holds its state. Every other outcome is a recorded run whose
    summary says what happened.
    """
    actor = authorize(ws, actor, Action.EXPORTS_RUN)
    opts = RunOptions(
        **{
            **(options.__dict__ if options else {}),
            "full": full,
            "dry_run": dry_run,
            "allow_mass_removal": allow_mass_removal,
        }
    )
    try:
        spec = get_run_spec(ws, actor, export_name)
    except ExportNotRunnable as exc:
        status = SKIPPED if exc.skipped else FAILED
        summary = RunSummary(export_name=export_name, status=status, message=exc.reason)
        summary.dry_run = dry_run
        if not dry_run:
            with ws.session() as session:
                export_id = _export_id(session, export_name)
                run = _new_run(session, export_id, actor.name, trigger, opts)
                session.flush()
                summary.run_id = run.id
                _finish(session, run, summary)
        return summary
    target = spec.target
    with ws.session() as session:
        had_success = _had_success(session, target.export_id)
    with open_checked(ws, export_name, target.export_id, had_success=had_success) as state:
        run_id: int | None = None
        if not dry_run:
            with ws.session() as session:
                run = _unfinished(session, target.export_id) or _new_run(
                    session, target.export_id, actor.name, trigger, opts
                )
                run.status = "processing"
                run.started_at = run.started_at or utcnow()
                session.flush()
                run_id = run.id
        conn = spec.credentials

        def client() -> Any:
            from segport.brevo import BrevoClient

            return BrevoClient(
                conn.api_key,
                conn.base_url,
                requests_per_second=conn.requests_per_second,
            )

        try:
            source = SegmentMembers(ws, spec.config.segments)
            summary = execute_run(
                state,
                source,
                client,
                target,
                run_id=run_id,
                runs_dir=ws.path / RUNS_DIR,
                options=opts,
                progress=progress or no_progress,
            )
        except KeyboardInterrupt as exc:
            name = exc.signal_name if isinstance(exc, RunTerminated) else "SIGINT"
            _record_end(ws, run_id, export_name, CANCELED, _canceled(name))
            raise
        except Exception as exc:
            stopped = stop_requested()  # (a library turned the signal into its own error)
            if stopped is not None:
                _record_end(ws, run_id, export_name, CANCELED, _canceled(stopped))
                raise RunTerminated(stopped) from exc
            _record_end(ws, run_id, export_name, FAILED, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            if run_id is not None:  # a real run may have changed the state
                record_token(ws, state, target.export_id)
    stopped = stop_requested()
    if stopped is not None and summary.status == FAILED:  # failed because it was stopped
        _record_end(ws, run_id, export_name, CANCELED, _canceled(stopped))
        raise RunTerminated(stopped)
    if run_id is not None:
        with ws.session() as session:
            run_row = session.get(Run, run_id)
            assert run_row is not None
            _finish(session, run_row, summary)
    return summary


def list_runs(ws: Workspace, actor: Actor, export_name: str, limit: int = 20) -> list[RunView]:
    """The export's latest runs, newest first."""
    authorize(ws, actor, Action.EXPORTS_READ)
    if not 1 <= limit <= 2**63 - 1:  # a 64-bit integer in SQL
        raise WorkspaceError(
            f"the limit must be 1 or more, and below 2**63 (got {limit})",
            code="limit_invalid",
            field="limit",
        )
    with ws.session() as session:
        export_id = _export_id(session, export_name)
        rows = session.scalars(
            select(Run).where(Run.export_id == export_id).order_by(Run.id.desc()).limit(limit)
        ).all()
        return [_view(export_name, r, ws.path / RUNS_DIR) for r in rows]


def get_run(ws: Workspace, actor: Actor, export_name: str, run_id: int) -> RunView:
    authorize(ws, actor, Action.EXPORTS_READ)
    with ws.session() as session:
        export_id = _export_id(session, export_name)
        run = session.get(Run, run_id)
        if run is None or run.export_id != export_id:
            raise ExportNotFound(f"export {export_name!r} has no run {run_id}")
        return _view(export_name, run, ws.path / RUNS_DIR)


# -- helpers ---------------------------------------------------------------------------


def _export_id(session: Session, name: str) -> int:
    export_id = session.scalars(select(Export.id).where(Export.name == name)).one_or_none()
    if export_id is None:
        raise ExportNotFound(f"no export named {name!r}")
    return int(export_id)


def _new_run(session: Session, export_id: int, actor: str, trigger: str, opts: RunOptions) -> Run:
    run = Run(
        export_id=export_id,
        status="queued",
        trigger=trigger,
        actor=actor,
        full=opts.full,
        allow_mass_removal=opts.allow_mass_removal,
        created_at=utcnow(),
    )
    session.add(run)
    return run


def _canceled(signal_name: str) -> str:
    how = "stopped by SIGTERM" if signal_name == "SIGTERM" else "interrupted"
    return f"canceled ({how}); run again to resume"


def _had_success(session: Session, export_id: int) -> bool:
    return (
        session.scalars(
            select(Run.id).where(Run.export_id == export_id, Run.status == "successful").limit(1)
        ).first()
        is not None
    )


def _unfinished(session: Session, export_id: int) -> Run | None:
    """The run a crash left unfinished (the state lock proves it is not running)."""
    return session.scalars(
        select(Run)
        .where(Run.export_id == export_id, Run.status.in_(UNFINISHED))
        .order_by(Run.id.desc())
        .limit(1)
    ).one_or_none()


def _finish(session: Session, run: Run, summary: RunSummary) -> None:
    now = utcnow()
    run.status = summary.status
    # Messages can quote what a server answered; keep no API key in the run history.
    summary.message = run.message = redact(summary.message) if summary.message else None
    run.finished_at = now
    run.members = summary.members
    run.sent = summary.sent
    run.removed = summary.removed
    run.rejected = summary.rejected_total
    run.summary = redact_data(summary.to_dict())
    # Earlier runs whose change record this run completed (chunks they left unconfirmed).
    for old_id, counts in summary.earlier_run_changes.items():
        older = session.get(Run, int(old_id))
        if older is not None and older.export_id == run.export_id and older.summary:
            older.summary = {**older.summary, "changes": counts}
    # Older runs a crash left unfinished were continued by this one.
    for older in session.scalars(
        select(Run).where(
            Run.export_id == run.export_id, Run.id < run.id, Run.status.in_(UNFINISHED)
        )
    ):
        older.status = FAILED
        older.message = f"interrupted; continued by run {run.id}"
        older.finished_at = now
    record_last_run(session, run.export_id, summary.status, now)


def _record_end(
    ws: Workspace, run_id: int | None, export_name: str, status: str, message: str
) -> None:
    if run_id is None:
        return
    with ws.session() as session:
        run = session.get(Run, run_id)
        if run is not None:
            summary = RunSummary.from_dict(run.summary or {"export_name": export_name})
            summary.status, summary.message, summary.run_id = status, message, run_id
            _finish(session, run, summary)


def _view(export_name: str, run: Run, runs_dir: Path | None = None) -> RunView:
    """The run as shown; with ``runs_dir``, its summary names its files where they are
    now (the summary recorded them as the run saw them: relative to the folder the run
    was started from, and in the workspace's place then)."""
    summary = RunSummary.from_dict(run.summary) if run.summary else None
    if summary is not None and runs_dir is not None:
        from dataclasses import replace

        from segport.exports.report import CHANGES_CSV, REJECTED_CSV

        folder = runs_dir / str(run.id)
        summary = replace(
            summary,
            rejected_csv=str(folder / REJECTED_CSV) if summary.rejected_csv else None,
            changes_csv=str(folder / CHANGES_CSV) if summary.changes_csv else None,
        )
    return RunView(
        id=run.id,
        export_name=export_name,
        status=run.status,
        trigger=run.trigger,
        actor=run.actor,
        full=run.full,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        message=run.message,
        members=run.members,
        sent=run.sent,
        removed=run.removed,
        rejected=run.rejected,
        summary=summary,
    )

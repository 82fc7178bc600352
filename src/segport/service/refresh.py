"""The system refresh: re-evaluate the active segments, then request a run of every export
on the system schedule.

Order: every active segment by name (its member count and evaluation time are recorded
on the segment), then every export whose schedule is ``system``, by name. An export that
cannot run is recorded as a ``skipped`` run with its reason, checked in this order:

- ``no_connection``: it is detached from its connection;
- ``connection_unusable``: its connection's export user was removed or is no longer an
  admin (runs on a connection act as its export user);
- ``segment_inactive``: one of its segments is inactive (or was deleted);
- ``segment_failed``: one of its segments failed to evaluate in this refresh;
- ``over_profile_limit``: its segments have more members than its profile limit.

Every other export gets a ``queued`` run (trigger ``schedule``) for a worker to execute;
one with a run already queued or processing is left to it (``busy``). The refresh is one
audit entry (``refresh.run``). :func:`fire_due_refresh` runs it when the system schedule
has a firing due, once however many were missed (docs/schedules.md), and marks the firing
fired *before* refreshing with a compare-and-set on ``last_fired_at``: two workers never
both fire it, and a worker dying mid-refresh loses that firing rather than doubling it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from segport.exports.summary import SKIPPED, RunSummary
from segport.scheduler.times import due
from segport.segments.models import ACTIVE, Segment
from segport.service import audit
from segport.service.access import Action, Actor, authorize
from segport.service.connection_use import export_user_problem
from segport.service.models import Export
from segport.service.run_endings import finish_run
from segport.service.run_lifecycle import RunInProgress, insert_run, recover_runs, view_of
from segport.service.run_model import (
    CONNECTION_UNUSABLE,
    NO_CONNECTION,
    OVER_PROFILE_LIMIT,
    SEGMENT_FAILED,
    SEGMENT_INACTIVE,
    Run,
    RunView,
)
from segport.service.schedule_model import ROW_ID, SystemSchedule
from segport.service.system_schedule import stored_schedule
from segport.service.workspace import Workspace

__all__ = [
    "RefreshView",
    "RefreshedExport",
    "SegmentCount",
    "fire_due_refresh",
    "run_refresh",
]

SYSTEM = "system"
SCHEDULE_TRIGGER = "schedule"


@dataclass(frozen=True)
class SegmentCount:
    """One active segment as the refresh evaluated it: its count, or why it failed."""

    name: str
    member_count: int | None
    error: str | None = None


@dataclass(frozen=True)
class RefreshedExport:
    """One export on the system schedule: the run the refresh recorded (``queued`` or
    ``skipped``), or ``busy``: the message naming the run already going on."""

    export_name: str
    run: RunView | None
    busy: str | None = None


@dataclass(frozen=True)
class RefreshView:
    """What one refresh did. ``fired_for``: the scheduled firing it acted on (None when
    started by hand)."""

    started_at: datetime
    fired_for: datetime | None
    segments: list[SegmentCount] = field(default_factory=list)
    exports: list[RefreshedExport] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "fired_for": self.fired_for.isoformat() if self.fired_for else None,
            "segments": [s.__dict__ for s in self.segments],
            "exports": [
                {
                    "export_name": e.export_name,
                    "run": e.run.to_dict() if e.run else None,
                    "busy": e.busy,
                }
                for e in self.exports
            ],
        }


def run_refresh(
    ws: Workspace,
    actor: Actor,
    *,
    now: datetime | None = None,
    fired_for: datetime | None = None,
) -> RefreshView:
    """Run the system refresh now (see the module's docstring); audited."""
    actor = authorize(ws, actor, Action.EXPORTS_RUN)
    now = now or datetime.now(UTC)
    recover_runs(ws, actor)
    with ws.session() as session:
        names = list(session.scalars(select(Export.name).where(Export.schedule == SYSTEM)))
    with _Store(ws) as store:
        counts = _evaluate_segments(ws, store)
        outcomes = [_refresh_export(ws, actor, store, name, counts) for name in sorted(names)]
    view = RefreshView(now, fired_for, list(counts.values()), outcomes)
    with ws.session() as session:
        audit.record(session, actor, "refresh.run", SYSTEM, _audit_details(view))
    return view


def fire_due_refresh(ws: Workspace, actor: Actor, now: datetime) -> RefreshView | None:
    """Refresh when the system schedule has a firing due at ``now``; None otherwise (off,
    never set, nothing due, or another worker fired it first)."""
    authorize(ws, actor, Action.EXPORTS_RUN)
    with ws.session() as session:
        row = session.get(SystemSchedule, ROW_ID)
        if row is None or not row.enabled:
            return None
        schedule = stored_schedule(row)
        last, changed = row.last_fired_at, row.updated_at
    since = changed if last is None else max(last, changed)
    firing = due(schedule, since, now)
    if firing is None:
        return None
    same_last = (
        SystemSchedule.last_fired_at.is_(None)
        if last is None
        else SystemSchedule.last_fired_at == last
    )
    with ws.engine.begin() as conn:
        claimed = conn.execute(
            update(SystemSchedule)
            .where(SystemSchedule.id == ROW_ID, same_last, SystemSchedule.updated_at == changed)
            .values(last_fired_at=firing.at)
        )
    if claimed.rowcount != 1:
        return None
    return run_refresh(ws, actor, now=now, fired_for=firing.at)


# -- the steps ----------------------------------------------------------------------------


class _Store:
    """The profile store, reopened after a failed query (a PostgreSQL connection is
    unusable after an error until rolled back)."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws
        self.store: Any = None

    def __enter__(self) -> _Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self) -> Any:
        if self.store is None:
            from segport.profiles import open_profile_store

            self.store = open_profile_store(self._ws.engine, self._ws.path)
        return self.store

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def count(self, session: Session, segments: list[str]) -> int:
        from segport.segments.evaluation import count_members

        try:
            return count_members(session, self.get(), segments)
        except Exception:
            self.close()
            raise


def _evaluate_segments(ws: Workspace, store: _Store) -> dict[str, SegmentCount]:
    """Every active segment's member count, recorded on the segment, by name; a segment
    that fails keeps its last count and says why here."""
    counts: dict[str, SegmentCount] = {}
    with ws.session() as session:
        active = session.scalars(
            select(Segment).where(Segment.state == ACTIVE).order_by(Segment.name)
        ).all()
        for seg in active:
            try:
                n = store.count(session, [seg.name])
            except Exception as exc:  # any failure is this segment's, reported, not raised
                counts[seg.name] = SegmentCount(seg.name, None, f"{type(exc).__name__}: {exc}")
                continue
            seg.member_count, seg.evaluated_at = n, datetime.now(UTC)
            counts[seg.name] = SegmentCount(seg.name, n)
    return counts


def _refresh_export(
    ws: Workspace, actor: Actor, store: _Store, name: str, counts: dict[str, SegmentCount]
) -> RefreshedExport:
    with ws.session() as session:
        export = session.scalars(select(Export).where(Export.name == name)).one()
        export_id = export.id
        skip = _why_not(session, store, export, counts)
    if skip is not None:
        return RefreshedExport(name, _record_skipped(ws, actor, export_id, name, skip))
    try:
        run_id = insert_run(
            ws, export_id, name, status="queued", actor=actor.name, trigger=SCHEDULE_TRIGGER
        )
    except RunInProgress as exc:
        return RefreshedExport(name, None, busy=str(exc))
    return RefreshedExport(name, view_of(ws, run_id))


def _why_not(
    session: Session, store: _Store, export: Export, counts: dict[str, SegmentCount]
) -> tuple[str, str, int | None] | None:
    """(reason, message, members counted) when the export is skipped; None when it runs."""
    name = export.name
    if export.connection is None:
        return NO_CONNECTION, f"export {name!r} is detached: give it a connection", None
    problem = export_user_problem(export.connection)
    if problem is not None:
        conn = export.connection.name
        return (
            CONNECTION_UNUSABLE,
            f"connection {conn!r} cannot be used: {problem}; an admin must take it over",
            None,
        )
    for seg in export.segment_names:
        if seg not in counts:  # every active segment was counted (or failed)
            return SEGMENT_INACTIVE, f"segment {seg!r} is inactive or was deleted", None
    for seg in export.segment_names:
        failed = counts.get(seg)
        if failed is not None and failed.error is not None:
            return SEGMENT_FAILED, f"segment {seg!r} failed to evaluate: {failed.error}", None
    segments = export.segment_names
    known = counts[segments[0]].member_count if len(segments) == 1 else None
    try:
        # One segment was just counted; only a union of several needs counting again.
        members = known if known is not None else store.count(session, segments)
    except Exception as exc:
        message = f"the segments failed to evaluate: {type(exc).__name__}: {exc}"
        return SEGMENT_FAILED, message, None
    if members > export.profile_limit:
        return (
            OVER_PROFILE_LIMIT,
            f"the segments have {members:,} members, over the export's profile limit of "
            f"{export.profile_limit:,}; nothing was sent. Narrow the segments or raise the "
            "export's profile limit",
            members,
        )
    return None


def _record_skipped(
    ws: Workspace, actor: Actor, export_id: int, name: str, skip: tuple[str, str, int | None]
) -> RunView:
    reason, message, members = skip
    run_id = insert_run(
        ws, export_id, name, status=SKIPPED, actor=actor.name, trigger=SCHEDULE_TRIGGER
    )
    summary = RunSummary(export_name=name, status=SKIPPED, message=message, reason=reason)
    summary.members = members or 0
    with ws.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        finish_run(session, run, summary)
        if members is None:
            run.members = None  # not counted: say nothing rather than 0
    return view_of(ws, run_id)


def _audit_details(view: RefreshView) -> dict[str, Any]:
    return {
        "fired_for": view.fired_for.isoformat() if view.fired_for else None,
        "segments": {
            s.name: s.member_count if s.error is None else f"failed: {s.error}"
            for s in view.segments
        },
        "exports": {
            e.export_name: (e.run.status if e.run else "busy")
            + (f" ({e.run.reason})" if e.run and e.run.status == SKIPPED else "")
            for e in view.exports
        },
    }

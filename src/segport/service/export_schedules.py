"""Exports' own schedules: set, shown as the next firing, and fired by the worker.

An export runs with the system refresh (``system``, the default), only on demand
(``manual``), or on a cron schedule of its own (``cron``: a five-field expression read in
an IANA time zone). :func:`schedule_export` sets it (whoever may edit the export; audited
as ``exports.schedule``); ``exports show`` and ``exports list`` show the next firing
(:mod:`segport.service.export_firings`); :func:`due_export_schedules` and
:func:`record_export_firing` are the worker's. Times are computed by
:mod:`segport.scheduler.times` (docs/schedules.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from segport.errors import Invalid
from segport.scheduler.times import CronSchedule, due, next_firings
from segport.service import audit
from segport.service.access import Action, Actor, authorize
from segport.service.export_checks import check_schedule
from segport.service.export_configs import _managed, show_export
from segport.service.export_records import ExportView
from segport.service.models import Export
from segport.service.workspace import Workspace

__all__ = [
    "ScheduledExport",
    "due_export_schedules",
    "record_export_firing",
    "schedule_export",
]


# -- setting ---------------------------------------------------------------------------


def schedule_export(
    ws: Workspace,
    actor: Actor,
    name: str,
    schedule: str = "cron",
    *,
    cron: str | None = None,
    timezone: str | None = None,
    now: datetime | None = None,
) -> ExportView:
    """Set when the export ``name`` runs by itself: ``cron`` (``cron`` read in
    ``timezone``, both required), ``system`` (with the system refresh) or ``manual``
    (only on demand). Whoever may edit the export may; audited as ``exports.schedule``
    when it changes. Bad input is :class:`~segport.errors.Invalid` naming its field
    (``schedule``, ``cron``, ``timezone``). A new or changed schedule fires no time
    before ``now``. The answer is the export with its next firing."""
    actor = authorize(ws, actor, Action.EXPORTS_WRITE)
    schedule, cron, timezone = check_schedule(schedule, cron, timezone)
    now = now or datetime.now(UTC)
    with ws.session() as session:
        export = _managed(session, actor, name)
        before = (export.schedule, export.cron, export.timezone)
        if before != (schedule, cron, timezone):
            export.schedule, export.cron, export.timezone = schedule, cron, timezone
            export.schedule_updated_at = now
            export.updated_at = now
            audit.record(
                session,
                actor,
                "exports.schedule",
                name,
                {"schedule": schedule, "cron": cron, "timezone": timezone, "was": before[0]},
            )
    return show_export(ws, actor, name, now=now)


# -- firing (the worker) ---------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledExport:
    """An export on its own cron schedule, as the worker sees it at one instant.

    ``since`` is when counting starts: the later of the last firing acted on and the
    last time the schedule was set. ``due_at`` is the one firing to act on now (None:
    nothing is due), the latest scheduled instant not after now; ``earliest_due`` the
    first one missed since ``since`` (before ``due_at`` when several were missed and are
    caught up by this one). ``next_at`` is the first firing after now, to know when to
    look again. ``problem`` says why a stored schedule cannot fire (its zone left the tz
    database); the instants are None then.
    """

    export_id: int
    name: str
    expression: str
    zone: str
    since: datetime
    due_at: datetime | None
    earliest_due: datetime | None
    next_at: datetime | None
    problem: str | None = None

    @property
    def caught_up(self) -> bool:
        """Several firings were missed; this one stands for them all."""
        return self.due_at is not None and self.earliest_due != self.due_at


def due_export_schedules(ws: Workspace, now: datetime) -> list[ScheduledExport]:
    """Every export on its own cron schedule, by name, with whether it is due at ``now``.

    The contract with the worker:

    - An export is due when a firing of its schedule lies in ``(since, now]``, ``since``
      being ``max(schedule_fired_at, schedule_updated_at)``. However many firings were
      missed (the worker was down), one comes back, the latest (``due_at``), so the
      export is requested once.
    - A schedule set or changed at T never fires a time at or before T.
    - To fire, the worker calls :func:`record_export_firing` with ``due_at`` in the
      transaction that requests the run, and requests it only when that answers True:
      of several workers acting on the same answer, exactly one does.
    - Exports on the system schedule are not here: the system refresh requests them.
      Detached exports and others that cannot run are here; their runs are skipped with
      the reason, as for any run.

    Nothing is authorised: the worker acts for the workspace. ``now`` must be aware.
    """
    if now.tzinfo is None:
        raise ValueError(f"now must be an aware datetime (got {now.isoformat()})")
    with ws.session() as session:
        rows = session.execute(
            select(
                Export.id,
                Export.name,
                Export.cron,
                Export.timezone,
                Export.schedule_fired_at,
                Export.schedule_updated_at,
                Export.updated_at,
            )
            .where(Export.schedule == "cron")
            .order_by(Export.name)
        ).all()
    found = []
    for export_id, name, cron, zone, fired, updated, changed in rows:
        since = max(t for t in (fired, updated or changed) if t is not None)
        try:
            schedule = CronSchedule(cron or "", zone or "")
        except Invalid as exc:
            problem = str(exc)
            found.append(
                ScheduledExport(
                    export_id, name, cron or "", zone or "", since, None, None, None, problem
                )
            )
            continue
        upcoming = next_firings(schedule, now, 1)
        fire = due(schedule, since, now)
        found.append(
            ScheduledExport(
                export_id=export_id,
                name=name,
                expression=schedule.expression,
                zone=schedule.timezone,
                since=since,
                due_at=fire.at if fire else None,
                earliest_due=fire.earliest if fire else None,
                next_at=upcoming[0] if upcoming else None,
            )
        )
    return found


def record_export_firing(session: Session, export_id: int, at: datetime) -> bool:
    """Record that the export's own schedule fired for the instant ``at`` (a ``due_at``
    of :func:`due_export_schedules`), in the caller's transaction. True when this call
    recorded it; False when the firing is no longer due: another worker recorded it or a
    later one, the schedule changed at or after ``at``, or the export is no longer on a
    cron schedule (or gone). Request the run only on True."""
    result = session.execute(
        update(Export)
        .where(
            Export.id == export_id,
            Export.schedule == "cron",
            or_(Export.schedule_fired_at.is_(None), Export.schedule_fired_at < at),
            or_(Export.schedule_updated_at.is_(None), Export.schedule_updated_at < at),
        )
        .values(schedule_fired_at=at)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1

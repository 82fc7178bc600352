"""The system refresh's schedule: set (admins), shown (anyone who sees exports), turned off.

A workspace has one system schedule, off until an admin sets it: every day or on some
weekdays, at one to four times of day, in an IANA time zone. Setting and turning off are
audited (``schedule.set``, ``schedule.off``). Times are computed by
:mod:`segport.scheduler.times` (docs/schedules.md); running the refresh is the worker's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from sqlalchemy.orm import Session

from segport.errors import Invalid
from segport.scheduler.times import RefreshSchedule, local, next_firings
from segport.service import audit
from segport.service.access import Action, Actor, authorize
from segport.service.schedule_model import ROW_ID, SystemSchedule
from segport.service.workspace import Workspace

__all__ = [
    "FiringView",
    "SystemScheduleView",
    "set_system_schedule",
    "show_system_schedule",
    "turn_off_system_schedule",
]

SHOWN_FIRINGS = 5


@dataclass(frozen=True)
class FiringView:
    """One firing: on the schedule's clock (with its offset) and in UTC."""

    local: datetime
    utc: datetime


@dataclass(frozen=True)
class SystemScheduleView:
    """The system schedule. ``configured`` is False until it was first set; ``enabled``
    False when off (its days and times are kept, to say what it was)."""

    configured: bool
    enabled: bool
    daily: bool = False
    days: list[str] = field(default_factory=list)
    times: list[str] = field(default_factory=list)
    timezone: str | None = None
    description: str = "never set"
    next_firings: list[FiringView] = field(default_factory=list)
    updated_by: str | None = None
    updated_at: datetime | None = None
    last_fired_at: datetime | None = None


def stored_schedule(row: SystemSchedule) -> RefreshSchedule:
    """The schedule a row holds (checked again: a zone can leave the tz database)."""
    return RefreshSchedule(row.times.split(","), row.timezone, row.days.split(","))


def _view(row: SystemSchedule | None, now: datetime, count: int) -> SystemScheduleView:
    if row is None:
        return SystemScheduleView(configured=False, enabled=False)
    schedule = stored_schedule(row)
    firings = (
        [FiringView(local(schedule, at), at) for at in next_firings(schedule, now, count)]
        if row.enabled
        else []
    )
    return SystemScheduleView(
        configured=True,
        enabled=row.enabled,
        daily=schedule.daily,
        days=list(schedule.days),
        times=[t.strftime("%H:%M") for t in schedule.times],
        timezone=schedule.timezone,
        description=schedule.describe(),
        next_firings=firings,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        last_fired_at=row.last_fired_at,
    )


def _row(session: Session) -> SystemSchedule | None:
    return session.get(SystemSchedule, ROW_ID)


def set_system_schedule(
    ws: Workspace,
    actor: Actor,
    *,
    times: Iterable[str | time],
    timezone: str,
    days: str | Iterable[str] | None = None,
    now: datetime | None = None,
) -> SystemScheduleView:
    """Set (and turn on) the system refresh: at ``times`` (one to four ``HH:MM``) in
    ``timezone``, every day when ``days`` is None, else on those weekdays (``mon,thu``).
    Admins only; audited. Bad input is :class:`~segport.errors.Invalid` naming its field
    (``times``, ``timezone``, ``days``)."""
    actor = authorize(ws, actor, Action.SCHEDULE_MANAGE)
    schedule = (
        RefreshSchedule(times, timezone) if days is None else RefreshSchedule(times, timezone, days)
    )
    now = now or datetime.now(UTC)
    with ws.session() as session:
        row = _row(session)
        if row is None:
            row = SystemSchedule(id=ROW_ID)
            session.add(row)
        row.enabled = True
        row.days = ",".join(schedule.days)
        row.times = ",".join(t.strftime("%H:%M") for t in schedule.times)
        row.timezone = schedule.timezone
        row.updated_by = actor.name
        row.updated_at = now
        audit.record(
            session,
            actor,
            "schedule.set",
            "system",
            {"days": row.days, "times": row.times, "timezone": row.timezone},
        )
        session.flush()
        return _view(row, now, SHOWN_FIRINGS)


def show_system_schedule(
    ws: Workspace, actor: Actor, *, now: datetime | None = None, count: int = SHOWN_FIRINGS
) -> SystemScheduleView:
    """The system schedule and its next ``count`` firings after ``now`` (anyone who may
    see exports)."""
    if not 1 <= count <= 100:
        raise Invalid(f"show 1 to 100 firings (got {count})", code="count_invalid", field="count")
    authorize(ws, actor, Action.EXPORTS_READ)
    with ws.session() as session:
        return _view(_row(session), now or datetime.now(UTC), count)


def turn_off_system_schedule(
    ws: Workspace, actor: Actor, *, now: datetime | None = None
) -> SystemScheduleView:
    """Turn the system refresh off (its days and times are kept). Admins only; audited
    when it was on, a no-op when it was off already."""
    actor = authorize(ws, actor, Action.SCHEDULE_MANAGE)
    now = now or datetime.now(UTC)
    with ws.session() as session:
        row = _row(session)
        if row is not None and row.enabled:
            row.enabled = False
            row.updated_by = actor.name
            row.updated_at = now
            audit.record(session, actor, "schedule.off", "system", {})
            session.flush()
        return _view(row, now, SHOWN_FIRINGS)

"""When an export next runs by itself: the next firing ``exports show`` and ``exports
list`` show (its own cron schedule's, the system refresh's, or none when manual)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from segport.errors import Invalid
from segport.exports.config import ExportConfig
from segport.scheduler.times import CronSchedule, local, next_firings
from segport.service.export_records import NextFiring, config_of
from segport.service.models import Export
from segport.service.schedule_model import ROW_ID, SystemSchedule
from segport.service.system_schedule import stored_schedule

__all__ = ["NextFiring", "export_next_firing", "next_firing"]


def next_firing(
    config: ExportConfig,
    system: SystemSchedule | None,
    now: datetime,
    last_fired_at: datetime | None = None,
) -> NextFiring:
    """When the export ``config`` next runs by itself after ``now``; ``system`` is the
    system schedule's row (None: never set)."""
    if config.schedule == "cron" and config.cron and config.timezone:
        try:
            schedule = CronSchedule(config.cron, config.timezone)
        except Invalid as exc:  # a zone can leave the tz database after it was saved
            return NextFiring("cron", f"cannot fire: {exc}", last_fired_at=last_fired_at)
        at = next_firings(schedule, now, 1)
        return NextFiring(
            "cron",
            f"{schedule.expression} in {schedule.timezone}",
            at=at[0] if at else None,
            local=local(schedule, at[0]) if at else None,
            zone=schedule.timezone,
            last_fired_at=last_fired_at,
        )
    if config.schedule == "system":
        if system is None or not system.enabled:
            return NextFiring("system", "with the system refresh, which is off")
        refresh = stored_schedule(system)
        at = next_firings(refresh, now, 1)
        return NextFiring(
            "system",
            f"with the system refresh ({refresh.describe()})",
            at=at[0],
            local=local(refresh, at[0]),
            zone=refresh.timezone,
        )
    return NextFiring("manual", "manual: runs only on demand")


def export_next_firing(session: Session, e: Export, now: datetime | None = None) -> NextFiring:
    """:func:`next_firing` of the export row ``e`` (the system schedule read in
    ``session``; once per session, as rows are kept by their key)."""
    return next_firing(
        config_of(e), session.get(SystemSchedule, ROW_ID), now or datetime.now(UTC),
        e.schedule_fired_at,
    )  # fmt: skip

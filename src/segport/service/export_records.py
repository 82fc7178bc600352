"""An export's stored row and the records built around its :class:`ExportConfig`.

The ORM row (:class:`segport.service.models.Export`) is the storage; :func:`config_of` and
:func:`store_config` are the one pair of functions between it and the configuration.
:class:`ExportView` (what faces show) and :class:`RunSpec` (what a run is given) hold the
configuration rather than copying its fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from segport.exports.config import DEFAULT_PHONE_REGION, ExportConfig, ExportMapping
from segport.service.models import Connection, Export, ExportSegment, utcnow

if TYPE_CHECKING:
    from segport.exports.target import ExportTarget
    from segport.service.connection_use import ConnectionCredentials

__all__ = [
    "NO_CONNECTION",
    "ExportConfig",
    "ExportMapping",
    "ExportView",
    "NextFiring",
    "RunSpec",
    "config_of",
    "store_config",
]

NO_CONNECTION = "No connection"


@dataclass(frozen=True)
class NextFiring:
    """When an export next runs by itself (``service.export_schedules`` computes it).

    ``kind`` is the export's schedule: ``cron`` (its own), ``system`` (with the system
    refresh) or ``manual``. ``at`` is the next firing as a UTC instant, ``local`` the same
    instant on the schedule's clock (``zone``); both None when it does not run by itself
    (manual, or the system refresh is off). ``description`` says it in words.
    """

    kind: str
    description: str
    at: datetime | None = None
    local: datetime | None = None
    zone: str | None = None
    # The scheduled instant a worker last fired the export's own schedule for.
    last_fired_at: datetime | None = None


@dataclass(frozen=True)
class ExportView:
    """An export as faces show it: its configuration, and what the workspace records."""

    config: ExportConfig
    connection_type: str | None
    last_status: str | None
    last_run_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    permissions: list[str] = field(default_factory=list)  # what the actor may do with it
    list_peers: list[str] = field(default_factory=list)  # other exports on the same list
    # What the next run does differently because the target or mapping changed.
    next_run_note: str | None = None
    # When it next runs by itself (None only for a view made without it).
    next_firing: NextFiring | None = None

    @property
    def connection_label(self) -> str:
        return self.config.connection or NO_CONNECTION

    @property
    def default_phone_region(self) -> str | None:
        """The region used when none is set and a phone is mapped (None otherwise)."""
        if self.config.phone_region or not self.config.mapping.phone:
            return None
        return DEFAULT_PHONE_REGION


@dataclass(frozen=True)
class RunSpec:
    """What a run is given: the engine's target (configuration, export id, where the list
    lives) and the connection's decrypted credentials, which only the run's client sees."""

    target: ExportTarget
    credentials: ConnectionCredentials

    @property
    def config(self) -> ExportConfig:
        return self.target.config

    @property
    def export_id(self) -> int:
        return self.target.export_id


def config_of(e: Export) -> ExportConfig:
    """The configuration an export's row holds."""
    return ExportConfig(
        name=e.name,
        connection=e.connection.name if e.connection else None,
        list_id=e.list_id,
        segments=tuple(e.segment_names),
        mapping=ExportMapping(
            email=e.email_column,
            first_name=e.first_name_column,
            last_name=e.last_name_column,
            phone=e.phone_column,
            attributes=dict(e.attributes),
            first_name_attribute=e.first_name_attribute,
            last_name_attribute=e.last_name_attribute,
        ),
        mode=e.mode,
        phone_region=e.phone_region,
        phone_country_column=e.phone_country_column,
        profile_limit=e.profile_limit,
        schedule=e.schedule,
        cron=e.cron,
        timezone=e.timezone,
        empty_values=e.empty_values or "clear",
        share_list=bool(e.share_list),
    )


def store_config(
    session: Session, e: Export, config: ExportConfig, conn: Connection | None
) -> None:
    """Write ``config`` into the row ``e``; ``conn`` is the row of ``config.connection``."""
    m = config.mapping
    e.name = config.name
    e.connection = conn
    e.list_id = config.list_id
    e.email_column = m.email
    e.first_name_column = m.first_name
    e.last_name_column = m.last_name
    e.phone_column = m.phone
    e.first_name_attribute = m.first_name_attribute
    e.last_name_attribute = m.last_name_attribute
    e.attributes = dict(m.attributes)
    e.mode = config.mode
    e.phone_region = config.phone_region
    e.phone_country_column = config.phone_country_column
    e.profile_limit = config.profile_limit
    schedule = (config.schedule, config.cron, config.timezone)
    if e.schedule_updated_at is None or (e.schedule, e.cron, e.timezone) != schedule:
        # A worker fires no time before this (service.export_schedules).
        e.schedule_updated_at = utcnow()
    e.schedule, e.cron, e.timezone = schedule
    e.empty_values = config.empty_values
    e.share_list = config.share_list
    e.updated_at = utcnow()
    if tuple(e.segment_names) != config.segments:
        e.segments.clear()
        session.flush()  # the old rows go before new ones with the same names arrive
        e.segments.extend(
            ExportSegment(segment_name=s, position=i) for i, s in enumerate(config.segments)
        )

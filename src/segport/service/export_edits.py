"""Changes to an export's configuration, as explicit fields.

An :class:`ExportEdit` names what changes: a field left ``None`` is unchanged, and a value
that may be absent (a column, a region) is emptied with :data:`CLEAR`. Attribute mappings
change one at a time (``add_attributes``, ``remove_attributes``), so a face never reads the
export to change one; :func:`apply_edit` gives the configuration the edit makes of another.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields, replace
from typing import Final, TypeVar

from segport.exports.config import ExportConfig
from segport.service.export_checks import ExportInvalid

__all__ = ["CLEAR", "Clear", "ExportEdit", "apply_edit"]


class Clear(enum.Enum):
    """The type of :data:`CLEAR`."""

    CLEAR = "clear"

    def __repr__(self) -> str:
        return "CLEAR"


CLEAR: Final = Clear.CLEAR
"""Given for a field of an :class:`ExportEdit` that may be absent: empty it."""


@dataclass(frozen=True)
class ExportEdit:
    """What an edit changes; ``None``: unchanged, :data:`CLEAR`: emptied."""

    name: str | None = None  # a new name
    connection: str | None = None  # another connection (by name)
    list_id: int | None = None
    segments: tuple[str, ...] | None = None  # replaces the segments
    email: str | None = None
    first_name: str | Clear | None = None
    last_name: str | Clear | None = None
    phone: str | Clear | None = None
    # Brevo attribute -> profile column: maps the attribute (or maps it to another column).
    add_attributes: dict[str, str] = field(default_factory=dict)
    # Mapped attributes to drop (before ``add_attributes`` apply); each must be mapped.
    remove_attributes: tuple[str, ...] = ()
    mode: str | None = None
    phone_region: str | Clear | None = None
    phone_country_column: str | Clear | None = None
    profile_limit: int | None = None
    schedule: str | None = None
    # An own schedule: a cron expression makes the schedule ``cron`` (unless ``schedule``
    # names another, which the checks refuse); another schedule drops the expression and
    # zone. ``timezone`` alone changes the zone of a cron schedule.
    cron: str | None = None
    timezone: str | None = None
    empty_values: str | None = None
    share_list: bool | None = None

    def is_empty(self) -> bool:
        """True when the edit changes nothing."""
        for f in fields(self):
            value = getattr(self, f.name)
            if value if f.name in _LISTS else value is not None:
                return False
        return True


_LISTS = ("add_attributes", "remove_attributes")  # empty: unchanged


T = TypeVar("T")


def _kept(value: T | None, current: T) -> T:
    return current if value is None else value


def _value(edit: str | Clear | None, current: str | None) -> str | None:
    if edit is None:
        return current
    return None if edit is CLEAR else edit


def _find(attributes: dict[str, str], name: str) -> str | None:
    """The mapped attribute called ``name`` (Brevo's names are case-insensitive)."""
    wanted = name.strip().upper()
    return next((a for a in attributes if a.upper() == wanted), None)


def _attributes(current: dict[str, str], edit: ExportEdit) -> dict[str, str]:
    attributes = dict(current)
    for name in edit.remove_attributes:
        found = _find(attributes, name)
        if found is None:
            raise ExportInvalid(
                f"the export maps no attribute {name.strip().upper()}; it maps "
                f"{', '.join(current) or 'none'}",
                field="remove_attribute",
            )
        del attributes[found]
    for name, column in edit.add_attributes.items():
        found = _find(attributes, name)
        attributes[found or name.strip().upper()] = column  # (in its place if mapped)
    return attributes


def _schedule(config: ExportConfig, edit: ExportEdit) -> tuple[str, str | None, str | None]:
    """The schedule, cron expression and zone ``edit`` makes of ``config``'s."""
    schedule = edit.schedule or ("cron" if edit.cron is not None else config.schedule)
    own = schedule.strip().lower() == "cron"
    # Kept only while the schedule stays cron; given ones are checked either way.
    cron = _kept(edit.cron, config.cron if own else None)
    return schedule, cron, _kept(edit.timezone, config.timezone if own else None)


def apply_edit(config: ExportConfig, edit: ExportEdit) -> ExportConfig:
    """``config`` changed as ``edit`` says (not yet checked: see ``export_checks``)."""
    m = config.mapping
    first_name = _value(edit.first_name, m.first_name)
    last_name = _value(edit.last_name, m.last_name)
    mapping = replace(
        m,
        email=_kept(edit.email, m.email),
        first_name=first_name,
        last_name=last_name,
        phone=_value(edit.phone, m.phone),
        attributes=_attributes(m.attributes, edit),
        # A name no longer mapped has no Brevo attribute (resolved again when checked).
        first_name_attribute=m.first_name_attribute if first_name else None,
        last_name_attribute=m.last_name_attribute if last_name else None,
    )

    schedule, cron, timezone = _schedule(config, edit)
    return replace(
        config,
        name=_kept(edit.name, config.name),
        connection=_kept(edit.connection, config.connection),
        list_id=_kept(edit.list_id, config.list_id),
        segments=_kept(edit.segments, config.segments),
        mapping=mapping,
        mode=_kept(edit.mode, config.mode),
        phone_region=_value(edit.phone_region, config.phone_region),
        phone_country_column=_value(edit.phone_country_column, config.phone_country_column),
        profile_limit=_kept(edit.profile_limit, config.profile_limit),
        schedule=schedule,
        cron=cron,
        timezone=timezone,
        empty_values=_kept(edit.empty_values, config.empty_values),
        share_list=_kept(edit.share_list, config.share_list),
    )

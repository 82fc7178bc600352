"""The checks an export's settings pass before they are saved.

Local checks (names, mode, region, limit, attribute syntax) need nothing; the others ask the
profile store (do the mapped columns exist?), the segments (do they exist?) and Brevo (does
the list exist, and the attributes, under the names this account uses?). Every failure
names the option to fix and what to do.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy.orm import Session

from segport.errors import Invalid
from segport.exports.config import (
    DEFAULT_PHONE_REGION,
    DEFAULT_PROFILE_LIMIT,
    EMPTY_VALUES,
    MODES,
    SCHEDULES,
    ExportConfig,
)
from segport.service.workspace import Workspace, WorkspaceError, has_control_characters

__all__ = [
    "DEFAULT_PHONE_REGION",
    "DEFAULT_PROFILE_LIMIT",
    "EMPTY_VALUES",
    "MODES",
    "SCHEDULES",
    "ExportInvalid",
    "check_columns",
    "check_local",
    "check_schedule",
    "check_segments",
    "parse_attributes",
]
# Attributes segport sets itself from the dedicated options.
RESERVED_ATTRIBUTES = {"EMAIL": "email", "SMS": "phone"}
_NAME = re.compile(r"^\S(.{0,98}\S)?$")
_ATTRIBUTE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")


class ExportInvalid(Invalid, WorkspaceError):
    """An export's settings do not pass the checks; the message says what to fix."""

    default_code = "export_invalid"


def parse_attributes(pairs: list[str]) -> dict[str, str]:
    """``ATTR=COL`` options into an ordered mapping (Brevo names are upper case)."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        attr, sep, column = pair.partition("=")
        attr, column = attr.strip().upper(), column.strip()
        if not sep or not attr or not column:
            raise ExportInvalid(
                f"the attribute mapping {pair!r} must look like ATTR=COLUMN, e.g. CITY=city",
                code="attribute_mapping_invalid",
                field="attribute",
            )
        if attr in mapping:
            raise ExportInvalid(
                f"the attribute {attr} is mapped twice; keep one",
                code="attribute_repeated",
                field="attribute",
            )
        mapping[attr] = column
    return mapping


def check_local(config: ExportConfig, *, list_by_id: bool = True) -> ExportConfig:
    """Checks that need neither the profile store, the segments nor Brevo; the answer is
    ``config`` normalised (names trimmed, modes lower case, regions upper case). With
    ``list_by_id`` false the list is found by name or created, so its id is not checked."""
    name = config.name.strip()
    if not _NAME.match(name) or has_control_characters(name):
        raise ExportInvalid(
            f"invalid export name {name!r}: give 1 to 100 characters",
            code="export_name_invalid",
            field="name",
        )
    if list_by_id and config.list_id <= 0:
        raise ExportInvalid(
            f"{config.list_id} is not a Brevo list ID: give the positive number shown in "
            "Brevo under Contacts > Lists",
            code="list_id_invalid",
            field="list_id",
        )
    segments = tuple(s.strip() for s in config.segments if s.strip())
    if not segments:
        raise ExportInvalid(
            "give at least one segment (only segments can be exported)",
            code="segments_missing",
            field="segment",
        )
    dupes = sorted({s for s in segments if segments.count(s) > 1})
    if dupes:
        raise ExportInvalid(
            f"the segment(s) {', '.join(dupes)} are given more than once",
            code="segment_repeated",
            field="segment",
        )
    mode = config.mode.strip().lower()
    if mode not in MODES:
        raise ExportInvalid(
            f"the mode {mode!r} is not known: use add or mirror", code="mode_invalid", field="mode"
        )
    schedule, cron, timezone = check_schedule(config.schedule, config.cron, config.timezone)
    empty_values = config.empty_values.strip().lower()
    if empty_values not in EMPTY_VALUES:
        raise ExportInvalid(
            f"the empty-values rule {empty_values!r} is not known: use clear (a value "
            "emptied in the profiles is emptied in Brevo) or keep (Brevo keeps its value)",
            code="empty_values_invalid",
            field="empty_values",
        )
    if not 1 <= config.profile_limit <= 2**63 - 1:  # a 64-bit integer in SQL
        raise ExportInvalid(
            f"the profile limit {config.profile_limit} must be 1 or more profiles, and below 2**63",
            code="profile_limit_invalid",
            field="profile_limit",
        )
    region = config.phone_region
    if region is not None:
        region = _check_region(region)
    country = config.phone_country_column
    if country is not None:
        country = country.strip() or None
        if country is not None and config.mapping.phone is None:
            raise ExportInvalid(
                f"the phone country column {country!r} is only used to read phone numbers: "
                "map a phone column too, or clear the phone country column",
                code="phone_country_without_phone",
                field="phone_country_column",
            )
    if not config.mapping.email.strip():
        raise ExportInvalid(
            "the email column is required: the profile column holding the address",
            code="email_column_missing",
            field="email",
        )
    seen: set[str] = set()
    for attr in config.mapping.attributes:
        if attr.upper() in seen:  # Brevo's names are case-insensitive
            raise ExportInvalid(
                f"the attribute {attr} is mapped twice; keep one",
                code="attribute_repeated",
                field="attribute",
            )
        seen.add(attr.upper())
        if not _ATTRIBUTE.match(attr):
            raise ExportInvalid(
                f"the attribute name {attr!r}: Brevo attribute names are letters, digits and "
                "_ (starting with a letter)",
                code="attribute_name_invalid",
                field="attribute",
            )
        if attr in RESERVED_ATTRIBUTES:
            raise ExportInvalid(
                f"the attribute {attr} is set from the {RESERVED_ATTRIBUTES[attr]} column; "
                "map that column instead",
                code="attribute_reserved",
                field=RESERVED_ATTRIBUTES[attr],
            )
    return replace(
        config,
        name=name,
        segments=segments,
        mode=mode,
        schedule=schedule,
        cron=cron,
        timezone=timezone,
        empty_values=empty_values,
        phone_region=region,
        phone_country_column=country,
    )


def check_schedule(
    schedule: str, cron: str | None, timezone: str | None
) -> tuple[str, str | None, str | None]:
    """An export's schedule, normalised: ``system`` or ``manual`` with no cron expression
    nor zone, or ``cron`` with both (checked by :mod:`segport.scheduler.times`)."""
    from segport.scheduler.times import CronSchedule

    schedule = schedule.strip().lower()
    if schedule not in SCHEDULES:
        raise ExportInvalid(
            f"the schedule {schedule!r} is not known: use system (runs with every "
            "refresh), manual (runs only on demand) or a cron expression of its own",
            code="schedule_invalid",
            field="schedule",
        )
    if schedule != "cron":
        for field, value in (("cron", cron), ("timezone", timezone)):
            if value is not None:
                raise ExportInvalid(
                    f"a {'cron expression' if field == 'cron' else 'time zone'} is only "
                    f"for an export on its own cron schedule, not for schedule {schedule}: "
                    "give the cron expression and its time zone without another schedule",
                    code="schedule_conflict",
                    field=field,
                )
        return schedule, None, None
    if cron is None or not cron.strip():
        raise ExportInvalid(
            "a cron schedule needs its cron expression (minute hour day-of-month month "
            "day-of-week), e.g. '0 6 * * 1-5'",
            code="cron_missing",
            field="cron",
        )
    if timezone is None or not timezone.strip():
        # Required rather than UTC by default: a schedule read on the wrong clock runs at
        # the wrong hour without anyone noticing.
        raise ExportInvalid(
            "a cron schedule needs the time zone it is read in: an IANA name such as "
            "Europe/Paris, America/New_York or UTC",
            code="timezone_missing",
            field="timezone",
        )
    try:
        checked = CronSchedule(cron, timezone)
    except Invalid as exc:
        raise ExportInvalid(str(exc), code=exc.code, field=exc.field) from None
    return schedule, checked.expression, checked.timezone


def _check_region(region: str) -> str:
    import phonenumbers

    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ExportInvalid(
            f"the phone region {region!r} is not a region phone numbers know: give a "
            "two-letter ISO 3166 country code such as GB, FR or US",
            code="phone_region_invalid",
            field="phone_region",
        )
    return code


def check_segments(session: Session, config: ExportConfig) -> None:
    from segport.segments import SegmentNotFound, get_segment

    for name in config.segments:
        try:
            get_segment(session, name)
        except SegmentNotFound as exc:
            raise ExportInvalid(
                f"the segment {name!r}: {exc}", code="segment_not_found", field="segment"
            ) from None


def check_columns(ws: Workspace, config: ExportConfig) -> dict[str, str]:
    """The mapped columns exist in the profiles; the answer is every column's logical
    type (text, number, date, timestamp, boolean or other), by name."""
    from segport.profiles import ProfileError, open_profile_store

    try:
        store = open_profile_store(ws.engine, ws.path)
    except ProfileError as exc:
        raise ExportInvalid(f"the mapped profile columns cannot be checked: {exc}") from None
    try:
        columns = store.columns()
    finally:
        store.close()
    m = config.mapping
    wanted = [
        ("email", "the email column", m.email),
        ("first_name", "the first-name column", m.first_name),
        ("last_name", "the last-name column", m.last_name),
        ("phone", "the phone column", m.phone),
        ("phone_country_column", "the phone country column", config.phone_country_column),
        *(("attribute", f"the column of attribute {a}", col) for a, col in m.attributes.items()),
    ]
    for field, what, column in wanted:
        if column is not None and column not in columns:
            raise ExportInvalid(
                f"{what} {column!r}: the profiles have no such column; columns: "
                f"{', '.join(sorted(columns))}",
                code="column_not_found",
                field=field,
                details={"column": column},
            )
    return columns

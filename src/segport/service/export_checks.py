"""The checks an export's settings pass before they are saved.

Local checks (names, mode, region, limit, attribute syntax) need nothing; the others ask the
profile store (do the mapped columns exist?), the segments (do they exist?) and Brevo (does
the list exist, and the attributes, under the names this account uses?). Every failure
names the option to fix and what to do.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from segport.brevo import Attribute
    from segport.service.connection_use import ConnectionCredentials

__all__ = [
    "DEFAULT_PHONE_REGION",
    "DEFAULT_PROFILE_LIMIT",
    "EMPTY_VALUES",
    "MODES",
    "SCHEDULES",
    "ExportInvalid",
    "check_brevo",
    "check_columns",
    "check_local",
    "check_segments",
    "parse_attributes",
    "resolve_attributes",
]
# Names Brevo accounts use for first and last name, by account language (api-notes §4):
# English FIRSTNAME/LASTNAME, French PRENOM/NOM, and the variants seen in older accounts.
FIRST_NAME_ATTRIBUTES = (
    "FIRSTNAME",
    "PRENOM",
    "FNAME",
    "FIRST_NAME",
    "VORNAME",
    "NOMBRE",
    "NOME",
    "VOORNAAM",
)
LAST_NAME_ATTRIBUTES = (
    "LASTNAME",
    "NOM",
    "LNAME",
    "LAST_NAME",
    "NACHNAME",
    "APELLIDOS",
    "APELLIDO",
    "COGNOME",
    "SOBRENOME",
    "ACHTERNAAM",
)
# Attributes segport sets itself from the dedicated options.
RESERVED_ATTRIBUTES = {"EMAIL": "email", "SMS": "phone"}
# Brevo computes these categories itself; values sent for them are ignored.
READ_ONLY_CATEGORIES = {"calculated", "global"}
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


def check_local(config: ExportConfig) -> ExportConfig:
    """Checks that need neither the profile store, the segments nor Brevo; the answer is
    ``config`` normalised (names trimmed, modes lower case, regions upper case)."""
    name = config.name.strip()
    if not _NAME.match(name) or has_control_characters(name):
        raise ExportInvalid(
            f"invalid export name {name!r}: give 1 to 100 characters",
            code="export_name_invalid",
            field="name",
        )
    if config.list_id <= 0:
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
    schedule = config.schedule.strip().lower()
    if schedule not in SCHEDULES:
        raise ExportInvalid(
            f"the schedule {schedule!r} is not known: use system (runs with every "
            "refresh) or manual (runs only on demand)",
            code="schedule_invalid",
            field="schedule",
        )
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
        empty_values=empty_values,
        phone_region=region,
        phone_country_column=country,
    )


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


def check_columns(ws: Workspace, config: ExportConfig) -> None:
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


def check_brevo(creds: ConnectionCredentials, config: ExportConfig) -> ExportConfig:
    """The list exists and the attributes exist in the account; names resolved."""
    from segport.brevo import AuthenticationError, BrevoError, NotFoundError

    client = creds.client(max_retries=1, timeout=15.0)
    try:
        try:
            client.get_list(config.list_id)
        except NotFoundError as exc:
            raise ExportInvalid(
                f"list {config.list_id} does not exist in this Brevo account (Brevo said: "
                f"{exc.message}). Create it in Brevo or pick another list",
                code="list_not_found",
                field="list_id",
            ) from None
        attributes = client.get_attributes()
    except AuthenticationError as exc:
        raise ExportInvalid(
            f"Brevo refused connection {creds.name!r}'s API key (Brevo said: {exc.message}); "
            "an admin must give the connection a new key",
            code="saved_api_key_refused",
            details={"connection": creds.name},
        ) from None
    except BrevoError as exc:
        raise ExportInvalid(
            f"could not check the export against Brevo through connection {creds.name!r} "
            f"({exc}); try again later"
        ) from None
    finally:
        client.close()
    return resolve_attributes(attributes, config)


def resolve_attributes(attributes: list[Attribute], config: ExportConfig) -> ExportConfig:
    """``config`` with its mapping in the account's names (checked to exist there)."""
    m = config.mapping
    by_name = {a.name.upper(): a for a in attributes}
    known = ", ".join(sorted(by_name)) or "none"
    names: list[str | None] = []
    for field, column, candidates in (
        ("first_name", m.first_name, FIRST_NAME_ATTRIBUTES),
        ("last_name", m.last_name, LAST_NAME_ATTRIBUTES),
    ):
        found = None
        if column is not None:
            found = next((by_name[c].name for c in candidates if c in by_name), None)
            if found is None:
                raise ExportInvalid(
                    f"the {field.replace('_', '-')} column: this Brevo account has no attribute "
                    f"for it (looked for {', '.join(candidates)}; it has {known}). Create one "
                    "in Brevo, or map the column to an existing attribute (ATTR=COLUMN)",
                    code="brevo_attribute_missing",
                    field=field,
                )
        names.append(found)
    first_name_attribute, last_name_attribute = names
    if m.phone is not None and "SMS" not in by_name:
        raise ExportInvalid(
            f"the phone column: this Brevo account has no SMS attribute (it has {known}); "
            "enable SMS in Brevo or map no phone column",
            code="brevo_sms_missing",
            field="phone",
        )
    resolved: dict[str, str] = {}
    for attr, column in m.attributes.items():
        brevo_attr = by_name.get(attr.upper())
        if brevo_attr is None:
            raise ExportInvalid(
                f"the attribute {attr} (from column {column!r}): the Brevo account has no "
                f"attribute {attr}; its attributes: {known}. Create it in Brevo (Contacts > "
                "Settings) or fix the name",
                code="brevo_attribute_missing",
                field="attribute",
            )
        if brevo_attr.category in READ_ONLY_CATEGORIES:
            raise ExportInvalid(
                f"the attribute {attr}: it is a {brevo_attr.category} attribute, which Brevo "
                "computes itself; map a normal attribute instead",
                code="brevo_attribute_read_only",
                field="attribute",
            )
        if brevo_attr.name in (first_name_attribute, last_name_attribute):
            raise ExportInvalid(
                f"the attribute {attr} is already set from the first-name or last-name "
                "column; remove one",
                code="attribute_repeated",
                field="attribute",
            )
        resolved[brevo_attr.name] = column
    mapping = replace(
        m,
        attributes=resolved,
        first_name_attribute=first_name_attribute,
        last_name_attribute=last_name_attribute,
    )
    return replace(config, mapping=mapping)

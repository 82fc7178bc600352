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
RESERVED_ATTRIBUTES = {"EMAIL": "--email", "SMS": "--phone"}
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
                f"--attribute {pair!r} must look like ATTR=COLUMN, e.g. --attribute CITY=city"
            )
        if attr in mapping:
            raise ExportInvalid(f"--attribute {attr} is given twice; keep one")
        mapping[attr] = column
    return mapping


def check_local(config: ExportConfig) -> ExportConfig:
    """Checks that need neither the profile store, the segments nor Brevo; the answer is
    ``config`` normalised (names trimmed, modes lower case, regions upper case)."""
    name = config.name.strip()
    if not _NAME.match(name) or has_control_characters(name):
        raise ExportInvalid(f"invalid export name {name!r}: give 1 to 100 characters")
    if config.list_id <= 0:
        raise ExportInvalid(
            f"--list-id {config.list_id} is not a Brevo list ID: give the positive number "
            "shown in Brevo under Contacts > Lists"
        )
    segments = tuple(s.strip() for s in config.segments if s.strip())
    if not segments:
        raise ExportInvalid("give at least one --segment (only segments can be exported)")
    dupes = sorted({s for s in segments if segments.count(s) > 1})
    if dupes:
        raise ExportInvalid(f"--segment {', '.join(dupes)} is given more than once")
    mode = config.mode.strip().lower()
    if mode not in MODES:
        raise ExportInvalid(f"--mode {mode!r} is not known: use add or mirror")
    schedule = config.schedule.strip().lower()
    if schedule not in SCHEDULES:
        raise ExportInvalid(
            f"--schedule {schedule!r} is not known: use system (runs with every "
            "refresh) or manual (runs only on demand)"
        )
    empty_values = config.empty_values.strip().lower()
    if empty_values not in EMPTY_VALUES:
        raise ExportInvalid(
            f"--empty-values {empty_values!r} is not known: use clear (a value "
            "emptied in the profiles is emptied in Brevo) or keep (Brevo keeps its value)"
        )
    if not 1 <= config.profile_limit <= 2**63 - 1:  # a 64-bit integer in SQL
        raise ExportInvalid(
            f"--limit {config.profile_limit} must be 1 or more profiles, and below 2**63"
        )
    region = config.phone_region
    if region is not None:
        region = _check_region(region)
    country = config.phone_country_column
    if country is not None:
        country = country.strip() or None
        if country is not None and config.mapping.phone is None:
            raise ExportInvalid(
                f"--phone-country-column {country!r} is only used to read "
                "phone numbers: give --phone too, or clear it with --phone-country-column ''"
            )
    if not config.mapping.email.strip():
        raise ExportInvalid("--email is required: the profile column holding the address")
    seen: set[str] = set()
    for attr in config.mapping.attributes:
        if attr.upper() in seen:  # Brevo's names are case-insensitive
            raise ExportInvalid(f"--attribute {attr} is given twice; keep one")
        seen.add(attr.upper())
        if not _ATTRIBUTE.match(attr):
            raise ExportInvalid(
                f"--attribute {attr}: Brevo attribute names are letters, digits and _ "
                "(starting with a letter)"
            )
        if attr in RESERVED_ATTRIBUTES:
            raise ExportInvalid(
                f"--attribute {attr}=...: {attr} is set with {RESERVED_ATTRIBUTES[attr]}; "
                "use that option instead"
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
            f"--phone-region {region!r} is not a region phone numbers know: give a two-letter "
            "ISO 3166 country code such as GB, FR or US"
        )
    return code


def check_segments(session: Session, config: ExportConfig) -> None:
    from segport.segments import SegmentNotFound, get_segment

    for name in config.segments:
        try:
            get_segment(session, name)
        except SegmentNotFound as exc:
            raise ExportInvalid(f"--segment {name!r}: {exc}") from None


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
        ("--email", m.email),
        ("--first-name", m.first_name),
        ("--last-name", m.last_name),
        ("--phone", m.phone),
        ("--phone-country-column", config.phone_country_column),
        *((f"--attribute {attr}", col) for attr, col in m.attributes.items()),
    ]
    for option, column in wanted:
        if column is not None and column not in columns:
            raise ExportInvalid(
                f"{option} {column!r}: the profiles have no such column; columns: "
                f"{', '.join(sorted(columns))}"
            )


def check_brevo(creds: ConnectionCredentials, config: ExportConfig) -> ExportConfig:
    """The list exists and the attributes exist in the account; names resolved."""
    from segport.brevo import AuthenticationError, BrevoClient, BrevoError, NotFoundError

    client = BrevoClient(
        creds.api_key,
        creds.base_url,
        max_retries=1,
        timeout=15.0,
        requests_per_second=creds.requests_per_second,
    )
    try:
        try:
            client.get_list(config.list_id)
        except NotFoundError as exc:
            raise ExportInvalid(
                f"list {config.list_id} does not exist in this Brevo account (Brevo said: "
                f"{exc.message}). Create it in Brevo or pick another --list-id"
            ) from None
        attributes = client.get_attributes()
    except AuthenticationError as exc:
        raise ExportInvalid(
            f"Brevo refused connection {creds.name!r}'s API key (Brevo said: {exc.message}); "
            "an admin must give it a new key with `segport connections edit`"
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
    for option, column, candidates in (
        ("--first-name", m.first_name, FIRST_NAME_ATTRIBUTES),
        ("--last-name", m.last_name, LAST_NAME_ATTRIBUTES),
    ):
        found = None
        if column is not None:
            found = next((by_name[c].name for c in candidates if c in by_name), None)
            if found is None:
                raise ExportInvalid(
                    f"{option}: this Brevo account has no attribute for it (looked for "
                    f"{', '.join(candidates)}; it has {known}). Create one in Brevo, or map "
                    "the column to an existing attribute with --attribute ATTR=COLUMN"
                )
        names.append(found)
    first_name_attribute, last_name_attribute = names
    if m.phone is not None and "SMS" not in by_name:
        raise ExportInvalid(
            f"--phone: this Brevo account has no SMS attribute (it has {known}); enable SMS "
            "in Brevo or drop --phone"
        )
    resolved: dict[str, str] = {}
    for attr, column in m.attributes.items():
        brevo_attr = by_name.get(attr.upper())
        if brevo_attr is None:
            raise ExportInvalid(
                f"--attribute {attr}={column}: the Brevo account has no attribute {attr}; "
                f"its attributes: {known}. Create it in Brevo (Contacts > Settings) or fix "
                "the name"
            )
        if brevo_attr.category in READ_ONLY_CATEGORIES:
            raise ExportInvalid(
                f"--attribute {attr}: it is a {brevo_attr.category} attribute, which Brevo "
                "computes itself; map a normal attribute instead"
            )
        if brevo_attr.name in (first_name_attribute, last_name_attribute):
            raise ExportInvalid(
                f"--attribute {attr} is already set by --first-name/--last-name; remove one"
            )
        resolved[brevo_attr.name] = column
    mapping = replace(
        m,
        attributes=resolved,
        first_name_attribute=first_name_attribute,
        last_name_attribute=last_name_attribute,
    )
    return replace(config, mapping=mapping)

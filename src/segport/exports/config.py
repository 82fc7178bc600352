"""One export's configuration, defined once.

:class:`ExportConfig` is what a user sets on an export: where it sends (a connection by
name and a Brevo list), what (segments), how profiles become contacts (its
:class:`ExportMapping`) and the run's rules. It is the one type every layer passes: the
service saves it (``service.export_records`` maps it to and from the ORM row), checks it
(``service.export_checks``), answers with it inside ``ExportView``, and the engine reads it
inside its ``ExportTarget``. Other records hold one rather than copying its fields
(``tests/unit/exports/test_config.py`` checks that).

It lives in the engine's package, the lowest layer that needs it, so the engine imports it
without pointing up; it imports nothing but the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_PHONE_REGION",
    "DEFAULT_PROFILE_LIMIT",
    "EMPTY_VALUES",
    "MODES",
    "SCHEDULES",
    "ExportConfig",
    "ExportMapping",
]

MODES = ("add", "mirror")
EMPTY_VALUES = ("clear", "keep")
# system: runs with the system refresh; manual: only on demand; cron: its own schedule.
SCHEDULES = ("system", "manual", "cron")
DEFAULT_PROFILE_LIMIT = 1_000_000
# Region national phone numbers are read in when the export sets none.
DEFAULT_PHONE_REGION = "GB"
# The Brevo attributes first and last names go to until the account's own are resolved.
DEFAULT_FIRST_NAME_ATTRIBUTE = "FIRSTNAME"
DEFAULT_LAST_NAME_ATTRIBUTE = "LASTNAME"


@dataclass(frozen=True)
class ExportMapping:
    """Profile columns to Brevo attributes ("data matching")."""

    email: str  # the profile column holding the address
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None  # sent as SMS
    # Further Brevo attribute -> profile column pairs, in the order the user gave them.
    attributes: dict[str, str] = field(default_factory=dict)
    # The account's names for first and last name (FIRSTNAME, PRENOM, ...), resolved when
    # the export is checked against Brevo; None until then or when the name is not mapped.
    first_name_attribute: str | None = None
    last_name_attribute: str | None = None

    @property
    def brevo_first_name(self) -> str:
        return self.first_name_attribute or DEFAULT_FIRST_NAME_ATTRIBUTE

    @property
    def brevo_last_name(self) -> str:
        return self.last_name_attribute or DEFAULT_LAST_NAME_ATTRIBUTE


@dataclass(frozen=True)
class ExportConfig:
    """An export's settings: everything a user sets, nothing the workspace records."""

    name: str
    connection: str | None  # the connection's name; None: detached (it does not run)
    list_id: int
    segments: tuple[str, ...]
    mapping: ExportMapping
    mode: str = "add"  # add: add and update contacts; mirror: also remove leavers
    phone_region: str | None = None  # None: DEFAULT_PHONE_REGION
    # Profile column with each row's ISO 3166 country, for national phone numbers.
    phone_country_column: str | None = None
    profile_limit: int = DEFAULT_PROFILE_LIMIT
    schedule: str = "system"
    # The export's own schedule (``schedule == "cron"`` only; None otherwise): a five-field
    # cron expression read in an IANA time zone (docs/schedules.md).
    cron: str | None = None
    timezone: str | None = None
    # clear: a value that became empty in the profiles is emptied in Brevo; keep: never.
    empty_values: str = "clear"
    # The export knowingly shares its Brevo list with another export of the workspace.
    share_list: bool = False

    @property
    def region(self) -> str:
        """The region national phone numbers are read in."""
        return self.phone_region or DEFAULT_PHONE_REGION

    @property
    def mirror(self) -> bool:
        return self.mode == "mirror"

    @property
    def clear_empty(self) -> bool:
        return self.empty_values == "clear"

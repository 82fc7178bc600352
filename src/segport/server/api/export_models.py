"""Request and response bodies of the export operations (adding, editing, duplicating,
scheduling, the dry run, Run all) and of a connection's Brevo account (its lists, folders
and attributes).

Request fields are named as the services name the field at fault, so a problem's
``field`` is the body's: ``segments`` and ``attributes`` (the services say ``segment`` and
``attribute``; the routes pass the body's name on). Responses have the shapes of the
services' views as ``service.views.to_json`` gives them.

Kept apart from ``models.py`` (reading exports and runs) so each stays readable.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, field_validator

from segport.server.api.models import Page, Run, RunStatus

INT32 = 2**31 - 1
INT64 = 2**63 - 1

Column = Annotated[str, Field(min_length=1, max_length=200, description="A profile column.")]
SegmentName = Annotated[str, Field(min_length=1, max_length=200)]
# Brevo's attribute names (case-insensitive: sent upper case). The key pattern keeps a key
# from being read as two (``ATTR=COLUMN``).
AttributeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,99}$")]
ListId = Annotated[int, Field(ge=1, le=INT32, description="A Brevo list's id.")]
FolderId = Annotated[int, Field(ge=1, le=INT32, description="A Brevo folder's id.")]
Mode = Literal["add", "mirror"]
EmptyValues = Literal["clear", "keep"]
ScheduleKind = Literal["system", "manual", "cron"]
# With patternProperties: no other key.
ONLY_KNOWN: dict[str, JsonValue] = {"additionalProperties": False}


def _not_null(schema: dict[str, Any]) -> None:
    """The schema of a field that may be left out but not be null: its type without the
    null (the validator refuses one) and without `default: null`."""
    schema.pop("default", None)
    kinds = [k for k in schema.pop("anyOf", []) if k != {"type": "null"}]
    if len(kinds) == 1:
        schema.update(kinds[0])
    elif kinds:
        schema["anyOf"] = kinds


def _kept(description: str) -> Any:
    """A field of an edit that may be left out (None: unchanged) but not be null."""
    return Field(default=None, description=description, json_schema_extra=_not_null)


# -- adding -----------------------------------------------------------------------------


class NewListIn(BaseModel):
    """A Brevo list created for the export."""

    name: str = Field(min_length=1, max_length=100)
    folder_id: FolderId | None = Field(
        default=None,
        description="Its folder; default: the account's first folder (a new `segport` "
        "folder when the account has none).",
    )


class NewExport(BaseModel):
    """An export to add. Its Brevo list is given one way: `list_id`, `list_name` (an
    existing list of the account) or `new_list` (created for it)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    connection: str = Field(
        min_length=1, max_length=200, description="The connection it sends through."
    )
    list_id: ListId | None = None
    list_name: str | None = Field(default=None, min_length=1, max_length=200)
    new_list: NewListIn | None = None
    segments: list[SegmentName] = Field(
        min_length=1, max_length=100, description="Their members are combined."
    )
    email: Column = Field(description="The profile column holding the address (required).")
    first_name: Column | None = None
    last_name: Column | None = None
    phone: Column | None = Field(default=None, description="Sent as SMS.")
    attributes: dict[AttributeName, Column] = Field(
        default={},
        max_length=200,
        description="More data matching: Brevo attribute -> profile column, e.g. "
        '`{"CITY": "city"}`.',
        json_schema_extra=ONLY_KNOWN,
    )
    create_attributes: bool = Field(
        default=False,
        description="Create mapped attributes the account lacks, typed from their columns.",
    )
    mode: Mode = Field(
        default="add", description="add: add and update; mirror: also remove leavers."
    )
    empty_values: EmptyValues = Field(
        default="clear",
        description="clear: a value emptied in the profiles is emptied in Brevo; keep: never.",
    )
    phone_region: str | None = Field(
        default=None,
        min_length=1,
        max_length=10,
        description="Region of national phone numbers (ISO 3166, e.g. FR); default GB.",
    )
    phone_country_column: Column | None = Field(
        default=None, description="Profile column with each row's ISO 3166 country."
    )
    profile_limit: int = Field(
        default=1_000_000, ge=1, le=INT64, description="Most profiles one run may send."
    )
    schedule: ScheduleKind | None = Field(
        default=None,
        description="system: with every refresh; manual: on demand; cron: its own "
        "(`cron` in `timezone`). Default: cron when `cron` is given, else system.",
    )
    cron: str | None = Field(
        default=None, min_length=1, max_length=200, description="e.g. `0 6 * * 1-5`."
    )
    timezone: str | None = Field(
        default=None, min_length=1, max_length=100, description="IANA zone, e.g. Europe/Paris."
    )
    share_list: bool = Field(
        default=False, description="Share the Brevo list with another export knowingly."
    )


# -- editing ----------------------------------------------------------------------------

_NOT_NULL = (
    "name",
    "connection",
    "list_id",
    "list_name",
    "segments",
    "email",
    "attributes",
    "mode",
    "profile_limit",
    "schedule",
    "cron",
    "timezone",
    "empty_values",
    "share_list",
)


class ExportPatch(BaseModel):
    """What to change (a merge patch): a field left out is unchanged; `null` empties
    `first_name`, `last_name`, `phone`, `phone_region` and `phone_country_column`, and,
    inside `attributes`, drops that attribute's mapping. The result is checked like a new
    export (Brevo included when the list or the mapping changes)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = _kept("A new name.")
    connection: Annotated[str, Field(min_length=1, max_length=200)] | None = _kept(
        "Another connection (`POST .../detach` drops it)."
    )
    list_id: ListId | None = _kept("Another Brevo list, by id.")
    list_name: Annotated[str, Field(min_length=1, max_length=200)] | None = _kept(
        "Another Brevo list, by name."
    )
    segments: Annotated[list[SegmentName], Field(min_length=1, max_length=100)] | None = _kept(
        "Replaces the segments."
    )
    email: Column | None = _kept("The email column.")
    first_name: Column | None = Field(default=None, description="null: not sent.")
    last_name: Column | None = Field(default=None, description="null: not sent.")
    phone: Column | None = Field(default=None, description="null: not sent.")
    attributes: (
        Annotated[
            dict[AttributeName, Column | None],
            Field(max_length=200, json_schema_extra=ONLY_KNOWN),
        ]
        | None
    ) = _kept("Attribute -> column maps (or remaps) it; attribute -> null drops it.")
    mode: Mode | None = _kept("add or mirror.")
    empty_values: EmptyValues | None = _kept("clear or keep.")
    phone_region: Annotated[str, Field(min_length=1, max_length=10)] | None = Field(
        default=None, description="null: back to GB."
    )
    phone_country_column: Column | None = Field(default=None, description="null: none.")
    profile_limit: Annotated[int, Field(ge=1, le=INT64)] | None = _kept(
        "Most profiles one run may send."
    )
    schedule: ScheduleKind | None = _kept(
        "Another schedule (a `cron` alone makes it cron; another drops the expression)."
    )
    cron: Annotated[str, Field(min_length=1, max_length=200)] | None = _kept(
        "An own cron schedule's expression."
    )
    timezone: Annotated[str, Field(min_length=1, max_length=100)] | None = _kept(
        "The IANA zone `cron` is read in."
    )
    share_list: bool | None = _kept("Share the Brevo list knowingly.")

    @field_validator(*_NOT_NULL)
    @classmethod
    def _refuse_null(cls, value: Any) -> Any:
        if value is None:  # given as null (a field left out is not validated)
            raise ValueError("may not be null: leave the field out to keep it")
        return value


class ScheduleIn(BaseModel):
    schedule: ScheduleKind = Field(
        default="cron",
        description="cron: `cron` read in `timezone` (both required); system: with every "
        "refresh; manual: only on demand.",
    )
    cron: str | None = Field(
        default=None, min_length=1, max_length=200, description="e.g. `0 6 * * 1-5`."
    )
    timezone: str | None = Field(
        default=None, min_length=1, max_length=100, description="IANA zone, e.g. Europe/Paris."
    )


class DuplicateIn(BaseModel):
    """The copy's name, and another list for it (else it shares the source's list, which
    needs `share_list`)."""

    name: str = Field(min_length=1, max_length=200, description="The copy's name.")
    list_id: ListId | None = None
    list_name: str | None = Field(default=None, min_length=1, max_length=200)
    share_list: bool = False


# -- the dry run and Run all ------------------------------------------------------------


class DryRun(BaseModel):
    """What a run would do now, sending nothing and recording nothing. `status` is
    `skipped` (with `reason` and `message`) when the export cannot run (detached, say)."""

    export_name: str
    status: RunStatus
    message: str | None
    reason: str | None
    list_id: int | None
    mode: str
    full: bool
    members: int = Field(description="Distinct profiles of the segments.")
    valid: int = Field(description="Contacts left after validation and de-duplication.")
    new: int = Field(description="Would be added.")
    changed: int = Field(description="Would be updated.")
    unchanged: int
    sent: int = Field(description="Would be sent (new + changed, or every valid one if full).")
    to_remove: int = Field(description="Mirror mode: list memberships that would be removed.")
    removal_refused: str | None = Field(description="Why removing would be refused, if so.")
    rejected: dict[str, int] = Field(description="Rejected or altered rows, by reason code.")
    rejected_total: int
    not_sent: dict[str, int] = Field(description="Contacts that would be left out, by reason.")
    not_sent_total: int
    sent_without_field: dict[str, int] = Field(
        description="Values that would be left out of contacts sent, by reason."
    )
    sent_without_field_total: int
    samples: dict[str, list[str]] = Field(
        description="A few addresses: `new`, `changed`, `remove`."
    )
    stage_seconds: dict[str, float]
    total_seconds: float


class RequestedRun(BaseModel):
    """One export of a Run all: its new queued `run`, or `busy` (why not: a run is queued
    or processing already, `busy_run_id`)."""

    export_name: str
    run: Run | None
    busy: str | None = None
    busy_run_id: int | None = None


class RunsRequested(BaseModel):
    requested: int = Field(description="How many runs were queued.")
    busy: int = Field(description="How many exports had a run queued or processing already.")
    items: list[RequestedRun] = Field(description="Every export whose schedule is on, by name.")


# -- a connection's Brevo account -------------------------------------------------------


class BrevoList(BaseModel):
    id: int
    name: str
    folder_id: int | None
    contacts: int | None = Field(description="Brevo's count (it may read 0).")


class BrevoListPage(Page):
    items: list[BrevoList]


class BrevoFolder(BaseModel):
    id: int
    name: str


class BrevoFolderPage(Page):
    items: list[BrevoFolder]


class BrevoAttribute(BaseModel):
    name: str
    category: str = Field(description="normal, transactional, category, calculated, global.")
    type: str | None


class BrevoAttributePage(Page):
    items: list[BrevoAttribute]


class NewBrevoList(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="1 to 100 printable characters.")
    folder_id: FolderId | None = Field(
        default=None,
        description="Default: the account's first folder (a new `segport` folder when it "
        "has none).",
    )


class NewBrevoAttribute(BaseModel):
    name: str = Field(
        min_length=1,
        max_length=200,
        description="Letters, digits and _, starting with a letter (sent upper case).",
    )
    type: Literal["text", "date", "float", "boolean"] = "text"

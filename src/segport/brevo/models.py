"""Typed views of the Brevo API answers segport reads.

Each model is built with ``from_api`` from the decoded JSON. Parsing is lenient the way
the official SDKs are not: unknown fields are ignored and fields Brevo is dropping or has
added (``totalSubscribers``, ``multiple-choice`` attributes) never break a call, because a
model drift must not stop an export.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

# Process statuses after which polling stops; Brevo's spec lists queued, in_process and
# completed; the current SDK adds processing, failed and cancelled.
TERMINAL_PROCESS_STATUSES = frozenset({"completed", "failed", "cancelled", "canceled"})


def _opt_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True, slots=True)
class Plan:
    type: str
    credits: float | None = None
    credits_type: str | None = None
    start_date: str | None = None
    end_date: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Plan:
        credits = data.get("credits")
        return cls(
            type=str(data.get("type", "")),
            credits=float(credits) if isinstance(credits, int | float) else None,
            credits_type=_opt_str(data.get("creditsType")),
            start_date=_opt_str(data.get("startDate")),
            end_date=_opt_str(data.get("endDate")),
        )


@dataclass(frozen=True, slots=True)
class Account:
    email: str
    company_name: str | None
    first_name: str | None
    last_name: str | None
    plans: list[Plan] = field(default_factory=list)
    organization_id: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Account:
        return cls(
            email=str(data.get("email", "")),
            company_name=_opt_str(data.get("companyName")),
            first_name=_opt_str(data.get("firstName")),
            last_name=_opt_str(data.get("lastName")),
            plans=[Plan.from_api(p) for p in data.get("plan") or [] if isinstance(p, Mapping)],
            organization_id=_opt_str(data.get("organization_id")),
        )


@dataclass(frozen=True, slots=True)
class AttributeOption:
    """One choice of a ``category`` attribute's enumeration."""

    value: int
    label: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> AttributeOption:
        return cls(value=_int(data.get("value")), label=str(data.get("label", "")))


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    category: str
    # text | date | float | id | boolean | multiple-choice | user ...; None for some
    # categories (e.g. ``category`` attributes) and any type Brevo adds later is kept as is.
    type: str | None = None
    enumeration: list[AttributeOption] = field(default_factory=list)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Attribute:
        return cls(
            name=str(data.get("name", "")),
            category=str(data.get("category", "")),
            type=_opt_str(data.get("type")),
            enumeration=[
                AttributeOption.from_api(e)
                for e in data.get("enumeration") or []
                if isinstance(e, Mapping)
            ],
        )


@dataclass(frozen=True, slots=True)
class Folder:
    id: int
    name: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Folder:
        return cls(id=_int(data.get("id")), name=str(data.get("name", "")))


@dataclass(frozen=True, slots=True)
class ContactList:
    id: int
    name: str
    folder_id: int | None = None
    # Brevo is dropping these counts (they may read 0): never verify an export with them.
    total_subscribers: int | None = None
    total_blacklisted: int | None = None
    unique_subscribers: int | None = None
    created_at: str | None = None
    dynamic_list: bool | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ContactList:
        def opt_int(key: str) -> int | None:
            value = data.get(key)
            return None if value is None else _int(value)

        dynamic = data.get("dynamicList")
        return cls(
            id=_int(data.get("id")),
            name=str(data.get("name", "")),
            folder_id=opt_int("folderId"),
            total_subscribers=opt_int("totalSubscribers"),
            total_blacklisted=opt_int("totalBlacklisted"),
            unique_subscribers=opt_int("uniqueSubscribers"),
            created_at=_opt_str(data.get("createdAt")),
            dynamic_list=None if dynamic is None else bool(dynamic),
        )


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    email: str | None
    email_blacklisted: bool = False
    sms_blacklisted: bool = False
    created_at: str | None = None
    modified_at: str | None = None
    list_ids: list[int] = field(default_factory=list)
    list_unsubscribed: list[int] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Contact:
        attributes = data.get("attributes")
        return cls(
            id=_int(data.get("id")),
            email=_opt_str(data.get("email")),
            email_blacklisted=bool(data.get("emailBlacklisted", False)),
            sms_blacklisted=bool(data.get("smsBlacklisted", False)),
            created_at=_opt_str(data.get("createdAt")),
            modified_at=_opt_str(data.get("modifiedAt")),
            list_ids=[_int(i) for i in data.get("listIds") or []],
            list_unsubscribed=[_int(i) for i in data.get("listUnsubscribed") or []],
            attributes=dict(attributes) if isinstance(attributes, Mapping) else {},
        )


@dataclass(frozen=True, slots=True)
class ListContactsPage:
    contacts: list[Contact]
    count: int  # members of the list in total, not on this page

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ListContactsPage:
        contacts = [
            Contact.from_api(c) for c in data.get("contacts") or [] if isinstance(c, Mapping)
        ]
        return cls(contacts=contacts, count=_int(data.get("count"), len(contacts)))


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Links to the CSV reports of rows an import could not take (None: nothing to report)."""

    invalid_emails: str | None = None
    duplicate_contact_id: str | None = None
    duplicate_ext_id: str | None = None
    duplicate_email_id: str | None = None
    duplicate_phone_id: str | None = None
    duplicate_whatsapp_id: str | None = None
    duplicate_landline_number_id: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ImportReport:
        return cls(**{f.name: _opt_str(data.get(f.name)) for f in fields(cls)})

    def urls(self) -> dict[str, str]:
        """The reports that exist, by kind (e.g. ``{"invalid_emails": "https://..."}``)."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name)) is not None}


@dataclass(frozen=True, slots=True)
class Process:
    id: int
    status: str
    name: str | None = None
    export_url: str | None = None
    import_report: ImportReport | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_PROCESS_STATUSES

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Process:
        info = data.get("info")
        report = info.get("import") if isinstance(info, Mapping) else None
        return cls(
            id=_int(data.get("id")),
            status=str(data.get("status", "")),
            name=_opt_str(data.get("name")),
            export_url=_opt_str(data.get("export_url")),
            import_report=ImportReport.from_api(report) if isinstance(report, Mapping) else None,
        )


@dataclass(frozen=True, slots=True)
class ListChangeResult:
    """Which identifiers a list add/remove call changed, and which it could not.

    ``failure`` holds contacts that were already in (or out of) the list or do not exist:
    Brevo does not say which of the two.
    """

    success: list[str] = field(default_factory=list)
    failure: list[str] = field(default_factory=list)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ListChangeResult:
        contacts = data.get("contacts")
        body = contacts if isinstance(contacts, Mapping) else {}
        return cls(
            success=[str(x) for x in body.get("success") or []],
            failure=[str(x) for x in body.get("failure") or []],
        )

"""The records of a sandbox account: attributes, folders, lists, contacts, processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from segport.brevo.sandbox.values import (
    SIMPLE_COERCERS,
    Coercer,
    category_coercer,
    iso_time,
    multiple_choice_coercer,
)


@dataclass
class Attribute:
    name: str
    category: str
    type: str | None = None
    enumeration: list[dict[str, Any]] | None = None
    multi_category_options: list[str] | None = None
    calculated_value: str | None = None

    def coercer(self) -> Coercer | None:
        """How to store a value of this attribute; None when contacts cannot set it."""
        if self.category in ("calculated", "global"):
            return None
        if self.type == "multiple-choice":
            return multiple_choice_coercer(self.multi_category_options or [])
        if self.category == "category" or self.enumeration:
            return category_coercer(self.enumeration or [])
        return SIMPLE_COERCERS.get(self.type or "text", SIMPLE_COERCERS["text"])

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "category": self.category}
        if self.type is not None:
            out["type"] = self.type
        if self.enumeration is not None:
            out["enumeration"] = [
                {"value": e["value"], "label": e["label"], "valueStr": str(e["value"])}
                for e in self.enumeration
            ]
        if self.multi_category_options is not None:
            out["multiCategoryOptions"] = self.multi_category_options
        if self.calculated_value is not None:
            out["calculatedValue"] = self.calculated_value
        return out


def _enum(*labels: str) -> list[dict[str, Any]]:
    return [{"value": i, "label": label} for i, label in enumerate(labels, start=1)]


def default_attributes(locale: str) -> list[Attribute]:
    """The contact attributes a new Brevo account has (names depend on its language)."""
    first, last = ("PRENOM", "NOM") if locale == "fr" else ("FIRSTNAME", "LASTNAME")
    return [
        Attribute(last, "normal", "text"),
        Attribute(first, "normal", "text"),
        Attribute("SMS", "normal", "text"),
        Attribute("WHATSAPP", "normal", "text"),
        Attribute("LANDLINE_NUMBER", "normal", "text"),
        Attribute("EXT_ID", "normal", "text"),
        Attribute("OPT_IN", "normal", "boolean"),
        Attribute("DOUBLE_OPT-IN", "category", "text", _enum("Yes", "No")),
    ]


@dataclass
class Folder:
    id: int
    name: str

    def to_api(self, unique: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "totalBlacklisted": 0,
            "totalSubscribers": 0,
            "uniqueSubscribers": unique,
        }


@dataclass
class ContactList:
    id: int
    name: str
    folder_id: int
    created: float
    members: set[int] = field(default_factory=set)
    _sorted: list[int] | None = None

    def sorted_members(self) -> list[int]:
        """Member ids in creation order (cached until membership changes)."""
        if self._sorted is None:
            self._sorted = sorted(self.members)
        return self._sorted

    def touch(self) -> None:
        self._sorted = None

    def to_api(self, extended: bool = False) -> dict[str, Any]:
        # Brevo is dropping totalSubscribers/totalBlacklisted (PY5 get_lists: default 0).
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "totalBlacklisted": 0,
            "totalSubscribers": 0,
            "uniqueSubscribers": len(self.members),
            "folderId": self.folder_id,
        }
        if extended:
            out["createdAt"] = iso_time(self.created)
            out["campaignStats"] = []
            out["dynamicList"] = False
        return out


class Contact:
    """One contact; compact (slots) because an account may hold millions."""

    __slots__ = (
        "attrs",
        "created",
        "email",
        "email_blacklisted",
        "ext_id",
        "id",
        "modified",
        "sms_blacklisted",
    )

    def __init__(
        self,
        id: int,
        email: str | None,
        attrs: dict[str, Any],
        created: float,
        email_blacklisted: bool = False,
        sms_blacklisted: bool = False,
        ext_id: str | None = None,
    ) -> None:
        self.id = id
        self.email = email
        self.attrs = attrs
        self.created = created
        self.modified = created
        self.email_blacklisted = email_blacklisted
        self.sms_blacklisted = sms_blacklisted
        self.ext_id = ext_id

    def to_api(self, list_ids: list[int]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "emailBlacklisted": self.email_blacklisted,
            "smsBlacklisted": self.sms_blacklisted,
            "whatsappBlacklisted": False,
            "createdAt": iso_time(self.created),
            "modifiedAt": iso_time(self.modified),
            "listIds": list_ids,
            "listUnsubscribed": [],
            "attributes": dict(self.attrs),
        }
        if self.email is not None:
            out["email"] = self.email
        if self.ext_id is not None:
            out["attributes"]["EXT_ID"] = self.ext_id
        return out

    def to_state(self) -> list[Any]:
        return [
            self.id,
            self.email,
            self.attrs,
            self.created,
            self.modified,
            self.email_blacklisted,
            self.sms_blacklisted,
            self.ext_id,
        ]

    @classmethod
    def from_state(cls, row: list[Any]) -> Contact:
        c = cls(row[0], row[1], row[2], row[3], row[5], row[6], row[7])
        c.modified = row[4]
        return c


# Report kinds of a finished import, in `info.import` order.
REPORT_KINDS = (
    "invalid_emails",
    "duplicate_contact_id",
    "duplicate_ext_id",
    "duplicate_email_id",
    "duplicate_phone_id",
    "duplicate_whatsapp_id",
    "duplicate_landline_number_id",
)


@dataclass
class Process:
    id: int
    name: str
    status: str
    created: float
    # kind -> CSV text of the rows reported (only kinds with at least one row)
    reports: dict[str, str] = field(default_factory=dict)
    # how long the worker took (wall and its thread's CPU seconds), for benchmarks
    run_seconds: float = 0.0
    cpu_seconds: float = 0.0

    def to_api(self, base_url: str) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "status": self.status}
        if self.name == "IMPORTUSER" and self.status == "completed":
            out["info"] = {
                "import": {
                    kind: (
                        f"{base_url}/reports/{self.id}/{kind}.csv" if kind in self.reports else None
                    )
                    for kind in REPORT_KINDS
                }
            }
        return out

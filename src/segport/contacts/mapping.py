"""Data matching: which profile field feeds which Brevo attribute, and with what type."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from segport.errors import Invalid

EMAIL_COLUMN = "EMAIL"
SMS_COLUMN = "SMS"
CUSTOMER_ID_COLUMN = "_customer_id"
"""Contacts-table column holding the profile's id (underscore: never a Brevo attribute name)."""
UPDATED_AT_COLUMN = "_updated_at"
"""Contacts-table column ranking duplicates, present when ``ContactMapping.updated_at`` is set."""

# Brevo attribute names are letters, digits and underscores, stored upper-case; a leading
# letter keeps them apart from our underscore-prefixed bookkeeping columns.
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_REGION = re.compile(r"^[A-Z]{2}$")


class AttributeType(enum.StrEnum):
    """How a value is coerced before it is sent (see docs/contacts.md, coercion table)."""

    TEXT = "text"
    FLOAT = "float"
    DATE = "date"
    BOOLEAN = "boolean"

    @classmethod
    def from_brevo(cls, brevo_type: str) -> AttributeType:
        """Map a Brevo attribute type (``GET /contacts/attributes``) to a coercion.

        ``float``/``number`` are numbers; ``id``, ``category``, ``multiple-choice``, ``user``
        and any type Brevo adds later travel as text, which Brevo parses itself.
        """
        t = brevo_type.strip().lower()
        if t in ("float", "number"):
            return cls.FLOAT
        if t == "date":
            return cls.DATE
        if t == "boolean":
            return cls.BOOLEAN
        return cls.TEXT


class MappingError(Invalid, ValueError):
    """The data matching is unusable; the message names the field and what to change."""

    default_code = "mapping_invalid"


@dataclass(frozen=True)
class ContactMapping:
    """Profile fields to Brevo attributes for one export.

    ``email`` is the profile column holding the address (required). ``first_name``,
    ``last_name`` and ``phone`` are optional profile columns; first and last names go to
    ``first_name_attribute``/``last_name_attribute`` (account-language dependent in Brevo,
    e.g. ``PRENOM``/``NOM``), the phone to ``SMS`` in E.164 using ``phone_region`` for
    national numbers. ``attributes`` maps more Brevo attribute names to profile columns;
    ``attribute_types`` gives their Brevo types (missing = text). ``updated_at``, when set,
    is the profile column that picks the most recently updated profile among duplicates.
    ``phone_country``, when set, is the profile column holding each row's ISO 3166
    alpha-2 country: national numbers are read in it, ``phone_region`` being the fallback
    for rows whose country is blank (see :meth:`PhoneParser.parse`).
    """

    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    first_name_attribute: str = "FIRSTNAME"
    last_name_attribute: str = "LASTNAME"
    phone_region: str = "GB"
    attribute_types: Mapping[str, str] = field(default_factory=dict)
    updated_at: str | None = None
    phone_country: str | None = None

    def __post_init__(self) -> None:
        if not self.email or not self.email.strip():
            raise MappingError("the email field is required: name the profile column holding it")
        if self.phone_country is not None and not self.phone:
            raise MappingError(
                f"phone_country names column {self.phone_country!r} but no phone is mapped;"
                " map the phone column or drop phone_country"
            )
        region = self.phone_region.strip().upper()
        if not _REGION.fullmatch(region):
            raise MappingError(
                f"phone region {self.phone_region!r} is not a two-letter country code (e.g. GB, US)"
            )
        object.__setattr__(self, "phone_region", region)
        object.__setattr__(self, "first_name_attribute", self.first_name_attribute.upper())
        object.__setattr__(self, "last_name_attribute", self.last_name_attribute.upper())
        object.__setattr__(self, "attributes", {k.upper(): v for k, v in self.attributes.items()})
        types = {k.upper(): v for k, v in self.attribute_types.items()}
        object.__setattr__(self, "attribute_types", types)
        seen: set[str] = set()
        for name, column in self.sources():
            if not _ATTRIBUTE_NAME.fullmatch(name):
                raise MappingError(
                    f"Brevo attribute name {name!r} (for profile column {column!r}) must start"
                    " with a letter and hold only letters, digits and underscores"
                )
            if name in (EMAIL_COLUMN, SMS_COLUMN):
                raise MappingError(
                    f"attribute {name!r} is set by the email/phone fields;"
                    " remove it from attributes"
                )
            if name in seen:
                raise MappingError(f"Brevo attribute {name!r} is mapped twice; keep one mapping")
            seen.add(name)
            if not column or not column.strip():
                raise MappingError(f"Brevo attribute {name!r} has no profile column")
        for name in types:
            if name not in seen:
                raise MappingError(f"attribute_types names {name!r}, which is not mapped")

    def sources(self) -> list[tuple[str, str]]:
        """(Brevo attribute, profile column) for every attribute except EMAIL and SMS, in order."""
        out: list[tuple[str, str]] = []
        if self.first_name:
            out.append((self.first_name_attribute, self.first_name))
        if self.last_name:
            out.append((self.last_name_attribute, self.last_name))
        out.extend(self.attributes.items())
        return out

    @property
    def attribute_columns(self) -> tuple[str, ...]:
        """Attribute columns of the contacts table, in send order (``SMS`` last when mapped)."""
        names = tuple(name for name, _ in self.sources())
        return (*names, SMS_COLUMN) if self.phone else names

    def attribute_type(self, name: str) -> AttributeType:
        """The coercion for attribute ``name`` (first/last names and SMS are text)."""
        raw = self.attribute_types.get(name.upper())
        return AttributeType.from_brevo(raw) if raw else AttributeType.TEXT

    @property
    def profile_columns(self) -> tuple[str, ...]:
        """Profile columns this mapping reads (without the id column), without repeats."""
        cols = [self.email, *(c for _, c in self.sources())]
        if self.phone:
            cols.append(self.phone)
        if self.phone_country:
            cols.append(self.phone_country)
        if self.updated_at:
            cols.append(self.updated_at)
        return tuple(dict.fromkeys(cols))

"""Reason codes for rejected or altered rows, and the reject table they are reported in.

Every row that is dropped, or sent without one of its values, yields one reject row:
``customer_id, email, field, reason, detail, value`` (``value``: the value that failed, as
the profile had it). The engine appends Brevo's own per-row reports (``info.import``) with
the ``brevo_*`` codes, and writes the whole table to the run's rejected-rows CSV with each
row's :class:`Outcome`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import pyarrow as pa


class Effect(enum.StrEnum):
    """What a rejected row means for the contact."""

    DROPPED = "dropped"
    """The contact is not sent at all."""
    ALTERED = "altered"
    """The contact is sent without the value named in ``field``."""


class Outcome(enum.StrEnum):
    """What a row of the rejected-rows CSV means for the contact (its ``outcome`` column)."""

    NOT_SENT = "not_sent"
    """segport did not send the contact: it is not in the list from this export."""
    SENT_WITHOUT_FIELD = "sent_without_field"
    """The contact is sent without the value of ``field``; the rest of it is in the list."""
    NOT_IMPORTED = "not_imported"
    """Brevo's import refused the contact (a ``brevo_*`` reason): it is not in the list."""
    IMPORTED_WITHOUT_FIELD = "imported_without_field"
    """Brevo imported the contact without the value of ``field`` (a ``brevo_*`` reason)."""


class Reason(enum.StrEnum):
    """Why a row was rejected or altered. The values are stable: they appear in CSV files."""

    CUSTOMER_ID_MISSING = "customer_id_missing"
    EMAIL_MISSING = "email_missing"
    EMAIL_INVALID = "email_invalid"
    EMAIL_UNICODE_LOCAL_PART = "email_unicode_local_part"
    EMAIL_DUPLICATE = "email_duplicate"
    PHONE_INVALID = "phone_invalid"
    PHONE_COUNTRY_INVALID = "phone_country_invalid"
    SMS_DUPLICATE = "sms_duplicate"
    VALUE_INVALID = "value_invalid"
    # Reported by Brevo after an import (GET /processes/{id} -> info.import); merged by the engine.
    BREVO_INVALID_EMAIL = "brevo_invalid_email"
    BREVO_DUPLICATE_EMAIL = "brevo_duplicate_email"
    BREVO_DUPLICATE_PHONE = "brevo_duplicate_phone"
    BREVO_DUPLICATE_CONTACT_ID = "brevo_duplicate_contact_id"
    BREVO_DUPLICATE_EXT_ID = "brevo_duplicate_ext_id"
    BREVO_DUPLICATE_WHATSAPP = "brevo_duplicate_whatsapp"
    BREVO_DUPLICATE_LANDLINE = "brevo_duplicate_landline"

    @property
    def effect(self) -> Effect:
        return _EFFECTS[self]

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]

    @property
    def outcome(self) -> Outcome:
        brevo = self.value.startswith("brevo_")
        if self.effect is Effect.DROPPED:
            return Outcome.NOT_IMPORTED if brevo else Outcome.NOT_SENT
        return Outcome.IMPORTED_WITHOUT_FIELD if brevo else Outcome.SENT_WITHOUT_FIELD


def not_sent_reasons() -> list[str]:
    """The reasons (ours and Brevo's) whose contact does not reach the list."""
    return [r.value for r in Reason if r.effect is Effect.DROPPED]


_EFFECTS: dict[Reason, Effect] = {
    Reason.CUSTOMER_ID_MISSING: Effect.DROPPED,
    Reason.EMAIL_MISSING: Effect.DROPPED,
    Reason.EMAIL_INVALID: Effect.DROPPED,
    Reason.EMAIL_UNICODE_LOCAL_PART: Effect.DROPPED,
    Reason.EMAIL_DUPLICATE: Effect.DROPPED,
    Reason.PHONE_INVALID: Effect.ALTERED,
    Reason.PHONE_COUNTRY_INVALID: Effect.ALTERED,
    Reason.SMS_DUPLICATE: Effect.ALTERED,
    Reason.VALUE_INVALID: Effect.ALTERED,
    Reason.BREVO_INVALID_EMAIL: Effect.DROPPED,
    Reason.BREVO_DUPLICATE_EMAIL: Effect.DROPPED,
    Reason.BREVO_DUPLICATE_PHONE: Effect.ALTERED,
    Reason.BREVO_DUPLICATE_CONTACT_ID: Effect.DROPPED,
    Reason.BREVO_DUPLICATE_EXT_ID: Effect.DROPPED,
    Reason.BREVO_DUPLICATE_WHATSAPP: Effect.ALTERED,
    Reason.BREVO_DUPLICATE_LANDLINE: Effect.ALTERED,
}

_DESCRIPTIONS: dict[Reason, str] = {
    Reason.CUSTOMER_ID_MISSING: (
        "the profile has no customer id; it cannot be tracked, so it is not sent"
    ),
    Reason.EMAIL_MISSING: "the mapped email field is empty",
    Reason.EMAIL_INVALID: "the email address is not valid (see docs/contacts.md for the rule)",
    Reason.EMAIL_UNICODE_LOCAL_PART: (
        "the part before @ has non-ASCII characters (SMTPUTF8);"
        " Brevo's support for them is unverified"
    ),
    Reason.EMAIL_DUPLICATE: "another profile in the export has the same email and was preferred",
    Reason.PHONE_INVALID: "the phone number cannot be made a valid E.164 number; sent without SMS",
    Reason.PHONE_COUNTRY_INVALID: (
        "the row's phone country is not an ISO 3166 alpha-2 code, so its national number"
        " cannot be read; sent without SMS"
    ),
    Reason.SMS_DUPLICATE: "another contact in the export holds this phone number; sent without SMS",
    Reason.VALUE_INVALID: "the value does not fit the Brevo attribute's type; sent without it",
    Reason.BREVO_INVALID_EMAIL: "Brevo reported the email as invalid during the import",
    Reason.BREVO_DUPLICATE_EMAIL: "Brevo reported a duplicate email during the import",
    Reason.BREVO_DUPLICATE_PHONE: "Brevo reported the SMS number as held by another contact",
    Reason.BREVO_DUPLICATE_CONTACT_ID: "Brevo reported a duplicate contact id during the import",
    Reason.BREVO_DUPLICATE_EXT_ID: "Brevo reported a duplicate external id during the import",
    Reason.BREVO_DUPLICATE_WHATSAPP: "Brevo reported a duplicate WhatsApp number during the import",
    Reason.BREVO_DUPLICATE_LANDLINE: "Brevo reported a duplicate landline number during the import",
}

REJECT_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string()),
        pa.field("email", pa.string()),
        pa.field("field", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("detail", pa.string()),
        pa.field("value", pa.string()),
    ]
)
"""Columns of every reject table. ``email`` is the raw value when it was not usable;
``value`` is the value that failed (the raw email, phone or attribute value), as text."""


def empty_rejects() -> pa.Table:
    return REJECT_SCHEMA.empty_table()


def reject_table(
    customer_ids: pa.Array | pa.ChunkedArray,
    emails: pa.Array | pa.ChunkedArray,
    field: str,
    reason: Reason | pa.Array,
    details: pa.Array | pa.ChunkedArray | str | None = None,
    values: pa.Array | pa.ChunkedArray | None = None,
) -> pa.Table:
    """Build reject rows for one field; arrays must have equal lengths.

    ``reason`` is one reason for all rows or a column of reason values; ``customer_ids``
    and ``values`` of any type are rendered as text (how they appear in the CSV).
    """
    n = len(customer_ids)
    if isinstance(reason, Reason):
        reason_col: pa.Array = pa.array([reason.value] * n, pa.string())
    else:
        reason_col = reason.cast(pa.string())
    if isinstance(details, str) or details is None:
        detail_col: pa.Array | pa.ChunkedArray = pa.array([details] * n, pa.string())
    else:
        detail_col = details.cast(pa.string())
    value_col = pa.nulls(n, pa.string()) if values is None else _as_text(values)
    return pa.table(
        [
            customer_ids.cast(pa.string()),
            emails.cast(pa.string()),
            pa.array([field] * n, pa.string()),
            reason_col,
            detail_col,
            value_col,
        ],
        schema=REJECT_SCHEMA,
    )


def _as_text(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    try:
        return values.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a type with no text form
        return pa.nulls(len(values), pa.string())


def concat_rejects(tables: Sequence[pa.Table]) -> pa.Table:
    """Concatenate reject tables (an empty sequence gives an empty table)."""
    parts = [t for t in tables if t.num_rows]
    if not parts:
        return empty_rejects()
    return pa.concat_tables(parts).combine_chunks()

"""One batch of profiles into contacts and reject rows: map, check, normalise, coerce.

Per-row work only; duplicates across the export are removed afterwards, by the engine
(:mod:`segport.exports.current`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from segport.contacts.coerce import coerce
from segport.contacts.emails import check_emails
from segport.contacts.mapping import (
    CUSTOMER_ID_COLUMN,
    EMAIL_COLUMN,
    SMS_COLUMN,
    UPDATED_AT_COLUMN,
    ContactMapping,
    MappingError,
)
from segport.contacts.phones import PhoneParser
from segport.contacts.rejects import Reason, concat_rejects, reject_table


@dataclass(frozen=True)
class PreparedBatch:
    """Contacts ready to dedupe, fingerprint and send, and the rows set aside.

    ``contacts`` columns: ``_customer_id`` (the profile id, its original type), ``EMAIL``
    (normalised), one column per attribute in ``mapping.attribute_columns`` order typed by
    :data:`segport.contacts.coerce.OUTPUT_TYPES` (``SMS`` in E.164, last), and
    ``_updated_at`` when the mapping has ``updated_at``. Nulls are values not sent.
    ``rejects`` follows :data:`segport.contacts.rejects.REJECT_SCHEMA`.
    ``phones_parsed`` counts distinct phone values parsed (the rest were reused or empty).
    """

    contacts: pa.Table
    rejects: pa.Table
    phones_parsed: int = 0


_default_parser: PhoneParser | None = None


def _in_process_parser() -> PhoneParser:
    global _default_parser
    if _default_parser is None:
        _default_parser = PhoneParser(workers=0)
    return _default_parser


def _column(batch: pa.RecordBatch | pa.Table, name: str, role: str) -> pa.Array:
    if name not in batch.schema.names:
        raise MappingError(
            f"profile column {name!r} ({role}) is not in the segment's data;"
            f" available columns: {', '.join(batch.schema.names)}"
        )
    column = batch.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def prepare_batch(
    batch: pa.RecordBatch | pa.Table,
    mapping: ContactMapping,
    id_column: str,
    *,
    phone_parser: PhoneParser | None = None,
) -> PreparedBatch:
    """Map one batch of profiles to Brevo contacts.

    ``phone_parser`` (one per run, it may hold a process pool) defaults to an in-process
    parser (see :meth:`PhoneParser.parse`; with ``mapping.phone_country`` each row's
    national number is read in its own country). Raises :class:`MappingError` when a
    mapped column is absent.
    """
    ids = _column(batch, id_column, "customer id")
    raw_email = _column(batch, mapping.email, "email")
    rejects: list[pa.Table] = []

    emails = check_emails(raw_email)
    id_ok = pc.is_valid(ids)
    bad_email = pc.and_(id_ok, pc.invert(emails.valid))
    if pc.any(bad_email).as_py():
        rejects.append(
            _rejects_where(
                bad_email, ids, raw_email, EMAIL_COLUMN, emails.reasons, emails.details, raw_email
            )
        )
    if not pc.all(id_ok).as_py():
        no_id = pc.invert(id_ok)
        rejects.append(
            reject_table(
                ids.filter(no_id),
                raw_email.filter(no_id).cast(pa.string()),
                id_column,
                Reason.CUSTOMER_ID_MISSING,
                "the profile has no customer id",
            )
        )

    keep = pc.and_(id_ok, emails.valid)
    kept_ids = ids.filter(keep)
    kept_emails = emails.emails.filter(keep)
    names: list[str] = [CUSTOMER_ID_COLUMN, EMAIL_COLUMN]
    columns: list[pa.Array] = [kept_ids, kept_emails]

    for attribute, source in mapping.sources():
        raw = _column(batch, source, f"mapped to {attribute}").filter(keep)
        try:
            coerced = coerce(raw, mapping.attribute_type(attribute))
        except TypeError as exc:
            raise MappingError(f"profile column {source!r} mapped to {attribute}: {exc}") from exc
        names.append(attribute)
        columns.append(coerced.values)
        bad = pc.is_valid(coerced.details)
        if pc.any(bad).as_py():
            rejects.append(
                _rejects_where(
                    bad,
                    kept_ids,
                    kept_emails,
                    attribute,
                    Reason.VALUE_INVALID,
                    coerced.details,
                    raw,
                )
            )

    parsed = 0
    if mapping.phone:
        raw_phone = _column(batch, mapping.phone, "phone").filter(keep)
        parser = phone_parser or _in_process_parser()
        countries = None
        if mapping.phone_country:
            countries = _column(batch, mapping.phone_country, "phone country").filter(keep)
        phones = parser.parse(
            raw_phone,
            mapping.phone_region,
            countries=countries,
            country_label=f"column {mapping.phone_country!r} holds",
        )
        parsed = phones.parsed
        names.append(SMS_COLUMN)
        columns.append(phones.e164)
        bad = pc.is_valid(phones.details)
        if pc.any(bad).as_py():
            reasons = phones.reasons if phones.reasons is not None else Reason.PHONE_INVALID
            rejects.append(
                _rejects_where(
                    bad, kept_ids, kept_emails, SMS_COLUMN, reasons, phones.details, raw_phone
                )
            )

    if mapping.updated_at:
        names.append(UPDATED_AT_COLUMN)
        columns.append(_column(batch, mapping.updated_at, "updated at").filter(keep))

    contacts = pa.table(columns, names=names)
    return PreparedBatch(contacts, concat_rejects(rejects), parsed)


def _rejects_where(
    mask: pa.Array,
    ids: pa.Array,
    emails: pa.Array,
    field: str,
    reasons: pa.Array | Reason,
    details: pa.Array,
    values: pa.Array,
) -> pa.Table:
    """Reject rows for ``mask``; ``reasons`` is one reason or a per-row reason column;
    ``values`` are the raw values that failed (shown in the rejected-rows CSV)."""
    reason = reasons if isinstance(reasons, Reason) else reasons.filter(mask)
    return reject_table(
        ids.filter(mask),
        emails.filter(mask),
        field,
        reason,
        details.filter(mask),
        values.filter(mask),
    )

"""Values to the Brevo attribute's type: text, number (float), date, boolean.

A value that does not fit is dropped for that contact (the contact still goes) and
reported; an empty value is simply not sent, so Brevo keeps what it has. Text is never
trimmed or rewritten: semicolons, quotes, line breaks and emoji arrive unchanged.
The full table is in docs/contacts.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from segport.contacts._literals import NULL_STR, lit
from segport.contacts.cells import cell_text
from segport.contacts.mapping import AttributeType

_NUMBER = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ].*)?$"
_TRUE = ("true", "t", "yes", "y", "1", "on")
_FALSE = ("false", "f", "no", "n", "0", "off")
_SHOWN = 60  # characters of a bad value quoted in its reject detail

_EXPECTED = {
    AttributeType.FLOAT: (
        "expected a number such as 12.5 (a dot for decimals, no thousands separator)"
    ),
    AttributeType.DATE: "expected a date as YYYY-MM-DD",
    AttributeType.BOOLEAN: "expected a boolean (true/false, yes/no, 1/0)",
    AttributeType.TEXT: "expected text",
}
_NULL_BOOL = pa.scalar(None, pa.bool_())
_NULL_FLOAT = pa.scalar(None, pa.float64())
_NULL_DATE = pa.scalar(None, pa.date32())


@dataclass(frozen=True)
class Coerced:
    """A coerced column: ``values`` typed for the attribute (null = not sent) and
    ``details`` non-null exactly where a non-empty value was invalid and dropped."""

    values: pa.Array
    details: pa.StringArray


OUTPUT_TYPES: dict[AttributeType, pa.DataType] = {
    AttributeType.TEXT: pa.string(),
    AttributeType.FLOAT: pa.float64(),
    AttributeType.DATE: pa.date32(),
    AttributeType.BOOLEAN: pa.bool_(),
}
"""Arrow type of each attribute kind in the contacts table."""


def coerce(raw: pa.Array | pa.ChunkedArray, kind: AttributeType) -> Coerced:
    """Coerce one profile column to ``kind``; raises ``TypeError`` for nested/binary columns."""
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    if pa.types.is_dictionary(raw.type):
        raw = raw.dictionary_decode()
    t = raw.type
    if pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
        raise TypeError(f"a column of type {t} cannot be sent to a Brevo attribute")
    if kind is AttributeType.TEXT:
        return _no_errors(_to_text(raw))
    if kind is AttributeType.FLOAT:
        return _to_float(raw)
    if kind is AttributeType.DATE:
        return _to_date(raw)
    return _to_boolean(raw)


def _no_errors(values: pa.Array) -> Coerced:
    return Coerced(values, pa.nulls(len(values), pa.string()))


def _empty_to_null(text: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(text, lit("")), NULL_STR, text)


def _to_text(raw: pa.Array) -> pa.Array:
    t = raw.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return _empty_to_null(raw.cast(pa.string()))
    return cell_text(raw)


def _rejected(raw_text: pa.Array, bad: pa.Array, kind: AttributeType) -> pa.StringArray:
    shown = pc.utf8_slice_codeunits(raw_text, 0, _SHOWN)
    prefix = lit(_EXPECTED[kind] + "; got '")
    message = pc.binary_join_element_wise(prefix, shown, lit("'"), lit(""))
    return pc.if_else(bad, message, NULL_STR)


def _all_rejected(raw: pa.Array, kind: AttributeType) -> Coerced:
    text = _to_text(raw)
    bad = pc.is_valid(text)
    return Coerced(pa.nulls(len(raw), OUTPUT_TYPES[kind]), _rejected(text, bad, kind))


def _text_input(raw: pa.Array) -> pa.Array | None:
    t = raw.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return _empty_to_null(pc.utf8_trim_whitespace(raw.cast(pa.string())))
    return None


def _to_float(raw: pa.Array) -> Coerced:
    t = raw.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        values = raw.cast(pa.float64(), safe=False)
        text = _to_text(raw)
    else:
        text_in = _text_input(raw)
        if text_in is None:
            return _all_rejected(raw, AttributeType.FLOAT)
        text = text_in
        ok = pc.fill_null(pc.match_substring_regex(text, _NUMBER), lit(False))
        values = pc.if_else(ok, text, NULL_STR).cast(pa.float64())
    finite = pc.fill_null(pc.is_finite(values), lit(False))
    values = pc.if_else(finite, values, _NULL_FLOAT)
    bad = pc.and_(pc.is_valid(text), pc.invert(finite))
    return Coerced(values, _rejected(text, bad, AttributeType.FLOAT))


def _to_date(raw: pa.Array) -> Coerced:
    t = raw.type
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        # A zoned timestamp becomes the date in its own zone.
        return _no_errors(raw.cast(pa.date32()))
    text_in = _text_input(raw)
    if text_in is None:
        return _all_rejected(raw, AttributeType.DATE)
    head = pc.utf8_slice_codeunits(text_in, 0, 10)
    shaped = pc.fill_null(pc.match_substring_regex(text_in, _ISO_DATE), lit(False))
    parsed = pc.strptime(
        pc.if_else(shaped, head, NULL_STR), format="%Y-%m-%d", unit="s", error_is_null=True
    )
    # strptime rolls 2021-02-30 over to March: keep only dates that print back the same.
    exact = pc.fill_null(pc.equal(pc.strftime(parsed, "%Y-%m-%d"), head), lit(False))
    values = pc.if_else(exact, parsed.cast(pa.date32()), _NULL_DATE)
    bad = pc.and_(pc.is_valid(text_in), pc.invert(exact))
    return Coerced(values, _rejected(text_in, bad, AttributeType.DATE))


def _to_boolean(raw: pa.Array) -> Coerced:
    t = raw.type
    if pa.types.is_boolean(t):
        return _no_errors(raw)
    if pa.types.is_integer(t):
        text = raw.cast(pa.string())
    else:
        text_in = _text_input(raw)
        if text_in is None:
            return _all_rejected(raw, AttributeType.BOOLEAN)
        text = text_in
    lowered = pc.utf8_lower(text)
    is_true = pc.is_in(lowered, pa.array(_TRUE))
    is_false = pc.is_in(lowered, pa.array(_FALSE))
    values = pc.if_else(is_true, lit(True), pc.if_else(is_false, lit(False), _NULL_BOOL))
    bad = pc.and_(pc.is_valid(text), pc.is_null(values))
    return Coerced(values, _rejected(text, bad, AttributeType.BOOLEAN))

"""Coercion to Brevo attribute types: the table in docs/contacts.md, case by case."""

from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa
import pytest

from segport.contacts.coerce import OUTPUT_TYPES, coerce
from segport.contacts.mapping import AttributeType

T, F, D, B = AttributeType.TEXT, AttributeType.FLOAT, AttributeType.DATE, AttributeType.BOOLEAN


def _run(values: pa.Array, kind: AttributeType) -> tuple[list[object], list[bool]]:
    out = coerce(values, kind)
    assert out.values.type == OUTPUT_TYPES[kind]
    assert len(out.values) == len(out.details) == len(values)
    return out.values.to_pylist(), [d is not None for d in out.details.to_pylist()]


AWKWARD = ['O\'Brien; "Jr"', "two\nlines", "emoji 😀", "007", "  spaced  ", "\r\n", "tab\t"]


def test_text_arrives_unchanged() -> None:
    values, bad = _run(pa.array([*AWKWARD, "", None]), T)
    assert values == [*AWKWARD, None, None]
    assert not any(bad)


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (pa.array([1, -2, None], pa.int64()), ["1", "-2", None]),
        (pa.array([1.5, 42.0, -0.0]), ["1.5", "42", "0"]),
        (pa.array([True, False]), ["true", "false"]),
        (pa.array([dt.date(2024, 2, 29)]), ["2024-02-29"]),
        (pa.array([dt.datetime(2024, 2, 29, 13, 5, 7)]), ["2024-02-29T13:05:07"]),
        (pa.array([decimal.Decimal("12.30")]), ["12.30"]),
        (pa.array(["a", "b"]).dictionary_encode(), ["a", "b"]),
    ],
)
def test_text_from_other_types(array: pa.Array, expected: list[str | None]) -> None:
    assert _run(array, T) == (expected, [False] * len(expected))


def test_numbers_from_strings() -> None:
    raw = ["12.5", " 42 ", "-0.5", "+3", ".5", "5.", "1e3", "007", "", None]
    bad_raw = ["1,5", "12 000", "abc", "nan", "inf", "1.2.3", "--1", "0x10", "€5"]
    values, bad = _run(pa.array(raw + bad_raw), F)
    assert values == [12.5, 42.0, -0.5, 3.0, 0.5, 5.0, 1000.0, 7.0, None, None] + [None] * len(
        bad_raw
    )
    assert bad == [False] * len(raw) + [True] * len(bad_raw)


def test_numbers_from_numeric_columns() -> None:
    values, bad = _run(pa.array([1, None, 3], pa.int32()), F)
    assert (values, bad) == ([1.0, None, 3.0], [False, False, False])
    values, bad = _run(pa.array([1.5, float("nan"), float("inf")]), F)
    assert (values, bad) == ([1.5, None, None], [False, True, True])
    values, bad = _run(pa.array([decimal.Decimal("2.50")]), F)
    assert values == [2.5]


def test_number_detail_quotes_the_value() -> None:
    out = coerce(pa.array(["1,5"]), F)
    assert out.details[0].as_py() == (
        "expected a number such as 12.5 (a dot for decimals, no thousands separator); got '1,5'"
    )


def test_dates() -> None:
    good = ["2024-02-29", " 1990-01-31 ", "2020-01-01T10:00:00Z", "2020-01-01 23:59"]
    bad = ["2023-02-29", "2021-13-01", "31/12/2020", "12/31/2020", "2020-1-5", "yesterday", "2020"]
    values, flags = _run(pa.array([*good, "", None, *bad]), D)
    assert values[:6] == [
        dt.date(2024, 2, 29),
        dt.date(1990, 1, 31),
        dt.date(2020, 1, 1),
        dt.date(2020, 1, 1),
        None,
        None,
    ]
    assert values[6:] == [None] * len(bad)
    assert flags == [False] * 6 + [True] * len(bad)


def test_dates_from_date_and_timestamp_columns() -> None:
    assert _run(pa.array([dt.date(2020, 5, 1)]), D) == ([dt.date(2020, 5, 1)], [False])
    zoned = pa.array(
        [dt.datetime(2020, 1, 2, 3, 30, tzinfo=dt.UTC)], pa.timestamp("us", tz="America/New_York")
    )
    # a zoned timestamp counts in its own zone: 03:30 UTC is still the 1st in New York
    assert _run(zoned, D)[0] == [dt.date(2020, 1, 1)]
    values, bad = _run(pa.array([20200101], pa.int64()), D)
    assert (values, bad) == ([None], [True])


def test_booleans() -> None:
    truthy = ["true", "TRUE", "Yes", "y", "1", "t", "on"]
    falsy = ["false", "No", "n", "0", "F", "off"]
    bad = ["maybe", "2", "-1", "si"]
    values, flags = _run(pa.array([*truthy, *falsy, *bad, "", None]), B)
    assert values == [True] * 7 + [False] * 6 + [None] * 4 + [None, None]
    assert flags == [False] * 13 + [True] * 4 + [False, False]
    assert _run(pa.array([1, 0, 2], pa.int8()), B) == ([True, False, None], [False, False, True])
    assert _run(pa.array([True, None]), B) == ([True, None], [False, False])


def test_booleans_from_floats_are_rejected() -> None:
    assert _run(pa.array([1.0]), B) == ([None], [True])


def test_nested_columns_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot be sent"):
        coerce(pa.array([[1, 2]]), T)


@pytest.mark.parametrize(
    ("brevo", "kind"),
    [
        ("text", T),
        ("float", F),
        ("number", F),
        ("date", D),
        ("boolean", B),
        ("id", T),
        ("category", T),
        ("multiple-choice", T),
        ("user", T),
        ("FLOAT", F),
    ],
)
def test_brevo_types_map_to_coercions(brevo: str, kind: AttributeType) -> None:
    assert AttributeType.from_brevo(brevo) is kind

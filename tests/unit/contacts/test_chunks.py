"""Chunker: byte-bounded import bodies, every row once and in order, awkward values intact."""

from __future__ import annotations

import csv
import io
import itertools

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segport.contacts.cells import cell_text, csv_lines, json_string_sizes
from segport.contacts.chunks import ImportChunk, RowTooLargeError, iter_import_chunks

ATTRS = ["FIRSTNAME", "LASTNAME", "SMS"]
AWKWARD = [
    'Smith; "Junior"',
    "line\nbreak",
    "carriage\r\nreturn",
    "emoji 😀👩‍👩‍👧",
    "0044",
    "007",
    ' "quoted" ',
    "back\\slash",
    "tab\there",
    "ctrl\x01char",
    "=1+1",
    "  padded  ",
    "ünïcödé",
    "\u2028sep",
]

_text = st.text(alphabet=st.sampled_from([*'ab;"\n\r\t\\ 0😀é\x01\x1f,', "\u2028"]), max_size=12)


def _table(names: list[str | None], last: list[str | None], sms: list[str | None]) -> pa.Table:
    n = len(names)
    return pa.table(
        {
            "_customer_id": pa.array(range(n), pa.int64()),
            "EMAIL": [f"user{i}@example.com" for i in range(n)],
            "FIRSTNAME": pa.array(names, pa.string()),
            "LASTNAME": pa.array(last, pa.string()),
            "SMS": pa.array(sms, pa.string()),
        }
    )


def _parse(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body, newline=""), delimiter=";"))


def _expected_cells(table: pa.Table) -> list[list[str]]:
    cols = [cell_text(table.column(c)).to_pylist() for c in ["EMAIL", *ATTRS]]
    return [[v if v is not None else "" for v in row] for row in zip(*cols, strict=True)]


def _envelope(body: str) -> bytes:
    return orjson.dumps(
        {
            "fileBody": body,
            "listIds": [2147483647],
            "updateExistingContacts": True,
            "emptyContactsAttributes": False,
            "disableNotification": True,
        }
    )


ENVELOPE = len(_envelope("")) - 2  # the request without the fileBody string


def _check(chunks: list[ImportChunk], table: pa.Table, max_bytes: int, envelope: int) -> None:
    sizes = json_string_sizes(csv_lines(table, ATTRS)).to_pylist()
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.byte_size == len(orjson.dumps(chunk.body))
        assert chunk.byte_size + envelope <= max_bytes
        assert len(_envelope(chunk.body)) <= max_bytes + ENVELOPE - envelope
        assert chunk.row_count == len(_parse(chunk.body)) - 1
    # every row exactly once, in order
    emails = [e for c in chunks for e in c.emails.to_pylist()]
    assert emails == table.column("EMAIL").to_pylist()
    ids = [i for c in chunks for i in c.rows.column("_customer_id").to_pylist()]
    assert ids == table.column("_customer_id").to_pylist()
    # values round-trip through the CSV exactly as sent
    parsed = [row for c in chunks for row in _parse(c.body)[1:]]
    assert parsed == _expected_cells(table)
    for chunk in chunks:
        assert _parse(chunk.body)[0] == ["EMAIL", *ATTRS]
    # greedy: a chunk is cut only when the next row would not fit
    start = 0
    for chunk in chunks[:-1]:
        start += chunk.row_count
        assert chunk.byte_size + sizes[start] + envelope > max_bytes


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(st.none() | _text, st.none() | _text, st.none() | _text), max_size=60),
    slack=st.integers(min_value=0, max_value=600),
    batch=st.integers(min_value=4, max_value=40),
    envelope=st.sampled_from([0, ENVELOPE, 300]),
)
def test_chunks_respect_the_limit_and_keep_every_row_once(
    rows: list[tuple[str | None, str | None, str | None]], slack: int, batch: int, envelope: int
) -> None:
    table = _table([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    sizes = json_string_sizes(csv_lines(table, ATTRS)).to_pylist() if rows else [1]
    header = len(orjson.dumps("EMAIL;FIRSTNAME;LASTNAME;SMS\n"))
    max_bytes = envelope + header + max(sizes) + slack
    kwargs = {"max_bytes": max_bytes, "envelope_bytes": envelope, "carry": ["_customer_id"]}
    whole = list(iter_import_chunks(table, ATTRS, **kwargs))  # type: ignore[arg-type]
    _check(whole, table, max_bytes, envelope)
    # the same rows streamed in batches give the very same chunks
    batches = table.to_batches(max_chunksize=batch)
    streamed = list(iter_import_chunks(iter(batches), ATTRS, **kwargs))  # type: ignore[arg-type]
    assert [(c.body, c.byte_size) for c in streamed] == [(c.body, c.byte_size) for c in whole]


def test_awkward_values_round_trip() -> None:
    names: list[str | None] = [*AWKWARD, None, ""]
    table = _table(names, list(reversed(names)), ["+447911123456"] * len(names))
    chunks = list(iter_import_chunks(table, ATTRS))
    assert len(chunks) == 1
    parsed = _parse(chunks[0].body)[1:]
    assert [row[1] for row in parsed] == [*AWKWARD, "", ""]
    assert chunks[0].byte_size == len(orjson.dumps(chunks[0].body))
    # the body also survives the JSON request it travels in
    assert orjson.loads(_envelope(chunks[0].body))["fileBody"] == chunks[0].body


def test_typed_columns_are_written_as_brevo_reads_them() -> None:
    import datetime as dt

    table = pa.table(
        {
            "EMAIL": ["a@x.com", "b@x.com"],
            "LTV": pa.array([12.5, -0.0]),
            "BIRTHDAY": pa.array([dt.date(1990, 1, 31), None]),
            "VIP": pa.array([True, False]),
            "AGE": pa.array([42, None], pa.int64()),
        }
    )
    (chunk,) = iter_import_chunks(table, ["LTV", "BIRTHDAY", "VIP", "AGE"])
    assert (
        chunk.body
        == "EMAIL;LTV;BIRTHDAY;VIP;AGE\na@x.com;12.5;1990-01-31;true;42\nb@x.com;0;;false;\n"
    )


def test_many_limits_on_a_larger_table() -> None:
    n = 3_000
    names = [AWKWARD[i % len(AWKWARD)] * (1 + i % 5) for i in range(n)]
    table = _table(names, [None] * n, [f"+44791112{i:04d}" for i in range(n)])
    for max_bytes, batch in itertools.product([2_000, 7_777, 50_000, 10**6], [97, 1_000, n]):
        chunks = list(
            iter_import_chunks(
                iter(table.to_batches(max_chunksize=batch)),
                ATTRS,
                max_bytes=max_bytes,
                envelope_bytes=ENVELOPE,
                carry=["_customer_id"],
            )
        )
        _check(chunks, table, max_bytes, ENVELOPE)


def test_empty_input_gives_no_chunk() -> None:
    assert list(iter_import_chunks(_table([], [], []), ATTRS)) == []
    assert list(iter_import_chunks(iter([]), ATTRS)) == []


def test_a_row_that_cannot_fit_names_the_contact() -> None:
    table = _table(["x" * 500], [None], [None])
    with pytest.raises(RowTooLargeError, match=r"user0@example\.com"):
        list(iter_import_chunks(table, ATTRS, max_bytes=400, envelope_bytes=0))


def test_a_limit_below_the_envelope_is_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        list(iter_import_chunks(_table(["a"], ["b"], ["c"]), ATTRS, max_bytes=100))


def test_bodies_read_back_with_pyarrow_csv_too() -> None:
    """A second, independent CSV reader (the one the sandbox uses) sees the same values."""
    import pyarrow.csv as pacsv

    names: list[str | None] = [*AWKWARD, None]
    table = _table(names, list(reversed(names)), ["+447911123456"] * len(names))
    (chunk,) = iter_import_chunks(table, ATTRS)
    columns = ["EMAIL", *ATTRS]
    read = pacsv.read_csv(
        io.BytesIO(chunk.body.encode()),
        parse_options=pacsv.ParseOptions(delimiter=";", newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()), strings_can_be_null=False
        ),
    )
    assert read.column_names == columns
    got = [list(row.values()) for row in read.to_pylist()]
    assert got == _expected_cells(table)

"""Fingerprints: stable, sensitive to what is sent and to nothing else."""

from __future__ import annotations

import datetime as dt
import hashlib

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from segport.contacts import FINGERPRINT_TYPE, fingerprints, row_hashes

ATTRS = ["FIRSTNAME", "LASTNAME", "SMS"]


def _table(**overrides: list[object]) -> pa.Table:
    data: dict[str, list[object]] = {
        "_customer_id": [1, 2],
        "EMAIL": ["a@x.io", "b@x.io"],
        "FIRSTNAME": ["Ann", 'Bo; "B"\n😀'],
        "LASTNAME": [None, "Lee"],
        "SMS": ["+447911123456", None],
    }
    data.update(overrides)
    return pa.table(data)


def _spec(header: str, line: str) -> int:
    """The documented definition, written out independently of the implementation."""
    salt = hashlib.blake2b(header.encode(), digest_size=16).digest()
    digest = hashlib.blake2b(line.encode(), digest_size=8, salt=salt).digest()
    return int.from_bytes(digest, "little", signed=True)


def test_values_follow_the_documented_definition() -> None:
    fps = fingerprints(_table(), ATTRS)
    assert fps.type == FINGERPRINT_TYPE
    header = "EMAIL;FIRSTNAME;LASTNAME;SMS\n"
    assert fps.to_pylist() == [
        _spec(header, "a@x.io;Ann;;+447911123456\n"),
        _spec(header, 'b@x.io;"Bo; ""B""\n😀";Lee;\n'),
    ]
    # Persisted in export state: if these change, every contact is sent again.
    assert fps.to_pylist() == GOLDEN


GOLDEN = [-6939951485617286846, -1677937968484755650]


def test_only_sent_values_matter() -> None:
    base = fingerprints(_table(), ATTRS).to_pylist()
    # the customer id and columns not sent do not change it
    other = _table(_customer_id=[7, 8]).append_column(
        "_updated_at", pa.array([dt.datetime(2020, 1, 1)] * 2)
    )
    assert fingerprints(other, ATTRS).to_pylist() == base
    # nor does the order of the attributes in the mapping
    assert fingerprints(_table(), list(reversed(ATTRS))).to_pylist() == base
    # any sent value does
    assert fingerprints(_table(LASTNAME=["X", "Lee"]), ATTRS).to_pylist()[0] != base[0]
    assert fingerprints(_table(SMS=[None, None]), ATTRS).to_pylist()[0] != base[0]
    assert fingerprints(_table(EMAIL=["c@x.io", "b@x.io"]), ATTRS).to_pylist()[0] != base[0]
    # and so does the set of attributes sent
    assert fingerprints(_table(), ATTRS[:2]).to_pylist()[1] != base[1]
    # an empty string is sent as an empty cell, like a null
    assert fingerprints(_table(LASTNAME=["", "Lee"]), ATTRS).to_pylist() == base


def test_typed_values_hash_as_sent() -> None:
    a = pa.table({"EMAIL": ["a@x.io"], "N": pa.array([42.0])})
    b = pa.table({"EMAIL": ["a@x.io"], "N": pa.array(["42"])})
    assert fingerprints(a, ["N"]).to_pylist() == fingerprints(b, ["N"]).to_pylist()


def test_salt_and_empty_input() -> None:
    t = _table()
    assert fingerprints(t, ATTRS, salt="v2").to_pylist() != fingerprints(t, ATTRS).to_pylist()
    assert fingerprints(t.slice(0, 0), ATTRS).to_pylist() == []


def test_row_hashes_tell_null_from_empty_and_see_every_column() -> None:
    t = pa.table({"a": ["x", "", None, "x"], "b": pa.array([1, 1, 1, 2], pa.int64())})
    h = row_hashes(t, ["a", "b"]).to_pylist()
    assert len(set(h)) == 4
    assert row_hashes(t, ["a", "b"], salt="FR").to_pylist() != h
    assert row_hashes(t.slice(1), ["a", "b"]).to_pylist() == h[1:]  # sliced input


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=8), st.none() | st.text(max_size=8)),
        min_size=1,
        max_size=20,
        unique=True,
    )
)
def test_distinct_contacts_get_distinct_fingerprints(rows: list[tuple[str, str | None]]) -> None:
    table = pa.table(
        {
            "EMAIL": [f"u{i}@x.io" if i % 2 else "same@x.io" for i in range(len(rows))],
            "FIRSTNAME": [r[0] or None for r in rows],
            "LASTNAME": [r[1] or None for r in rows],
        }
    )
    fps = fingerprints(table, ["FIRSTNAME", "LASTNAME"]).to_pylist()
    sent = {
        (e, f, ln)
        for e, f, ln in zip(*[table.column(c).to_pylist() for c in table.column_names], strict=True)
    }
    assert len(set(fps)) == len(sent)
    # and chunked input gives the same values as contiguous input
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=3))
    assert fingerprints(chunked, ["FIRSTNAME", "LASTNAME"]).to_pylist() == fps

"""Fingerprints are MD5 of a fixed text form: equal to a Python computation of the same
text, so a DuckDB release cannot change them (unlike its hash())."""

from __future__ import annotations

import hashlib

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from segport.exports.fingerprint import fingerprint_sql, quick_hash_sql
from segport.exports.send import parse_report


def python_fp(text: str) -> int:
    return int.from_bytes(hashlib.md5(text.encode()).digest(), "little")


def fp(select: str, columns: list[str]) -> int:
    con = duckdb.connect()
    return int(con.execute(f"SELECT {fingerprint_sql(columns)} FROM ({select})").fetchall()[0][0])


def test_fingerprint_is_md5_of_labelled_values() -> None:
    got = fp(
        "SELECT 'a@x.io' AS EMAIL, 'Zoë; \"Z\"' AS FIRSTNAME, NULL::VARCHAR AS SMS",
        ["EMAIL", "FIRSTNAME", "SMS"],
    )
    assert got == python_fp('EMAIL=a@x.io\x1fFIRSTNAME=Zoë; "Z"\x1fSMS=\x1e')
    assert got == 63951318286493619778354831649085415965  # pinned


def test_typed_values_have_fixed_text_forms() -> None:
    got = fp(
        "SELECT 1.5::DOUBLE AS SCORE, DATE '2020-02-29' AS BORN, true AS OK",
        ["SCORE", "BORN", "OK"],
    )
    assert got == python_fp("SCORE=1.5\x1fBORN=2020-02-29\x1fOK=true")


def test_null_empty_and_moved_values_differ() -> None:
    cols = ["A", "B"]
    values = {
        fp("SELECT 'x' AS A, NULL::VARCHAR AS B", cols),
        fp("SELECT NULL::VARCHAR AS A, 'x' AS B", cols),
        fp("SELECT 'x' AS A, '' AS B", cols),
        fp("SELECT 'x' AS B, NULL::VARCHAR AS A", ["B", "A"]),
    }
    assert len(values) == 4


def test_brevo_report_rows_are_read_with_email_and_reason() -> None:
    text = (
        "ROW;EMAIL;SMS;REASON\n"
        "3;User9@Example.com;+447911000009;already the SMS of contact 1\n"
        '4;"a;b@x.io";;"quoted; reason"\n\n'
    )
    assert list(parse_report(text)) == [
        ("user9@example.com", "already the SMS of contact 1"),
        ("a;b@x.io", "quoted; reason"),
    ]
    assert list(parse_report("")) == []
    assert list(parse_report("email,error\nx@y.io,bad\n")) == [("x@y.io", "bad")]


# -- cases moved from the BLAKE2b scheme of segport.contacts (removed: runs never used it),
# -- re-pointed at the fingerprints runs store


def test_only_sent_values_matter() -> None:
    cols = ["EMAIL", "FIRSTNAME", "SMS"]
    base = fp("SELECT 'a@x.io' AS EMAIL, 'Ann' AS FIRSTNAME, '+447911123456' AS SMS", cols)
    # columns not sent (the customer id, the update date) do not change it
    assert base == fp(
        "SELECT 7 AS _customer_id, DATE '2020-01-01' AS _updated_at, 'a@x.io' AS EMAIL, "
        "'Ann' AS FIRSTNAME, '+447911123456' AS SMS",
        cols,
    )
    # any sent value does, the email included, and so does the set of attributes sent
    assert base != fp("SELECT 'a@x.io' AS EMAIL, 'Ann' AS FIRSTNAME, NULL AS SMS", cols)
    assert base != fp("SELECT 'c@x.io' AS EMAIL, 'Ann' AS FIRSTNAME, '+447911123456' AS SMS", cols)
    assert base != fp("SELECT 'a@x.io' AS EMAIL, 'Ann' AS FIRSTNAME", cols[:2])


def test_quick_hash_tells_null_from_empty_and_sees_every_column() -> None:
    """The prepared-contacts cache key (a raw row's hash): a changed raw value is seen."""
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT {quick_hash_sql(['a', 'b'])} FROM (VALUES ('x', 1), ('', 1), (NULL, 1), "
        "('x', 2)) t(a, b)"
    ).fetchall()
    assert len({r[0] for r in rows}) == 4


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
            "FIRSTNAME": [r[0] for r in rows],
            "LASTNAME": [r[1] for r in rows],
        }
    )
    con = duckdb.connect()
    con.register("t", table)
    fps = [
        r[0]
        for r in con.execute(
            f"SELECT {fingerprint_sql(['EMAIL', 'FIRSTNAME', 'LASTNAME'])} FROM t"
        ).fetchall()
    ]
    sent = set(zip(*[table.column(c).to_pylist() for c in table.column_names], strict=True))
    assert len(set(fps)) == len(sent)
    # each equals the documented text form, hashed in Python
    for (email, first, last), value in zip(
        zip(*[table.column(c).to_pylist() for c in table.column_names], strict=True),
        fps,
        strict=True,
    ):
        shown = "\x1e" if last is None else last  # NULL is written as the record separator
        text = f"EMAIL={email}\x1fFIRSTNAME={first}\x1fLASTNAME={shown}"
        assert value == python_fp(text)

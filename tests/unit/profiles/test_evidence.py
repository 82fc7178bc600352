"""Column types from the whole file (segport.profiles.evidence) on a DuckDB text table."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from segport.profiles.evidence import Formats, allowed_misfits, choose_types


def types(values: dict[str, list[Any]], previous: dict[str, str] | None = None) -> dict[str, Any]:
    con = duckdb.connect()
    names = list(values)
    rows = list(zip(*values.values(), strict=True))
    cols = ", ".join(f'"{n}" VARCHAR' for n in names)
    con.execute(f"CREATE TABLE raw ({cols})")
    con.executemany(f"INSERT INTO raw VALUES ({', '.join('?' * len(names))})", rows)
    chosen = choose_types(con, "raw", names, Formats(), previous)
    return {n: (c.type, c.bad, c.examples) for n, c in chosen.items()}


def test_one_bad_value_in_ten_thousand_keeps_a_number_column() -> None:
    values = [str(i) for i in range(10_000)]
    values[5] = "n/a"
    assert types({"v": values})["v"] == ("BIGINT", 1, ["n/a"])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "2.5", "3"] * 5, "DOUBLE"),
        (["007", "123", "042"] * 5, "VARCHAR"),  # leading zeros: identifiers
        (["true", "false"] * 5, "BOOLEAN"),
        (["2026-01-01", "2026-02-01"] * 5, "DATE"),
        (["2026-01-01", "2026-02-01 10:00:00"] * 5, "TIMESTAMP"),
        (["1", "x"] * 5, "VARCHAR"),
        ([None] * 5, "VARCHAR"),
    ],
)
def test_types(values: list[Any], expected: str) -> None:
    assert types({"v": values})["v"][0] == expected


def test_a_previous_type_that_still_fits_is_kept() -> None:
    assert types({"v": ["1", "2"] * 5}, {"v": "VARCHAR"})["v"][0] == "VARCHAR"
    assert types({"v": ["2026-01-01"] * 5}, {"v": "TIMESTAMP"})["v"][0] == "TIMESTAMP"
    assert types({"v": [None] * 5}, {"v": "numeric"})["v"][0] == "DOUBLE"
    assert types({"v": ["1", "2"] * 5}, {"v": "DOUBLE"})["v"][0] == "DOUBLE"


def test_allowed_misfits() -> None:
    assert [allowed_misfits(n) for n in (1, 9, 10, 999, 1000, 5000)] == [0, 0, 1, 1, 1, 5]

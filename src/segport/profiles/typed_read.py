"""The fast way to load a CSV file: one read with the types DuckDB's sniffer found.

When DuckDB converts every value of the file to the types its sniffer found in a sample,
those columns are proven on the whole file and the table is built in one read, as fast as
DuckDB reads CSV. Only the text columns then need the whole-file evidence (a bad value in
the sample makes the sniffer call a number column text): a text column whose values
nearly all fit a type is converted in place, and its misfits are reported by line.

When DuckDB could not convert some value (a bad value past the sample), or a column would
change the type it had before, this gives up and the caller reads the file as text
(:mod:`segport.profiles.loading`): no row is ever dropped for a bad value.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from segport.profiles.evidence import GUESSED, ColumnType, Formats, choose_types, convert, quote
from segport.profiles.evidence import native_for as previous_native
from segport.profiles.problems import Problems, cells_by_reread, collect_rejected
from segport.profiles.types import duckdb_logical

REJECTS = "segport_typed_rejects"


def read_typed(
    con: Any,
    source: Path,
    staging: str,
    reader: Callable[[str], str],
    formats: Formats,
    previous: dict[str, str],
    problems: Problems,
) -> dict[str, ColumnType] | None:
    """Build ``staging`` from ``source`` in one typed read; None when the text way is needed
    (``staging`` is then dropped). Fills ``problems`` when it succeeds."""
    options = f", rejects_table = '{REJECTS}', rejects_scan = '{REJECTS}_scans'"
    con.execute(
        f"CREATE OR REPLACE TABLE {quote(staging)} AS SELECT * FROM {reader(options)}",
        [str(source)],
    )
    cast = con.execute(f"SELECT count(*) FROM {REJECTS} WHERE error_type = 'CAST'").fetchone()
    rows = con.execute(f"DESCRIBE {quote(staging)}").fetchall()
    described = [(str(r[0]), str(r[1])) for r in rows]
    if cast[0] or not _agrees(described, previous):
        con.execute(f"DROP TABLE {quote(staging)}")
        return None
    text = [name for name, native in described if native == "VARCHAR"]
    evidence = choose_types(con, staging, text, formats, previous) if text else {}
    for name, native in described:
        if name not in evidence:
            evidence[name] = ColumnType(name, native)
    retyped = {n: c for n, c in evidence.items() if n in text and c.type != "VARCHAR"}
    for name, col in retyped.items():
        con.execute(
            f"ALTER TABLE {quote(staging)} ALTER {quote(name)} SET DATA TYPE {col.type} "
            f"USING {convert(name, col.type, formats)}"
        )
    problems.rejected, problems.rejected_total = collect_rejected(con, source, REJECTS)
    problems.bad_cells, problems.bad_cells_total = cells_by_reread(
        con, reader, source, retyped, formats, REJECTS
    )
    return {name: evidence[name] for name, _native in described}


def _agrees(described: list[tuple[str, str]], previous: dict[str, str]) -> bool:
    """Every typed column has a type the text way would give it too."""
    for name, native in described:
        if native == "VARCHAR":
            continue  # the evidence decides below
        if native not in GUESSED:
            return False
        if name in previous and duckdb_logical(previous_native(previous[name])) != duckdb_logical(
            native
        ):
            return False
    return True

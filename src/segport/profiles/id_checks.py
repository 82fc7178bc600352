"""The id column's checks before loaded profiles replace the old ones: present, readable,
never empty, never repeated (each profile needs its own id)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segport.profiles.errors import ProfileError
from segport.profiles.problems import expected_name

if TYPE_CHECKING:
    from segport.profiles.loading import LoadReport


def quote_identifier(name: str) -> str:
    """A DuckDB identifier for a column name read from the file (quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def check_ids(con: Any, staging: str, report: LoadReport) -> None:
    """The id column is in ``staging``, readable, never empty and never repeated; else
    stop the load with what to fix."""
    id_col = report.id_column
    if id_col not in report.columns:
        close = [c for c in report.columns if c.lower() == id_col.lower()]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ProfileError(
            f"{report.file} has no id column {id_col!r}{hint}; its columns are: "
            f"{', '.join(report.columns)}. Name the id column",
            code="id_column_missing",
            field="id_column",
        )
    evidence = report.evidence.get(id_col)
    if evidence is not None and evidence.bad:
        cells = [c for c in report.problems.bad_cells if c.column == id_col][:5]
        where = ", ".join(
            f"line {c.line if c.line is not None else '?'}: {c.value!r}" for c in cells
        )
        kind = expected_name(evidence.type)
        raise ProfileError(
            f"{report.file}: {evidence.bad} {id_col} value(s) are not {kind}s "
            f"like the rest of the column ({where}); every profile needs a readable id. "
            "Fix them, then load again"
        )
    col, table = quote_identifier(id_col), quote_identifier(staging)
    empty = con.execute(f"SELECT count(*) FROM {table} WHERE {col} IS NULL").fetchone()[0]
    if empty:
        raise ProfileError(
            f"{report.file}: {empty} row(s) have no {id_col}; every profile needs an id. "
            "Fill them in or remove those rows, then load again"
        )
    dupes = con.execute(
        f"SELECT {col}, count(*) AS n FROM {table} GROUP BY {col} HAVING count(*) > 1 "
        f"ORDER BY n DESC, {col} LIMIT 5"
    ).fetchall()
    if dupes:
        total = con.execute(
            f"SELECT count(*) FROM (SELECT {col} FROM {table} GROUP BY {col} HAVING count(*) > 1)"
        ).fetchone()[0]
        examples = ", ".join(f"{v!r} ({n} rows)" for v, n in dupes)
        raise ProfileError(
            f"{report.file}: {total} {id_col} value(s) appear more than once, e.g. {examples}; "
            "each profile must have its own id. Remove the duplicates, then load again"
        )

"""Column types from evidence of the whole file, not from a sample one bad value can flip.

Text formats (CSV, JSON Lines) are first read with every column as text into a temporary
table. One aggregate query then counts, per column, the non-empty values and how many of
them read as a number, a whole number, a boolean, a date or a timestamp; a column takes
the most specific type nearly all of its values fit (at most 1 in 1,000 may not; 1 in a
file of 10 to 999 values). The values that do not fit become empty cells, each reported.

Values that would lose characters as a number (a leading ``0`` or ``+``: phone numbers,
postcodes) are not evidence of a number, as in DuckDB's own sniffer. On a reload, a column
keeps its previous type when the new values fit it (text always fits), so a column does
not change type because its values happen to allow a narrower one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from segport.profiles.types import duckdb_logical

GUESSED = ("BIGINT", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP", "VARCHAR")
EXAMPLES = 3


@dataclass(frozen=True)
class Formats:
    """Date and timestamp formats DuckDB's sniffer found (None: ISO 8601)."""

    date: str | None = None
    timestamp: str | None = None


@dataclass
class ColumnType:
    name: str
    type: str  # the DuckDB type the column is loaded as
    values: int = 0  # non-empty values in the file
    fitting: dict[str, int] = field(default_factory=dict)  # type -> values that fit it
    bad: int = 0  # non-empty values that do not fit ``type``: loaded empty
    examples: list[str] = field(default_factory=list)  # a few of them
    # When the type differs from the previous profiles': what in the file explains it.
    change: str | None = None

    def misfits(self, native: str) -> int:
        """How many values do not fit ``native`` (for messages about type changes)."""
        return self.values - self.fitting.get(native, self.values)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def allowed_misfits(values: int) -> int:
    return max(values // 1000, 1 if values >= 10 else 0)


def _numeric_start(c: str) -> str:
    # Digits, '-' or '.' first, and no leading zero before another digit.
    return (
        f"(ascii({c}) BETWEEN 48 AND 57 OR ascii({c}) IN (45, 46)) AND NOT "
        f"(ascii({c}) = 48 AND ascii(substr({c}, 2, 1)) BETWEEN 48 AND 57)"
    )


def _temporal(c: str, kind: str, fmt: str | None) -> str:
    if fmt:
        return f"try_strptime({c}, {literal(fmt)})::{kind}"
    return f"TRY_CAST({c} AS {kind})"


def convert(name: str, native: str, formats: Formats) -> str:
    """SQL turning the text column ``name`` into ``native`` (NULL where it does not fit)."""
    c = quote(name)
    if native == "DATE":
        return _temporal(c, "DATE", formats.date)
    if native == "TIMESTAMP":
        return _temporal(c, "TIMESTAMP", formats.timestamp)
    if native in ("BIGINT", "DOUBLE", "BOOLEAN"):
        return f"TRY_CAST({c} AS {native})"
    return c


def _evidence_sql(name: str, formats: Formats) -> list[str]:
    c = quote(name)
    num = _numeric_start(c)
    return [
        f"count({c})",
        f"count(*) FILTER (WHERE {num} AND regexp_full_match({c}, '-?[0-9]+') "
        f"AND TRY_CAST({c} AS BIGINT) IS NOT NULL)",
        f"count(*) FILTER (WHERE {num} AND TRY_CAST({c} AS DOUBLE) IS NOT NULL)",
        f"count(*) FILTER (WHERE lower(trim({c})) IN ('true', 'false'))",
        # A date is the date alone: DuckDB reads '2026-01-01 10:00' as a date too.
        f"count(*) FILTER (WHERE {num} AND length({c}) <= 10 AND "
        f"{_temporal(c, 'DATE', formats.date)} IS NOT NULL)",
        f"count(*) FILTER (WHERE {num} AND {_temporal(c, 'TIMESTAMP', formats.timestamp)} "
        "IS NOT NULL)",
    ]


def _fits(values: int, fitting: int) -> bool:
    return values > 0 and values - fitting <= allowed_misfits(values)


def _choose(col: ColumnType, previous: str | None) -> str:
    f, n = col.fitting, col.values
    if n == 0:
        return _native_for(previous) if previous else "VARCHAR"
    guess = "VARCHAR"
    if _fits(n, f["DOUBLE"]):
        guess = "BIGINT" if f["BIGINT"] == f["DOUBLE"] else "DOUBLE"
    elif _fits(n, f["BOOLEAN"]):
        guess = "BOOLEAN"
    elif _fits(n, f["TIMESTAMP"]):
        guess = "DATE" if f["DATE"] == f["TIMESTAMP"] else "TIMESTAMP"
    if previous is None:
        return guess
    before = _native_for(previous)
    was, now = duckdb_logical(before), duckdb_logical(guess)
    if was == now:
        return before if before in GUESSED else guess
    # The previous type still holds these values: keep it (text holds anything).
    if was == "text" or (was == "timestamp" and now == "date"):
        return before
    return guess


def _native_for(previous: str) -> str:
    """The loadable DuckDB type for a previous column type (DuckDB's or PostgreSQL's)."""
    from segport.profiles.types import postgres_logical

    upper = previous.upper()
    if upper in GUESSED:
        return upper
    logical = duckdb_logical(previous)
    if logical == "other":
        logical = postgres_logical(previous)
    return {
        "number": "BIGINT" if "INT" in upper else "DOUBLE",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
        "boolean": "BOOLEAN",
    }.get(logical, "VARCHAR")


def choose_types(
    con: Any,
    raw: str,
    names: list[str],
    formats: Formats,
    previous: dict[str, str] | None = None,
) -> dict[str, ColumnType]:
    """Each text column of table ``raw`` with the type the whole of it supports.

    ``previous``: column -> native type of the table this load replaces (None: guess
    afresh). Bad values are counted and a few kept as examples.
    """
    previous = previous or {}
    parts = [sql for name in names for sql in _evidence_sql(name, formats)]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {quote(raw)}").fetchone()
    width = len(parts) // max(len(names), 1)
    columns: dict[str, ColumnType] = {}
    for i, name in enumerate(names):
        n, big, dbl, boolean, day, ts = (int(v) for v in row[i * width : (i + 1) * width])
        col = ColumnType(name, "VARCHAR", n)
        col.fitting = {
            "BIGINT": big,
            "DOUBLE": dbl,
            "BOOLEAN": boolean,
            "DATE": day,
            "TIMESTAMP": ts,
            "VARCHAR": n,
        }
        col.type = _choose(col, previous.get(name))
        columns[name] = col
        if name in previous:
            _explain_change(con, raw, col, _native_for(previous[name]), formats)
    _count_bad(con, raw, [c for c in columns.values() if c.type != "VARCHAR"], formats)
    return columns


def _explain_change(con: Any, raw: str, col: ColumnType, before: str, formats: Formats) -> None:
    was = duckdb_logical(before)
    if was == duckdb_logical(col.type):
        return
    c, fits = quote(col.name), convert(col.name, before, formats)
    rows = con.execute(
        f"SELECT DISTINCT {c} FROM {quote(raw)} WHERE {c} IS NOT NULL AND {fits} IS NULL "
        f"LIMIT {EXAMPLES}"
    ).fetchall()
    misfits = con.execute(
        f"SELECT count(*) FROM {quote(raw)} WHERE {c} IS NOT NULL AND {fits} IS NULL"
    ).fetchone()[0]
    examples = ", ".join(repr(str(r[0])) for r in rows)
    if misfits:
        col.change = f"{misfits:,} of {col.values:,} values are not {was}s, e.g. {examples}"


def _count_bad(con: Any, raw: str, typed: list[ColumnType], formats: Formats) -> None:
    if not typed:
        return
    parts = [
        f"count({quote(c.name)}) - count({convert(c.name, c.type, formats)})" for c in typed
    ]
    counts = con.execute(f"SELECT {', '.join(parts)} FROM {quote(raw)}").fetchone()
    for col, bad in zip(typed, counts, strict=True):
        col.bad = int(bad)
        if col.bad:
            c = quote(col.name)
            rows = con.execute(
                f"SELECT DISTINCT {c} FROM {quote(raw)} WHERE {c} IS NOT NULL AND "
                f"{convert(col.name, col.type, formats)} IS NULL LIMIT {EXAMPLES}"
            ).fetchall()
            col.examples = [str(r[0]) for r in rows]


def select_list(columns: dict[str, ColumnType], formats: Formats, blank_invalid: bool) -> str:
    """The SELECT list building the typed table from the text one.

    ``blank_invalid``: text cells holding U+FFFD (bytes that were not valid UTF-8) load
    empty, like any other value that cannot be read.
    """
    items = []
    for col in columns.values():
        expr = convert(col.name, col.type, formats)
        if col.type == "VARCHAR" and blank_invalid:
            c = quote(col.name)
            expr = f"CASE WHEN strpos({c}, '\ufffd') > 0 THEN NULL ELSE {c} END"
        items.append(f"{expr} AS {quote(col.name)}")
    return ", ".join(items)

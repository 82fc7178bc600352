"""Column types from evidence of the whole file, not from a sample one bad value can flip.

The columns are text in a DuckDB table (the whole file read as text, or the columns of a
CSV that DuckDB's sniffer left as text). Aggregate queries count, per column, the
non-empty values and how many of them read as a number, a whole number, a boolean, a date
or a timestamp; a column takes
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
    # A digit, '-' or '.' first. Plain string comparisons: DuckDB keeps a short prefix of
    # every string inline, so these cost about as little as counting.
    return f"(({c} >= '0' AND {c} < ':') OR ({c} >= '-' AND {c} < '/'))"


def _leading_zero(c: str) -> str:
    return f"({c} >= '00' AND {c} < '0:')"  # '0' then a digit: '007', '0123 456'


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


def _screen_sql(name: str) -> list[str]:
    """Cheap counts over every column: values, number-like starts, leading zeros, booleans."""
    c = quote(name)
    return [
        f"count({c})",
        f"count(*) FILTER (WHERE {_numeric_start(c)})",
        f"count(*) FILTER (WHERE {_leading_zero(c)})",
        f"count(*) FILTER (WHERE {c} IN ('true', 'false', 'TRUE', 'FALSE', 'True', 'False'))",
    ]


def _numeric_sql(name: str, formats: Formats) -> list[str]:
    c = quote(name)
    ok = f"{_numeric_start(c)} AND NOT {_leading_zero(c)}"
    return [
        f"count(*) FILTER (WHERE {ok} AND TRY_CAST({c} AS DOUBLE) IS NOT NULL)",
        # Whole numbers only: DuckDB rounds '1.5' when it casts it to BIGINT.
        f"count(*) FILTER (WHERE {ok} AND TRY_CAST({c} AS BIGINT) = TRY_CAST({c} AS DOUBLE))",
    ]


def _temporal_sql(name: str, formats: Formats) -> list[str]:
    c = quote(name)
    return [
        # A date is the date alone: DuckDB reads '2026-01-01 10:00' as a date too.
        f"count(*) FILTER (WHERE {_numeric_start(c)} AND strlen({c}) <= 10 AND "
        f"{_temporal(c, 'DATE', formats.date)} IS NOT NULL)",
        f"count(*) FILTER (WHERE {_numeric_start(c)} AND "
        f"{_temporal(c, 'TIMESTAMP', formats.timestamp)} IS NOT NULL)",
    ]


FAMILIES = {
    "numeric": (_numeric_sql, ("DOUBLE", "BIGINT")),
    "temporal": (_temporal_sql, ("DATE", "TIMESTAMP")),
}


def _fits(values: int, fitting: int) -> bool:
    return values > 0 and values - fitting <= allowed_misfits(values)


def _choose(col: ColumnType, previous: str | None) -> str:
    f, n = col.fitting, col.values
    if n == 0:
        return native_for(previous) if previous else "VARCHAR"
    guess = "VARCHAR"
    if _fits(n, f["DOUBLE"]):
        guess = "BIGINT" if f["BIGINT"] == f["DOUBLE"] else "DOUBLE"
    elif _fits(n, f["BOOLEAN"]):
        guess = "BOOLEAN"
    elif _fits(n, f["TIMESTAMP"]):
        guess = "DATE" if f["DATE"] == f["TIMESTAMP"] else "TIMESTAMP"
    if previous is None:
        return guess
    before = native_for(previous)
    was, now = duckdb_logical(before), duckdb_logical(guess)
    if was == now:
        return before if before in GUESSED else guess
    # The previous type still holds these values: keep it (text holds anything).
    if was == "text" or (was == "timestamp" and now == "date"):
        return before
    return guess


def native_for(previous: str) -> str:
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
    hints: dict[str, str] | None = None,
) -> dict[str, ColumnType]:
    """Each text column of table ``raw`` with the type the whole of it supports.

    ``previous``: column -> native type of the table this load replaces (None: guess
    afresh). ``hints``: column -> the type a sample suggests (only decides which casts are
    tried first). Bad values are counted and a few kept as examples.
    """
    previous = previous or {}
    table = quote(raw)
    parts = [sql for name in names for sql in _screen_sql(name)]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {table}").fetchone()
    columns: dict[str, ColumnType] = {}
    castable: list[str] = []
    for i, name in enumerate(names):
        n, starts, zeros, boolean = (int(v) for v in row[i * 4 : (i + 1) * 4])
        col = ColumnType(name, "VARCHAR", n)
        col.fitting = dict.fromkeys(("BIGINT", "DOUBLE", "DATE", "TIMESTAMP"), 0)
        col.fitting.update(BOOLEAN=boolean, VARCHAR=n)
        columns[name] = col
        if n and n - starts <= allowed_misfits(n):
            castable.append(name)
            col.fitting["zeros"] = zeros
    # A cast that fails costs far more than one that works, so each column first tries
    # the family DuckDB's sniffer saw in its sample, and the other only if that one fails.
    hints = hints or {}
    first = {
        n: "temporal" if duckdb_logical(hints.get(n, "")) in ("date", "timestamp") else "numeric"
        for n in castable
    }
    pending = [(n, first[n]) for n in castable]
    for _round in range(2):
        if not pending:
            break
        parts = [sql for name, fam in pending for sql in FAMILIES[fam][0](name, formats)]
        row = con.execute(f"SELECT {', '.join(parts)} FROM {table}").fetchone()
        retry = []
        for i, (name, fam) in enumerate(pending):
            col, kinds = columns[name], FAMILIES[fam][1]
            col.fitting.update(zip(kinds, (int(v) for v in row[i * 2 : (i + 1) * 2]), strict=True))
            if not _fits(col.values, col.fitting[kinds[0] if fam == "numeric" else kinds[1]]):
                retry.append((name, "temporal" if fam == "numeric" else "numeric"))
        pending = [p for p in retry if p[0] in castable and _round == 0]
    for name, col in columns.items():
        col.fitting.pop("zeros", None)
        col.type = _choose(col, previous.get(name))
        if name in previous:
            _explain_change(con, raw, col, native_for(previous[name]), formats)
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
    # Every value fit the strict evidence: none can fail the (more lenient) conversion.
    typed = [c for c in typed if c.fitting.get(c.type, 0) < c.values]
    if not typed:
        return
    parts = [f"count({quote(c.name)}) - count({convert(c.name, c.type, formats)})" for c in typed]
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

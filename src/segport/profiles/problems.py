"""What went wrong in a file, and where: rows that could not be split into columns, cells
whose value does not fit the column's type, lines whose bytes are not valid text.

A bad cell is loaded empty and reported (line, column, value); a row that cannot be split
is skipped and reported; ``--strict`` refuses the load on any of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segport.profiles.encoding import BadBytes
from segport.profiles.errors import ProfileError
from segport.profiles.evidence import ColumnType, Formats, convert, literal, quote
from segport.profiles.types import duckdb_logical

KEEP = 100_000  # problems of each kind kept for the report and --rejects; all are counted
SHOW = 20  # problems an error message lists
_VALUE = re.compile(r'Could not convert string "(.*)" to')


@dataclass(frozen=True)
class RejectedRow:
    """A row that could not be read at all (skipped)."""

    line: int | None
    reason: str
    text: str | None = None


@dataclass(frozen=True)
class BadCell:
    """A value that does not fit its column's type (the cell is loaded empty)."""

    line: int | None
    column: str
    value: str
    expected: str  # the column's logical type

    @property
    def reason(self) -> str:
        return f"column {self.column}: {self.value!r} is not a {self.expected}"


@dataclass
class Problems:
    rejected: list[RejectedRow] = field(default_factory=list)
    rejected_total: int = 0
    bad_cells: list[BadCell] = field(default_factory=list)
    bad_cells_total: int = 0
    bad_bytes: list[BadBytes] = field(default_factory=list)
    bad_bytes_total: int = 0

    @property
    def total(self) -> int:
        return self.rejected_total + self.bad_cells_total + self.bad_bytes_total

    def lines(self) -> list[tuple[int | None, str, str | None]]:
        """(line, reason, text) of every kept problem, by line."""
        out: list[tuple[int | None, str, str | None]] = [
            (r.line, r.reason, r.text) for r in self.rejected
        ]
        out += [(c.line, c.reason, None) for c in self.bad_cells]
        out += [
            (b.line, f"byte {b.column} (0x{b.byte:02x}) is not valid UTF-8", b.text)
            for b in self.bad_bytes
        ]
        return sorted(out, key=lambda p: (p[0] is None, p[0] or 0))


def expected_name(native: str) -> str:
    return {"number": "number", "date": "date", "timestamp": "timestamp"}.get(
        duckdb_logical(native), "boolean" if native == "BOOLEAN" else native.lower()
    )


def cells_by_row(
    con: Any, raw: str, columns: dict[str, ColumnType], formats: Formats, line_of: Any
) -> tuple[list[BadCell], int]:
    """Bad cells of the text table ``raw`` by its row order; ``line_of(rowid)`` gives the
    file line (JSON Lines: one record per line, so the row order tells the line)."""
    cells: list[BadCell] = []
    for col in columns.values():
        if not col.bad:
            continue
        c = quote(col.name)
        rows = con.execute(
            f"SELECT rowid, {c} FROM {quote(raw)} WHERE {c} IS NOT NULL AND "
            f"{convert(col.name, col.type, formats)} IS NULL ORDER BY rowid LIMIT {KEEP}"
        ).fetchall()
        cells += [
            BadCell(line_of(int(r)), col.name, str(v), expected_name(col.type)) for r, v in rows
        ]
    cells.sort(key=lambda b: (b.line or 0, b.column))
    return cells[:KEEP], sum(c.bad for c in columns.values())


def cells_by_reread(
    con: Any,
    reader: Callable[[str], str],
    source: Path,
    columns: dict[str, ColumnType],
    formats: Formats,
    rejects: str = "segport_rejects",
) -> tuple[list[BadCell], int]:
    """Bad cells of a CSV file, with DuckDB's line numbers: the file is read again with the
    chosen types for the columns that have bad cells, and DuckDB's rejects table says
    where each value that does not convert is. Only done when there are bad cells."""
    bad = [c for c in columns.values() if c.bad]
    total = sum(c.bad for c in bad)
    if not bad:
        return [], 0
    types = ", ".join(f"{literal(c.name)}: {literal(c.type)}" for c in bad)
    options = f", types = {{{types}}}, rejects_table = 'segport_cell_rejects', "
    options += "rejects_scan = 'segport_cell_scans'"
    if formats.date:
        options += f", dateformat = {literal(formats.date)}"
    if formats.timestamp:
        options += f", timestampformat = {literal(formats.timestamp)}"
    maxes = ", ".join(f"max({quote(c.name)})" for c in bad)
    con.execute(f"SELECT {maxes} FROM {reader(options)}", [str(source)]).fetchall()
    rows = con.execute(
        # Rows that cannot be split are reported (and skipped) already.
        "SELECT line, line_byte_position, column_name, error_message FROM segport_cell_rejects "
        "WHERE error_type = 'CAST' AND line NOT IN "
        f"(SELECT line FROM {rejects} WHERE error_type <> 'CAST') "
        f"ORDER BY line, column_idx LIMIT {KEEP}"
    ).fetchall()
    kinds = {c.name: expected_name(c.type) for c in bad}
    lines = file_lines(source, [r[1] for r in rows])
    cells = []
    for line, at, column, message in rows:
        found = _VALUE.search(str(message))
        value = found.group(1) if found else "?"
        number = lines.get(at, int(line))
        cells.append(BadCell(number, str(column), value, kinds.get(str(column), "value")))
    if len(cells) < min(total, KEEP):
        # DuckDB's reader accepted a value segport's cast did not: report it without a line.
        seen = {(c.column, c.value) for c in cells}
        for col in bad:
            for example in col.examples:
                if (col.name, example) not in seen and len(cells) < KEEP:
                    cells.append(BadCell(None, col.name, example, kinds[col.name]))
    return cells, total


def collect_rejected(
    con: Any, source: Path, table: str = "segport_rejects"
) -> tuple[list[RejectedRow], int]:
    """Rows DuckDB could not split into the file's columns (DuckDB's rejects table)."""
    # DuckDB reports a short line once per missing column: one reason per line is enough.
    total = con.execute(
        f"SELECT count(DISTINCT line) FROM {table} WHERE error_type <> 'CAST'"
    ).fetchone()[0]
    rows = con.execute(
        "SELECT DISTINCT ON (line) line, line_byte_position, column_name, error_type, "
        f"error_message, csv_line FROM {table} WHERE error_type <> 'CAST' "
        f"ORDER BY line, column_idx LIMIT {KEEP}"
    ).fetchall()
    lines = file_lines(source, [r[1] for r in rows])
    return [
        RejectedRow(
            lines.get(at, int(line)) if line is not None else None,
            _reason(column, kind, message),
            str(text).strip("\r\n") if text is not None else text,
        )
        for line, at, column, kind, message, text in rows
    ], int(total)


def file_lines(source: Path, positions: list[Any]) -> dict[int, int]:
    """The line of ``source`` (as an editor counts it) that starts at each byte position.

    DuckDB's ``line`` counts records: a quoted value holding line breaks is one line to
    it, so every later line number would be off by as many breaks. Its byte positions
    are exact; the file is read once, only when there are problems to report.
    """
    wanted = sorted({int(p) for p in positions if p is not None})
    found: dict[int, int] = {}
    if not wanted:
        return found
    newlines, offset, i = 0, 0, 0
    with source.open("rb") as fh:
        while i < len(wanted) and (chunk := fh.read(1 << 20)):
            end = offset + len(chunk)
            while i < len(wanted) and wanted[i] <= end:
                found[wanted[i]] = newlines + chunk.count(b"\n", 0, wanted[i] - offset) + 1
                i += 1
            newlines += chunk.count(b"\n")
            offset = end
    return found


def _reason(column: Any, kind: Any, message: Any) -> str:
    where = f"column {column}: " if column else ""
    text = str(message).strip()
    first = text.splitlines()[0] if text else str(kind)
    return f"{where}{str(kind).lower()}: {first}"


def write_rejects(path: Path, problems: Problems) -> None:
    """Every kept problem as CSV: line, reason, text."""
    import csv

    try:
        with path.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["line", "reason", "text"])
            out.writerows(problems.lines())
    except OSError as exc:
        raise ProfileError(
            f"cannot write the rejects file {path}: {exc.strerror or exc}",
            code="rejects_unwritable",
            field="rejects",
        ) from exc


class LoadRefused(ProfileError):
    """``--strict``: the file has problems, so nothing was loaded."""

    default_code = "profiles_load_refused"


def refuse(file: str, problems: Problems, rejects_file: str | None) -> LoadRefused:
    parts = []
    if problems.bad_cells_total:
        parts.append(f"{problems.bad_cells_total:,} value(s) that do not fit their column")
    if problems.rejected_total:
        parts.append(f"{problems.rejected_total:,} row(s) that cannot be read")
    if problems.bad_bytes_total:
        parts.append(f"{problems.bad_bytes_total:,} line(s) with bytes that are not valid UTF-8")
    lines = [f"strict load: {file} has {', '.join(parts)}; nothing was loaded:"]
    for line, reason, text in problems.lines()[:SHOW]:
        where = f"line {line}" if line is not None else "line ?"
        lines.append(f"  {where}: {reason}" + (f"  | {text}" if text else ""))
    if problems.total > SHOW:
        lines.append(f"  ... and {problems.total - SHOW:,} more")
    if rejects_file:
        lines.append(f"Every problem found is in {rejects_file}.")
    elif problems.total > SHOW:
        lines.append("A rejects file lists them all.")
    lines.append(
        "Fix the file and load again, or load it not strictly (bad values load empty and "
        "are reported; rows that cannot be read are skipped and reported)."
    )
    return LoadRefused("\n".join(lines), field="strict")

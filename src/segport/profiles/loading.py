"""Loading CSV, Parquet and JSON Lines files into the embedded DuckDB store.

No customer is lost to a loading problem. Each column's type is decided on evidence from
the whole file (:mod:`segport.profiles.evidence`): a CSV whose values all fit the types
DuckDB's sniffer found loads in one typed read, its text columns checked afterwards
(:mod:`segport.profiles.typed_read`); otherwise, and for JSON Lines, the file is read with
every column as text and typed from there. A value that does not fit its column's type
loads as an empty cell and is reported with its line, column and value. Rows that cannot
be split into columns (CSV) and lines that are not JSON objects are skipped and reported.
``strict`` refuses the load on any of these instead.

The typed table is built as a staging table inside one transaction; the id column is
checked (present, no empty or duplicate ids), then the caller's ``check`` (segments and
exports still find their columns with their types) runs, and only then does the staging
table replace the target. Any stop leaves the store exactly as it was.
"""

from __future__ import annotations

import re
import tempfile
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segport.profiles.errors import ProfileError
from segport.profiles.evidence import ColumnType, Formats, choose_types, literal, select_list
from segport.profiles.id_checks import check_ids
from segport.profiles.problems import (
    KEEP,
    BadCell,
    Problems,
    RejectedRow,
    cells_by_reread,
    cells_by_row,
    collect_rejected,
    refuse,
    write_rejects,
)
from segport.profiles.sources import clean_jsonl, prepare
from segport.profiles.store import connect_embedded

if TYPE_CHECKING:
    from segport.profiles.postgres_load import PostgresTarget

FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
STAGING = "_segport_staging"
RAW = "_segport_raw"  # the file with every column as text (a temporary table)
KEEP_REJECTED = KEEP

__all__ = ["BadCell", "LoadReport", "RejectedRow", "load_file"]


@dataclass
class LoadReport:
    file: str
    format: str
    table: str
    id_column: str
    rows: int = 0
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # column -> DuckDB type
    problems: Problems = field(default_factory=Problems)
    # Text formats: each column's type and the evidence for it.
    evidence: dict[str, ColumnType] = field(default_factory=dict)
    rejects_file: str | None = None  # every problem, when asked for
    seconds: float = 0.0
    into: str | None = None  # the PostgreSQL database loaded into (None: the embedded store)

    @property
    def rejected(self) -> list[RejectedRow]:
        return self.problems.rejected

    @property
    def rejected_total(self) -> int:
        return self.problems.rejected_total


Check = Callable[[LoadReport], None]


def file_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise ProfileError(
            f"{path}: cannot tell the format from its name; use .csv (or .tsv, .txt), "
            ".parquet, or .jsonl (.ndjson, .json with one object per line)"
        )
    return fmt


def check_table_name(name: str) -> None:
    if not IDENTIFIER.fullmatch(name):
        raise ProfileError(
            f"the table name {name!r} is not usable: use letters, digits and _, "
            "starting with a letter or _",
            code="table_name_invalid",
            field="table",
        )


def load_file(
    store_path: Path,
    file: Path,
    table: str = "customers",
    id_column: str = "customer_id",
    replace: bool = False,
    encoding: str | None = None,
    rejects_file: Path | None = None,
    *,
    strict: bool = False,
    previous: dict[str, str] | None = None,
    check: Check | None = None,
    into: PostgresTarget | None = None,
) -> LoadReport:
    """Load ``file`` into ``table`` of the DuckDB store at ``store_path``, or of the
    PostgreSQL database ``into`` (:mod:`segport.profiles.postgres_load`).

    ``rejects_file``: where to write every problem (CSV: line, reason, text).
    ``strict``: refuse the load (nothing changes) if the file has any problem.
    ``previous``: column -> type of the profiles this load replaces; a column keeps its
    type when the new values fit it. ``check`` sees the report before the table is
    replaced and may refuse by raising :class:`ProfileError`.
    """
    started = time.perf_counter()
    check_table_name(table)
    if not id_column.strip():
        raise ProfileError(
            "the id column is empty: name the column that identifies a profile",
            code="id_column_empty",
            field="id_column",
        )
    try:
        with file.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise ProfileError(f"cannot read {file}: {exc.strerror or exc}") from exc
    fmt = file_format(file)
    if into is not None:
        into.connect()
    report = LoadReport(file=str(file), format=fmt, table=table, id_column=id_column)
    report.rejects_file = str(rejects_file) if rejects_file else None
    if into is not None:
        from segport.secret import redact_url

        report.into = redact_url(into.url)  # shown to the user: never the password
    with tempfile.TemporaryDirectory(prefix="segport-load-") as tmp:
        source, report.encoding = prepare(file, fmt, encoding, Path(tmp), report.problems)
        lines: array[int] | None = None
        if fmt == "jsonl":
            source, lines = clean_jsonl(source, Path(tmp) / "clean.jsonl", report.problems)
        # Into PostgreSQL: DuckDB reads and types the file in a scratch file of its own.
        con = connect_embedded(store_path if into is None else Path(tmp) / "load.duckdb")
        try:
            _load(con, source, fmt, report, replace, lines, strict, previous, check, into)
        finally:
            con.close()
    report.seconds = time.perf_counter() - started
    return report


def _csv_reader(lenient: bool) -> Callable[[str], str]:
    """read_csv(...) with the given extra options (DuckDB sniffs the dialect)."""
    tail = ", strict_mode = false)" if lenient else ")"
    return lambda options: f"read_csv(?, store_rejects = true{options}{tail}"


def _load(
    con: Any,
    source: Path,
    fmt: str,
    report: LoadReport,
    replace: bool,
    lines: array[int] | None,
    strict: bool,
    previous: dict[str, str] | None,
    check: Check | None,
    into: PostgresTarget | None,
) -> None:
    table = report.table
    # Counted only to refuse: a replace need not read the old table.
    rows = None if replace else _existing_rows(con, table) if into is None else into.existing_rows()
    if rows is not None:
        raise ProfileError(
            f"table {table!r} already holds {rows} profiles; replace them with this file, "
            "or load into another table",
            code="table_exists",
            field="replace",
        )
    sniffed = _sniff(con, source) if fmt == "csv" else None
    # JSON Lines: read before the transaction, where row ids count records from 0.
    build = _read_text(con, source, fmt, report, lines, previous, None) if fmt == "jsonl" else None
    con.execute("BEGIN TRANSACTION")
    try:
        if fmt == "parquet":
            _run(
                con,
                f'CREATE OR REPLACE TABLE "{STAGING}" AS SELECT * FROM read_parquet(?)',
                [str(source)],
                report,
            )
        else:
            evidence = None
            if sniffed is not None and not report.problems.bad_bytes_total:
                evidence = _typed(con, source, report, sniffed[0], sniffed[1], previous or {})
            if evidence is None:
                build = build or _read_text(con, source, fmt, report, lines, previous, sniffed)
                _run(con, f'CREATE OR REPLACE TABLE "{STAGING}" AS {build}', [], report)
            else:
                report.evidence = evidence
        described = con.execute(f'DESCRIBE "{STAGING}"').fetchall()
        report.columns = {str(r[0]): str(r[1]) for r in described}
        check_ids(con, STAGING, report)
        report.rows = con.execute(f'SELECT count(*) FROM "{STAGING}"').fetchone()[0]
        problems = report.problems
        if strict and problems.total:
            if report.rejects_file:
                write_rejects(Path(report.rejects_file), problems)
            raise refuse(report.file, problems, report.rejects_file)
        if check is not None:
            check(report)
        if report.rejects_file:
            write_rejects(Path(report.rejects_file), problems)
        if into is not None:
            into.replace_with(con, STAGING, report)
            con.execute("ROLLBACK")  # the scratch file keeps nothing
            return
        con.execute(f'DROP TABLE IF EXISTS "{table}"')
        con.execute(f'ALTER TABLE "{STAGING}" RENAME TO "{table}"')
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _existing_rows(con: Any, table: str) -> int | None:
    """How many profiles the store's ``table`` holds (None: no such table)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name = ?",
        [table],
    ).fetchone()[0]
    return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] if exists else None


def _run(con: Any, sql: str, params: list[Any], report: LoadReport) -> None:
    import duckdb

    try:
        con.execute(sql, params)
    except duckdb.Error as exc:
        raise ProfileError(
            f"cannot read {report.file} as {report.format}: {_first_line(exc)}"
        ) from exc


def _read_text(
    con: Any,
    source: Path,
    fmt: str,
    report: LoadReport,
    lines: array[int] | None,
    previous: dict[str, str] | None,
    sniffed: tuple[bool, Formats, dict[str, str]] | None,
) -> str:
    """Read a CSV or JSON Lines file as text into RAW, decide each column's type on all of
    it, find the bad cells; return the query that builds the typed table."""
    formats, hints = Formats(), dict[str, str]()
    if sniffed is not None:
        lenient, formats, hints = sniffed
        reader = _csv_reader(lenient)
        raw_sql = reader(
            ", all_varchar = true, rejects_table = 'segport_rejects', "
            "rejects_scan = 'segport_reject_scans'"
        )
    else:
        raw_sql, hints = _json_reader(con, source, report)
    _run(
        con,
        f'CREATE OR REPLACE TEMP TABLE "{RAW}" AS SELECT * FROM {raw_sql}',
        [str(source)],
        report,
    )
    names = [str(r[0]) for r in con.execute(f'DESCRIBE "{RAW}"').fetchall()]
    report.evidence = columns = choose_types(con, RAW, names, formats, previous, hints)
    problems = report.problems
    if fmt == "csv":
        problems.rejected, problems.rejected_total = collect_rejected(con, source)
        problems.bad_cells, problems.bad_cells_total = cells_by_reread(
            con, reader, source, columns, formats
        )
    else:
        problems.bad_cells, problems.bad_cells_total = cells_by_row(
            con, RAW, columns, formats, lambda row: lines[row] if lines is not None else row + 1
        )
    blank = bool(problems.bad_bytes_total)
    return f'SELECT {select_list(columns, formats, blank)} FROM "{RAW}"'


def _typed(
    con: Any,
    source: Path,
    report: LoadReport,
    lenient: bool,
    formats: Formats,
    previous: dict[str, str],
) -> dict[str, ColumnType] | None:
    import duckdb

    from segport.profiles.typed_read import read_typed

    try:
        return read_typed(
            con, source, STAGING, _csv_reader(lenient), formats, previous, report.problems
        )
    except duckdb.Error:
        # Whatever DuckDB cannot read typed, the text way reads or explains. Nothing else
        # happened in the transaction yet: start it again.
        con.execute("ROLLBACK")
        con.execute("BEGIN TRANSACTION")
        return None


def _json_reader(con: Any, source: Path, report: LoadReport) -> tuple[str, dict[str, str]]:
    """read_json(...) with every key of the file (all records looked at) read as text."""
    import duckdb

    try:
        keys = con.execute(
            "DESCRIBE SELECT * FROM read_json(?, format = 'newline_delimited', sample_size = -1)",
            [str(source)],
        ).fetchall()
    except duckdb.Error as exc:
        raise ProfileError(f"cannot read {report.file} as jsonl: {_first_line(exc)}") from exc
    columns = ", ".join(f"{literal(str(k[0]))}: 'VARCHAR'" for k in keys)
    sql = f"read_json(?, format = 'newline_delimited', columns = {{{columns}}})"
    return sql, {str(k[0]): str(k[1]) for k in keys}


def _sniff(con: Any, source: Path) -> tuple[bool, Formats, dict[str, str]]:
    """Whether the CSV needs DuckDB's lenient mode, the date formats its sniffer found and
    the types it saw in its sample (hints only: the whole file decides).

    The strict sniffer gives up on a file whose only fault is a broken line (an unclosed
    quote, say); read without strict mode, the dialect is found and the broken line goes
    to the rejects table with its line number like any other bad row.
    """
    import duckdb

    lenient = False
    try:
        row = con.execute("SELECT * FROM sniff_csv(?)", [str(source)]).fetchone()
    except duckdb.Error as exc:
        if "sniffing" not in str(exc):
            raise ProfileError(f"cannot read {source.name} as csv: {_first_line(exc)}") from exc
        lenient = True
        try:
            row = con.execute(
                "SELECT * FROM sniff_csv(?, strict_mode = false)", [str(source)]
            ).fetchone()
        except duckdb.Error:
            return lenient, Formats(), {}
    hints = {str(c["name"]): str(c["type"]) for c in row[7] or []}
    return lenient, Formats(date=row[8] or None, timestamp=row[9] or None), hints


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

"""Loading CSV, Parquet and JSON Lines files into the embedded DuckDB store.

The file is read into a staging table inside one transaction; the id column is checked
(present, no empty or duplicate ids) and only then does the staging table replace the
target. Any stop leaves the store exactly as it was. Bad rows (CSV: DuckDB's rejects
table; JSON Lines: lines that are not JSON objects) are reported with file line and
reason while the good rows load.
"""

from __future__ import annotations

import re
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segport.profiles.encoding import detect_encoding, transcode
from segport.profiles.errors import ProfileError
from segport.profiles.store import connect_embedded

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
KEEP_REJECTED = 1000  # rejected rows kept in the report; the total is always counted
MAX_TYPE_RETRIES = 100  # JSON Lines records with a value of the wrong type, set aside one by one


@dataclass(frozen=True)
class RejectedRow:
    line: int | None
    reason: str
    text: str | None = None


@dataclass
class LoadReport:
    file: str
    format: str
    table: str
    id_column: str
    rows: int = 0
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    rejected: list[RejectedRow] = field(default_factory=list)
    rejected_total: int = 0
    rejects_file: str | None = None  # every bad row, when asked for
    seconds: float = 0.0


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


def check_table_name(name: str, what: str = "--table") -> None:
    if not IDENTIFIER.fullmatch(name):
        raise ProfileError(
            f"{what} {name!r} is not a usable table name: use letters, digits and _, "
            "starting with a letter or _"
        )


def load_file(
    store_path: Path,
    file: Path,
    table: str = "customers",
    id_column: str = "customer_id",
    replace: bool = False,
    encoding: str | None = None,
    rejects_file: Path | None = None,
) -> LoadReport:
    """Load ``file`` into ``table`` of the DuckDB store at ``store_path``.

    ``rejects_file``: where to write every bad row (CSV: line, reason, text).
    """
    started = time.perf_counter()
    check_table_name(table)
    if not id_column.strip():
        raise ProfileError("--id-column is empty: name the column that identifies a profile")
    try:
        with file.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise ProfileError(f"cannot read {file}: {exc.strerror or exc}") from exc
    fmt = file_format(file)
    report = LoadReport(file=str(file), format=fmt, table=table, id_column=id_column)
    report.rejects_file = str(rejects_file) if rejects_file else None
    with tempfile.TemporaryDirectory(prefix="segport-load-") as tmp:
        if fmt == "jsonl":
            _load_jsonl(store_path, file, Path(tmp), report, replace)
        else:
            source = _prepare(file, fmt, encoding, Path(tmp), report)
            con = connect_embedded(store_path)
            try:
                _load(con, source, fmt, report, replace)
            finally:
                con.close()
    report.seconds = time.perf_counter() - started
    return report


class _BadRecord(Exception):
    """DuckDB could not convert the value of one JSON record (1-based among records)."""

    def __init__(self, record: int, reason: str) -> None:
        super().__init__(reason)
        self.record, self.reason = record, reason


_JSON_RECORD_ERROR = re.compile(r"in line (\d+): (.*)")


def _load_jsonl(store_path: Path, file: Path, tmp: Path, report: LoadReport, replace: bool) -> None:
    """Load JSON Lines; a record whose value does not fit its column's type becomes a bad
    row and the load is retried without it (DuckDB stops at the first such record)."""
    bad: list[RejectedRow] = []
    excluded: set[int] = set()
    for _attempt in range(MAX_TYPE_RETRIES + 1):
        source, lines = _clean_jsonl(file, tmp / "clean.jsonl", excluded, bad)
        con = connect_embedded(store_path)
        try:
            _load(con, source, "jsonl", report, replace)
        except _BadRecord as exc:
            line = lines[exc.record - 1] if lines is not None else exc.record
            excluded.add(line)
            bad.append(RejectedRow(line, exc.reason, _line_text(file, line)))
            continue
        finally:
            con.close()
        bad.sort(key=lambda r: r.line or 0)
        report.rejected_total = len(bad)
        report.rejected = bad[:KEEP_REJECTED]
        if report.rejects_file:
            _write_rejects(Path(report.rejects_file), bad)
        return
    raise ProfileError(
        f"{file}: more than {MAX_TYPE_RETRIES} records have values that do not fit their "
        f"column's type (e.g. line {bad[0].line}: {bad[0].reason}); fix the file and load again"
    )


def _line_text(file: Path, line: int) -> str | None:
    with file.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number == line:
                return _snippet(raw)
    return None


def _prepare(file: Path, fmt: str, encoding: str | None, tmp: Path, report: LoadReport) -> Path:
    """The file DuckDB should read: the original, or a UTF-8 / cleaned copy in ``tmp``."""
    if fmt == "csv" and not file.name.lower().endswith(".gz"):
        enc = encoding or detect_encoding(file)
        report.encoding = enc
        if codec_name(enc) != "utf-8":
            target = tmp / "utf8.csv"
            try:
                transcode(file, enc, target)
            except (UnicodeDecodeError, LookupError) as exc:
                raise ProfileError(f"{file} is not readable as {enc}: {exc}") from exc
            return target
    return file


def codec_name(enc: str) -> str:
    import codecs

    try:
        return codecs.lookup(enc).name
    except LookupError as exc:
        raise ProfileError(f"--encoding {enc!r} is not an encoding Python knows") from exc


def _clean_jsonl(
    file: Path, target: Path, excluded: set[int], bad: list[RejectedRow]
) -> tuple[Path, array[int] | None]:
    """The file DuckDB should read, and each of its records' line in ``file`` (None when
    records and lines are the same). Lines that are not JSON objects join ``bad`` once."""
    import orjson

    known = {r.line for r in bad}
    dropped = False
    with file.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip() or number in excluded:
                dropped = True
                continue
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                reason = f"not valid JSON: {exc}"
            else:
                if isinstance(value, dict):
                    continue
                reason = "not a JSON object"
            dropped = True
            excluded.add(number)
            if number not in known:
                bad.append(RejectedRow(number, reason, _snippet(raw)))
    if not dropped:
        return file, None
    lines: array[int] = array("Q")
    with file.open("rb") as src, target.open("wb") as dst:
        for number, raw in enumerate(src, start=1):
            if number not in excluded and raw.strip():
                dst.write(raw if raw.endswith(b"\n") else raw + b"\n")
                lines.append(number)
    return target, lines


def _snippet(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
    return text if len(text) <= 200 else text[:197] + "..."


def _reader_sql(fmt: str, lenient: bool = False) -> str:
    if fmt == "csv":
        return (
            "read_csv(?, store_rejects = true, rejects_table = 'segport_rejects', "
            "rejects_scan = 'segport_reject_scans'" + (", strict_mode = false)" if lenient else ")")
        )
    if fmt == "parquet":
        return "read_parquet(?)"
    return "read_json(?, format = 'newline_delimited')"


def _load(con: Any, source: Path, fmt: str, report: LoadReport, replace: bool) -> None:
    import duckdb

    table = report.table
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name = ?",
        [table],
    ).fetchone()[0]
    if exists and not replace:
        rows = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        raise ProfileError(
            f"table {table!r} already holds {rows} profiles; pass --replace to replace them "
            "with this file, or --table to load into another table"
        )
    lenient = fmt == "csv" and not _sniffs(con, source)
    con.execute("BEGIN TRANSACTION")
    try:
        try:
            con.execute(
                f'CREATE OR REPLACE TABLE "{STAGING}" AS SELECT * FROM {_reader_sql(fmt, lenient)}',
                [str(source)],
            )
        except duckdb.Error as exc:
            found = _JSON_RECORD_ERROR.search(_first_line(exc)) if fmt == "jsonl" else None
            if found:
                raise _BadRecord(int(found.group(1)), found.group(2)) from exc
            raise ProfileError(f"cannot read {report.file} as {fmt}: {_first_line(exc)}") from exc
        described = con.execute(f'DESCRIBE "{STAGING}"').fetchall()
        report.columns = {str(r[0]): str(r[1]) for r in described}
        _check_ids(con, report)
        if fmt == "csv":
            _collect_rejects(con, report)
        report.rows = con.execute(f'SELECT count(*) FROM "{STAGING}"').fetchone()[0]
        con.execute(f'DROP TABLE IF EXISTS "{table}"')
        con.execute(f'ALTER TABLE "{STAGING}" RENAME TO "{table}"')
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _sniffs(con: Any, source: Path) -> bool:
    """Whether DuckDB's sniffer finds the CSV dialect in strict mode.

    It gives up on a file whose only fault is a broken line (an unclosed quote, say);
    read without strict mode, the dialect is found and the broken line goes to the rejects
    table with its line number like any other bad row.
    """
    import duckdb

    try:
        con.execute("SELECT * FROM sniff_csv(?)", [str(source)]).fetchall()
    except duckdb.Error as exc:
        if "sniffing" in str(exc):
            return False
        raise
    return True


def quote_identifier(name: str) -> str:
    """A DuckDB identifier for a column name read from the file (quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_ids(con: Any, report: LoadReport) -> None:
    id_col = report.id_column
    if id_col not in report.columns:
        close = [c for c in report.columns if c.lower() == id_col.lower()]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ProfileError(
            f"{report.file} has no id column {id_col!r}{hint}; its columns are: "
            f"{', '.join(report.columns)}. Name the id column with --id-column"
        )
    col = quote_identifier(id_col)
    empty = con.execute(f'SELECT count(*) FROM "{STAGING}" WHERE {col} IS NULL').fetchone()[0]
    if empty:
        raise ProfileError(
            f"{report.file}: {empty} row(s) have no {id_col}; every profile needs an id. "
            "Fill them in or remove those rows, then load again"
        )
    dupes = con.execute(
        f'SELECT {col}, count(*) AS n FROM "{STAGING}" GROUP BY {col} HAVING count(*) > 1 '
        f"ORDER BY n DESC, {col} LIMIT 5"
    ).fetchall()
    if dupes:
        total = con.execute(
            f'SELECT count(*) FROM (SELECT {col} FROM "{STAGING}" GROUP BY {col} '
            "HAVING count(*) > 1)"
        ).fetchone()[0]
        examples = ", ".join(f"{v!r} ({n} rows)" for v, n in dupes)
        raise ProfileError(
            f"{report.file}: {total} {id_col} value(s) appear more than once, e.g. {examples}; "
            "each profile must have its own id. Remove the duplicates, then load again"
        )


def _write_rejects(path: Path, rows: list[RejectedRow]) -> None:
    import csv

    try:
        with path.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["line", "reason", "text"])
            out.writerows([r.line, r.reason, r.text] for r in rows)
    except OSError as exc:
        raise ProfileError(f"cannot write --rejects {path}: {exc.strerror or exc}") from exc


def _collect_rejects(con: Any, report: LoadReport) -> None:
    # DuckDB reports a short line once per missing column: one reason per line is enough.
    total = con.execute("SELECT count(DISTINCT line) FROM segport_rejects").fetchone()[0]
    rows = con.execute(
        "SELECT DISTINCT ON (line) line, column_name, error_type, error_message, csv_line "
        f"FROM segport_rejects ORDER BY line, column_idx LIMIT {KEEP_REJECTED}"
    ).fetchall()
    report.rejected_total = int(total)
    for line, column, kind, message, text in rows:
        report.rejected.append(
            RejectedRow(
                int(line) if line is not None else None,
                _reason(column, kind, message),
                str(text).strip("\r\n") if text is not None else text,
            )
        )
    if report.rejects_file:
        if total > len(rows):
            every = con.execute(
                "SELECT DISTINCT ON (line) line, column_name, error_type, error_message, "
                "csv_line FROM segport_rejects ORDER BY line, column_idx"
            ).fetchall()
        else:
            every = rows
        _write_rejects(
            Path(report.rejects_file),
            [
                RejectedRow(line, _reason(col, kind, msg), text)
                for line, col, kind, msg, text in every
            ],
        )


def _reason(column: Any, kind: Any, message: Any) -> str:
    where = f"column {column}: " if column else ""
    return f"{where}{str(kind).lower()}: {_first_line(Exception(str(message)))}"

"""`segport profiles ...` commands: load, use, schema, show.

Thin face: parse options, call one service in segport.service.profile_source, print.
Heavy libraries are imported inside the commands (``segport --help`` stays fast).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from segport.cli.context import HELP_SETTINGS
from segport.cli.text import clean
from segport.cli.workspace import JSON_OPTION, fail, print_json
from segport.cli.workspace import opened as workspace_opened

if TYPE_CHECKING:
    from segport.service import Actor, Rows, Workspace

app = typer.Typer(
    help="Load profiles, or point at a warehouse table; inspect them.",
    no_args_is_help=True,
    context_settings=HELP_SETTINGS,
)

SHOW_REJECTED = 20


@contextmanager
def opened(ctx: typer.Context) -> Iterator[tuple[Workspace, Actor]]:
    """The workspace and actor (:func:`segport.cli.workspace.opened`); a ValueError from
    reading a value the user typed becomes the same one-line message."""
    from segport.errors import SegportError

    with workspace_opened(ctx) as (ws, actor):
        try:
            yield ws, actor
        except SegportError:
            raise  # with its hint, by service_errors
        except ValueError as exc:
            fail(str(exc))


@app.command("load")
def load(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ...,
        metavar="FILE",
        help="A .csv/.tsv/.txt (or .gz), .parquet/.pq or .jsonl/.ndjson/.json file.",
    ),
    table: str = typer.Option("customers", "--table", metavar="TABLE", help="Table to load into."),
    id_column: str = typer.Option(
        "customer_id", "--id-column", metavar="COLUMN", help="The column that identifies a profile."
    ),
    replace: bool = typer.Option(False, "--replace", help="Replace the table if it exists."),
    encoding: str | None = typer.Option(
        None,
        "--encoding",
        metavar="ENCODING",
        help="Text encoding of CSV / JSON Lines (default: detected).",
    ),
    rejects: Path | None = typer.Option(
        None,
        "--rejects",
        metavar="FILE",
        help="Write every problem (line, reason, text) to this CSV file.",
    ),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="Refuse the load if any value, row or byte of the file cannot be read.",
    ),
    allow_schema_change: bool = typer.Option(
        False,
        "--allow-schema-change",
        help="Load even if a column a segment or export uses is gone or changes type "
        "(column types are then guessed afresh).",
    ),
    into: str | None = typer.Option(
        None,
        "--into",
        metavar="STORE",
        help="postgresql://USER@HOST:PORT/DATABASE to load into a PostgreSQL database (later "
        "loads go there too), or 'embedded' for the workspace's DuckDB store. Default: where "
        "the last load went.",
    ),
) -> None:
    """Load profiles from a file into the workspace's store (DuckDB, or PostgreSQL)."""
    from segport.service import load_profiles

    with opened(ctx) as (ws, actor):
        report = load_profiles(
            ws,
            actor,
            file,
            table,
            id_column,
            replace,
            encoding,
            rejects,
            strict=strict,
            allow_schema_change=allow_schema_change,
            into=into,
        )
    enc = f", {report.encoding}" if report.encoding else ""
    where = f" at {report.into}" if report.into else ""
    typer.echo(
        f"Loaded {report.rows:,} profiles into {report.table}{where} from {report.file} "
        f"({report.format}{enc}) in {report.seconds:.1f} s"
    )
    _print_problems(report)


def _print_problems(report: Any) -> None:
    """Every kind of problem the load found, first lines of each, on stderr."""
    p = report.problems
    sections = [
        (
            p.bad_cells_total,
            "value(s) did not fit their column's type and were loaded empty (the rows are kept)",
            [(c.line, c.reason, None) for c in p.bad_cells],
        ),
        (
            p.bad_bytes_total,
            "line(s) held bytes that are not valid UTF-8; those values were loaded empty",
            [
                (b.line, f"byte {b.column} (0x{b.byte:02x}) is not valid UTF-8", b.text)
                for b in p.bad_bytes
            ],
        ),
        (
            p.rejected_total,
            "bad row(s) were skipped (they cannot be split into the file's columns)",
            [(r.line, r.reason, r.text) for r in p.rejected],
        ),
    ]
    for total, title, rows in sections:
        if not total:
            continue
        typer.echo(f"{total:,} {title}:", err=True)
        for line, reason, text in rows[:SHOW_REJECTED]:
            where = f"line {line}" if line is not None else "line ?"
            shown = f"  | {clean(text)}" if text else ""
            typer.echo(f"  {where}: {clean(reason)}{shown}", err=True)
        if total > SHOW_REJECTED:
            hint = "" if report.rejects_file else " (--rejects FILE lists them all)"
            typer.echo(f"  ... and {total - SHOW_REJECTED:,} more{hint}", err=True)
    if p.total and report.rejects_file:
        typer.echo(f"Every problem is in {report.rejects_file}", err=True)
    if p.total:
        typer.echo("(--strict refuses a file with any of these)", err=True)


@app.command("use")
def use(
    ctx: typer.Context,
    url: str = typer.Argument(..., metavar="URL", help="postgresql://USER@HOST:PORT/DATABASE"),
    table: str = typer.Option(
        ..., "--table", metavar="TABLE", help="The profile table (schema.table allowed)."
    ),
    id_column: str = typer.Option(
        ..., "--id-column", metavar="COLUMN", help="Its unique profile id column."
    ),
    allow_schema_change: bool = typer.Option(
        False,
        "--allow-schema-change",
        help="Use it even if a column a segment or export uses is missing or has another type.",
    ),
) -> None:
    """Use an existing PostgreSQL table as the profile store (nothing is copied)."""
    from segport.service import use_table

    with opened(ctx) as (ws, actor):
        info = use_table(ws, actor, url, table, id_column, allow_schema_change=allow_schema_change)
    typer.echo(
        f"Using {info.table} ({info.row_count:,} profiles, id {info.id_column}) at {info.location}"
    )


@app.command("schema")
def schema(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Where the profiles are, and their attributes with types."""
    from rich.console import Console
    from rich.table import Table

    from segport.service import describe_source

    with opened(ctx) as (ws, actor):
        info = describe_source(ws, actor)
    if as_json:
        print_json(info)
        return
    rows = f", {info.row_count:,} profiles" if info.row_count is not None else ""
    managed = ", loaded by segport" if info.managed else ""
    typer.echo(
        f"{info.kind} table {info.table} (id: {info.id_column}{rows}{managed}) at {info.location}"
    )
    grid = Table("attribute", "type", "segment type")
    for name, (native, logical) in info.columns.items():
        grid.add_row(*cells(name, native, logical))
    Console().print(grid)


@app.command("show")
def show(
    ctx: typer.Context,
    limit: int = typer.Option(10, "--limit", metavar="N", help="How many profiles to show."),
    offset: int = typer.Option(0, "--offset", metavar="N", help="Skip the first N, by id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The first profiles by id (after the first --offset)."""
    from segport.service import show_profiles

    with opened(ctx) as (ws, actor):
        rows = show_profiles(ws, actor, limit, offset)
    if as_json:
        print_json(rows)
        return
    print_rows(rows)


def cells(*values: Any) -> list[Any]:
    """Values from data as rich table cells: cleaned of control characters, and as Text so
    that rich reads no markup in them (a value "[link=...]" stays text)."""
    from rich.text import Text

    return [Text(clean(v)) for v in values]


def print_rows(rows: Rows) -> None:
    """A few profiles (a preview) as a terminal table."""
    from rich.console import Console
    from rich.table import Table

    grid = Table()
    for header in cells(*rows.columns):
        grid.add_column(header)
    for row in rows.rows:
        grid.add_row(*cells(*(row.get(c) for c in rows.columns)))
    console = Console()
    console.print(grid)
    console.print(f"{rows.num_rows} row{'s' if rows.num_rows != 1 else ''}")

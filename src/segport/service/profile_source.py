"""Profile services the faces call: load a file, use a warehouse table, describe, show.

Each function checks the actor's permission first and records changes in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segport.errors import SegportError
from segport.profiles.errors import ProfileError, ProfilesNotLoaded
from segport.profiles.models import EMBEDDED, POSTGRES, ProfileSource
from segport.service import audit
from segport.service.access import Action, Actor, authorize
from segport.service.column_uses import breakages, column_uses, refusal
from segport.service.views import Rows
from segport.service.workspace import Workspace, redact_url

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from segport.profiles.loading import LoadReport


@dataclass
class SourceInfo:
    kind: str  # duckdb | postgres
    table: str
    id_column: str
    location: str  # the store file, or the redacted warehouse URL
    # PostgreSQL: loaded by segport (`profiles load --into`), not only read (`profiles use`)
    managed: bool = False
    row_count: int | None = None
    loaded_from: str | None = None
    updated_at: datetime | None = None
    # column -> (engine type, logical type)
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)


def load_profiles(
    ws: Workspace,
    actor: Actor,
    file: Path,
    table: str = "customers",
    id_column: str = "customer_id",
    replace: bool = False,
    encoding: str | None = None,
    rejects_file: Path | None = None,
    *,
    strict: bool = False,
    allow_schema_change: bool = False,
    into: str | None = None,
    shown_as: str | None = None,
) -> LoadReport:
    """Load a CSV, Parquet or JSON Lines file into the profile store and use that table.

    ``into``: a PostgreSQL URL (segport then manages that database's table: later loads
    go there too), or ``embedded`` (the workspace's DuckDB file); None: where the last
    load went (the embedded store unless that was PostgreSQL).

    Refused (nothing changes) when the new columns would break a segment or an export
    (a column they use gone, or its type changed), unless ``allow_schema_change``; and,
    with ``strict``, when the file has any bad value, unreadable row or invalid byte.

    ``shown_as``: what the profiles were loaded from, as the source and the audit name it
    (the server's uploads: the file's own name, not the temporary file it was saved to).
    """
    from segport.profiles.loading import load_file
    from segport.profiles.types import duckdb_logical

    who = authorize(ws, actor, Action.PROFILES_WRITE)
    url = _load_target(ws, into)
    old = _current_schema(ws)
    check = None
    if old is not None and not allow_schema_change:
        with ws.session() as session:
            uses = column_uses(session)
        old_logical = {name: logical for name, (_native, logical) in old.items()}

        def check(report: LoadReport) -> None:
            new = {name: duckdb_logical(native) for name, native in report.columns.items()}
            why = {n: c.change for n, c in report.evidence.items() if c.change}
            broken = breakages(uses, old_logical, new, why)
            if broken:
                raise refusal(broken, f"loading {file}")

    previous = None
    if old is not None and not allow_schema_change:
        previous = {name: native for name, (native, _logical) in old.items()}
    target = None
    if url is not None:
        from segport.profiles.postgres_load import PostgresTarget

        target = PostgresTarget(url, table)
    try:
        report = load_file(
            ws.profile_store_path,
            file,
            table,
            id_column,
            replace,
            encoding,
            rejects_file,
            strict=strict,
            previous=previous,
            check=check,
            into=target,
        )
    except SegportError as exc:
        if shown_as is not None and str(file) in exc.message:
            # the file by the name the user knows, not the server's temporary one
            exc.message = exc.message.replace(str(file), shown_as)
            exc.args = (exc.message,)
        raise
    finally:
        if target is not None:
            target.close()
    origin = shown_as or str(file)
    with ws.session() as session:
        source = session.get(ProfileSource, 1) or ProfileSource(id=1)
        source.kind = EMBEDDED if url is None else POSTGRES
        source.url, source.managed, source.table_name = url, url is not None, table
        source.id_column, source.loaded_from, source.row_count = id_column, origin, report.rows
        source.updated_at = datetime.now(UTC)
        session.add(source)
        problems = report.problems
        details = {
            "file": origin,
            "rows": report.rows,
            "rejected": problems.rejected_total,
            "bad_values": problems.bad_cells_total,
            "bad_lines": problems.bad_bytes_total,
        }
        if allow_schema_change:
            details["allow_schema_change"] = True
        if url is not None:
            details["into"] = redact_url(url)
        audit.record(session, who, "profiles.load", table, details)
    return report


def _load_target(ws: Workspace, into: str | None) -> str | None:
    """The PostgreSQL URL a load goes to, or None for the embedded store."""
    from segport.profiles.postgres_load import EMBEDDED_TARGET, is_postgres_url

    if into is None:
        with ws.session() as session:
            source = session.get(ProfileSource, 1)
            if source is not None and source.kind == POSTGRES and source.managed:
                return source.url
        return None
    if into.strip().lower() == EMBEDDED_TARGET:
        return None
    if not is_postgres_url(into):
        shown = redact_url(into) if "://" in into else into
        raise ProfileError(
            f"{shown!r} is not a profile store: give postgresql://USER@HOST:PORT/DATABASE, "
            f"or {EMBEDDED_TARGET} for the workspace's own store",
            code="into_invalid",
            field="into",
        )
    return into


def _current_schema(ws: Workspace) -> dict[str, tuple[str, str]] | None:
    """The columns of the profiles in use now (None: none yet, or unreachable)."""
    from segport.profiles.store import open_profile_store

    try:
        with open_profile_store(ws.engine, ws.path) as store:
            return store.schema()
    except ProfileError:
        return None


def use_table(
    ws: Workspace,
    actor: Actor,
    url: str,
    table: str,
    id_column: str,
    *,
    allow_schema_change: bool = False,
) -> SourceInfo:
    """Point the workspace at an existing PostgreSQL table; nothing is copied.

    Refused like a load when the table lacks a column a segment or export uses, or has it
    with another type, unless ``allow_schema_change``.
    """
    from segport.profiles.store import PostgresStore

    who = authorize(ws, actor, Action.PROFILES_WRITE)
    from segport.profiles.postgres_load import is_postgres_url

    if not is_postgres_url(url):
        raise ProfileError(
            f"{redact_url(url) if '://' in url else url!r} is not a PostgreSQL URL; give "
            "postgresql://USER@HOST:PORT/DATABASE (PostgreSQL is the warehouse supported now)",
            field="url",
        )
    if not table.strip() or not id_column.strip():
        raise ProfileError(
            "name the profile table and its id column",
            code="table_required",
            field="table" if not table.strip() else "id_column",
        )
    if not 1 <= len(table.split(".")) <= 2 or not all(p.strip() for p in table.split(".")):
        raise ProfileError(
            f"the table {table!r} must be named as TABLE or SCHEMA.TABLE (a database other "
            "than the URL's is chosen in the URL)",
            code="table_name_invalid",
            field="table",
        )
    with PostgresStore(url, table, id_column) as store:
        schema = store.schema()
        if id_column not in schema:
            raise ProfileError(
                f"table {table!r} has no column {id_column!r}; its columns are: "
                f"{', '.join(schema)}. Name the id column",
                code="id_column_missing",
                field="id_column",
            )
        from sqlglot import exp

        col = exp.column(id_column, quoted=True)
        query = exp.select(
            exp.alias_(exp.Count(this=exp.Star()), "n_rows"),
            exp.alias_(exp.Count(this=exp.Distinct(expressions=[col])), "n_distinct"),
            exp.alias_(exp.Count(this=col.copy()), "n_present"),
        ).from_(store.table_expr())
        import pyarrow as pa

        counts = pa.Table.from_batches(list(store.stream(query, 10))).to_pylist()[0]
        rows, distinct, present = counts["n_rows"], counts["n_distinct"], counts["n_present"]
        if present != rows:
            raise ProfileError(
                f"{rows - present} row(s) of {table!r} have no {id_column}", field="id_column"
            )
        if distinct != rows:
            raise ProfileError(
                f"{id_column} is not unique in {table!r} ({rows - distinct} repeated value(s)); "
                "each profile must have its own id: pick another id column or a view",
                code="id_column_not_unique",
                field="id_column",
            )
    old = None if allow_schema_change else _current_schema(ws)
    if old is not None:
        with ws.session() as session:
            uses = column_uses(session)
        before = {name: logical for name, (_native, logical) in old.items()}
        after = {name: logical for name, (_native, logical) in schema.items()}
        broken = breakages(uses, before, after)
        if broken:
            raise refusal(broken, f"using {table!r}")
    with ws.session() as session:
        source = session.get(ProfileSource, 1) or ProfileSource(id=1)
        source.kind, source.url, source.table_name = POSTGRES, url, table
        source.managed = False
        source.id_column, source.loaded_from, source.row_count = id_column, None, int(rows)
        source.updated_at = datetime.now(UTC)
        session.add(source)
        audit.record(session, who, "profiles.use", table, {"url": redact_url(url)})
    return describe_source(ws, actor)


def _loaded_source(session: Session) -> ProfileSource:
    source = session.get(ProfileSource, 1)
    if source is None:
        raise ProfilesNotLoaded(
            "this workspace has no profiles yet: load a file of profiles, or use a "
            "PostgreSQL table of them"
        )
    return source


def describe_source(ws: Workspace, actor: Actor) -> SourceInfo:
    """Where the profiles are, and their columns with engine and logical types."""
    from segport.profiles.store import open_profile_store

    authorize(ws, actor, Action.PROFILES_READ)
    with ws.session() as session:
        source = _loaded_source(session)
        info = SourceInfo(
            kind=source.kind,
            table=source.table_name,
            id_column=source.id_column,
            location=redact_url(source.url) if source.url else str(ws.profile_store_path),
            managed=source.managed,
            row_count=source.row_count,
            loaded_from=source.loaded_from,
            updated_at=source.updated_at,
        )
    with open_profile_store(ws.engine, ws.path) as store:
        info.columns = store.schema()
    return info


@dataclass
class ProfilesOverview:
    """What the profiles page shows: the source (None: no profiles yet), its first rows,
    and whether the actor may load a file."""

    source: SourceInfo | None
    rows: Rows
    may_load: bool


def profiles_overview(ws: Workspace, actor: Actor, limit: int = 10) -> ProfilesOverview:
    """:func:`describe_source` and :func:`show_profiles` in one answer; a workspace with
    no profiles yet is an empty overview (not an error), so an admin can load some."""
    who = authorize(ws, actor, Action.PROFILES_READ)
    may_load = who.may(Action.PROFILES_WRITE)
    try:
        source = describe_source(ws, who)
    except ProfilesNotLoaded:
        return ProfilesOverview(None, Rows(columns=[], rows=[]), may_load)
    return ProfilesOverview(source, show_profiles(ws, who, limit), may_load)


def show_profiles(ws: Workspace, actor: Actor, limit: int = 10, offset: int = 0) -> Rows:
    """``limit`` profiles by id, all columns, after skipping the first ``offset``."""
    import pyarrow as pa
    from sqlglot import exp

    from segport.profiles.store import open_profile_store

    authorize(ws, actor, Action.PROFILES_READ)
    if not 1 <= limit <= 2**63 - 1:  # a 64-bit integer in SQL
        raise ProfileError(
            f"the limit must be 1 or more, and below 2**63 (got {limit})",
            code="limit_invalid",
            field="limit",
        )
    if not 0 <= offset <= 2**63 - 1:
        raise ProfileError(
            f"the offset must be 0 or more, and below 2**63 (got {offset})",
            code="offset_invalid",
            field="offset",
        )
    with open_profile_store(ws.engine, ws.path) as store:
        names = list(store.columns())
        query = (
            exp.select(*(store.select_expr(c) for c in names))
            .from_(store.table_expr())
            .order_by(exp.column(store.id_column, quoted=True))
            .limit(limit)
        )
        if offset:
            query = query.offset(offset)
        batches = list(store.stream(query, limit))
        if not batches:
            return Rows(columns=names, rows=[])
        table = pa.Table.from_batches(batches)
        return Rows(columns=table.column_names, rows=table.to_pylist())


@dataclass(frozen=True)
class ProfilesPage:
    """A page of the profiles by id: ``total`` is the row count of the last load."""

    total: int
    offset: int
    limit: int
    columns: list[str]
    rows: list[dict[str, Any]]


def page_profiles(ws: Workspace, actor: Actor, limit: int = 10, offset: int = 0) -> ProfilesPage:
    """The profiles ``offset`` to ``offset + limit`` by id, with how many there are (the
    last load's count, kept with the source: the store is opened once, for the rows)."""
    authorize(ws, actor, Action.PROFILES_READ)
    with ws.session() as session:
        total = _loaded_source(session).row_count or 0
    rows = show_profiles(ws, actor, limit, offset)
    return ProfilesPage(
        total=total,
        offset=offset,
        limit=limit,
        columns=rows.columns,
        rows=rows.rows,
    )

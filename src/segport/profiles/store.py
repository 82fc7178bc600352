"""The profile store: where profiles live and segments are evaluated.

Two engines share one small interface: the embedded DuckDB file of the workspace and a
PostgreSQL table reached through ADBC. Queries arrive as sqlglot trees, are rendered for
the store's dialect here and run by the engine, whose results stream out as Arrow.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segport.profiles.errors import ProfileError, ProfilesNotLoaded
from segport.profiles.types import duckdb_logical, postgres_logical

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy import Engine
    from sqlglot import exp

PROFILE_STORE_FILE = "profiles.duckdb"


class ProfileStore(ABC):
    """One profile table: its id column, its columns, and queries over it."""

    dialect: str

    def __init__(self, table: str, id_column: str) -> None:
        self.table = table
        self.id_column = id_column
        self._columns: dict[str, str] | None = None

    def columns(self) -> dict[str, str]:
        """Column name -> logical type (text, number, date, timestamp, boolean; or other)."""
        if self._columns is None:
            self._columns = {name: logical for name, (_native, logical) in self.schema().items()}
        return dict(self._columns)

    @abstractmethod
    def schema(self) -> dict[str, tuple[str, str]]:
        """Column name -> (the engine's type name, logical type), in table order."""

    def table_expr(self) -> exp.Table:
        from sqlglot import exp

        parts = self.table.split(".")
        return exp.Table(
            this=exp.to_identifier(parts[-1], quoted=True),
            db=exp.to_identifier(parts[0], quoted=True) if len(parts) == 2 else None,
        )

    def select_expr(self, name: str) -> exp.Expr:
        """How column ``name`` is selected for export (engines may cast here)."""
        from sqlglot import exp

        return exp.column(name, quoted=True)

    def render(self, query: exp.Expr) -> str:
        return query.sql(dialect=self.dialect)

    @abstractmethod
    def stream(self, query: exp.Expr, batch_size: int) -> Iterator[pa.RecordBatch]:
        """Run ``query`` and yield its rows as Arrow record batches."""

    @abstractmethod
    def scalar(self, query: exp.Expr) -> Any:
        """Run ``query`` and return the first column of its first row."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> ProfileStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class DuckDBStore(ProfileStore):
    dialect = "duckdb"

    def __init__(self, path: Path, table: str, id_column: str) -> None:
        super().__init__(table, id_column)
        self.path = path
        self._con: Any = None

    @property
    def con(self) -> Any:
        if self._con is None:
            # Read-only: several processes (export runs, CLI counts) can read at once.
            self._con = connect_embedded(self.path, read_only=True)
        return self._con

    def schema(self) -> dict[str, tuple[str, str]]:
        rows = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
            [self.table],
        ).fetchall()
        if not rows:
            raise ProfilesNotLoaded(
                f"the profile store has no table {self.table!r}: load profiles first"
            )
        return {str(n): (str(t), duckdb_logical(str(t))) for n, t in rows}

    def stream(self, query: exp.Expr, batch_size: int) -> Iterator[pa.RecordBatch]:
        # A cursor of its own, so streams and other queries can interleave.
        cur = self.con.cursor()
        try:
            yield from _never_empty(cur.sql(self.render(query)).to_arrow_reader(batch_size))
        finally:
            cur.close()

    def scalar(self, query: exp.Expr) -> Any:
        rows = self.con.execute(self.render(query)).fetchall()
        return rows[0][0] if rows else None

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def _never_empty(reader: Any) -> Iterator[pa.RecordBatch]:
    """The reader's batches; one empty batch with the schema when there are no rows, so
    consumers always learn the columns."""
    empty = True
    for batch in reader:
        empty = False
        yield batch
    if empty:
        yield _empty_batch(reader.schema)


def _empty_batch(schema: Any) -> pa.RecordBatch:
    import pyarrow as pa

    return pa.RecordBatch.from_pylist([], schema=schema)


def connect_embedded(path: Path, read_only: bool = False) -> Any:
    """A DuckDB connection to the workspace's store, in UTC, with a clear error if busy."""
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        doing = "read" if read_only else "load profiles into"
        raise ProfileError(
            f"cannot {doing} the profile store {path} now: another segport process (or "
            f"another part of this one) is {'loading profiles into' if read_only else 'using'} "
            f"it; try again when it has finished ({_first_line(exc)})"
        ) from exc
    # Sessions run in UTC so timestamps compare the same way as on PostgreSQL.
    con.execute("SET TimeZone = 'UTC'")
    return con


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class PostgresStore(ProfileStore):
    dialect = "postgres"

    def __init__(self, url: str, table: str, id_column: str) -> None:
        super().__init__(table, id_column)
        self.url = adbc_url(url)
        self._con: Any = None
        self._native: dict[str, str] = {}

    @property
    def con(self) -> Any:
        if self._con is None:
            import adbc_driver_postgresql.dbapi as pg

            try:
                self._con = pg.connect(self.url)
            except Exception as exc:
                from segport.secret import redact_text, redact_url

                # libpq echoes a password it cannot parse: masked in its message too.
                reason = redact_text(str(exc).strip(), self.url)
                raise ProfileError(
                    f"cannot connect to {redact_url(self.url)}: {reason}. Check the URL of the "
                    "profiles' PostgreSQL database",
                    code="profiles_unreachable",
                ) from exc
            with self._con.cursor() as cur:
                cur.execute("SET TIME ZONE 'UTC'")
        return self._con

    def schema(self) -> dict[str, tuple[str, str]]:
        parts = self.table.split(".")
        schema_sql = "$1" if len(parts) == 2 else "current_schema()"
        params: tuple[str, ...] = (parts[0], parts[-1]) if len(parts) == 2 else (parts[-1],)
        with self.con.cursor() as cur:
            cur.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                f"WHERE table_schema = {schema_sql} AND table_name = ${len(parts)} "
                "ORDER BY ordinal_position",
                params,
            )
            rows = cur.fetchall()
        if not rows:
            raise ProfileError(
                f"PostgreSQL has no table {self.table!r} (or it has no columns you can read); "
                "check the profile table's name",
                code="table_not_found",
                field="table",
            )
        self._native = {str(n): str(t) for n, t in rows}
        return {n: (t, postgres_logical(t)) for n, t in self._native.items()}

    def select_expr(self, name: str) -> exp.Expr:
        from sqlglot import exp

        col = exp.column(name, quoted=True)
        if not self._native:
            self.schema()
        # ADBC hands NUMERIC over as opaque strings; exports want numbers.
        if self._native.get(name) == "numeric":
            return exp.alias_(exp.cast(col, exp.DataType.Type.DOUBLE), name, quoted=True)
        return col

    def stream(self, query: exp.Expr, batch_size: int) -> Iterator[pa.RecordBatch]:
        cur = self.con.cursor()
        try:
            cur.execute(self.render(query))
            for batch in _never_empty(cur.fetch_record_batch()):
                # The driver sizes batches in bytes; keep the caller's row bound.
                for start in range(0, max(batch.num_rows, 1), batch_size):
                    yield batch.slice(start, batch_size)
        finally:
            cur.close()

    def scalar(self, query: exp.Expr) -> Any:
        with self.con.cursor() as cur:
            cur.execute(self.render(query))
            row = cur.fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def adbc_url(url: str) -> str:
    """libpq understands ``postgresql://`` only; accept the SQLAlchemy spellings too."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def open_profile_store(engine: Engine, workspace_path: Path) -> ProfileStore:
    """The store the workspace is configured for (``profiles load`` or ``profiles use``)."""
    from sqlalchemy.orm import Session

    from segport.profiles.models import POSTGRES, ProfileSource

    with Session(engine) as session:
        source = session.get(ProfileSource, 1)
    if source is None:
        raise ProfilesNotLoaded(
            "this workspace has no profiles yet: load a file of profiles, or use a PostgreSQL "
            "table of them"
        )
    if source.kind == POSTGRES:
        assert source.url is not None
        return PostgresStore(source.url, source.table_name, source.id_column)
    path = Path(workspace_path) / PROFILE_STORE_FILE
    if not path.exists():
        # A folder that joined a PostgreSQL workspace from another machine has none: the
        # profiles are in the file of the machine that loaded them. Never read as empty.
        raise ProfilesNotLoaded(
            f"the profiles are in an embedded store this folder lacks ({path}): they were "
            "loaded on another machine of the workspace. Load them into PostgreSQL, which "
            "every machine reads (`segport profiles load FILE --into postgresql://...`)"
        )
    return DuckDBStore(path, source.table_name, source.id_column)

"""Loading into a PostgreSQL profile store that segport manages.

The file is read, typed and checked exactly as for the embedded store
(:mod:`segport.profiles.loading`), into a DuckDB staging table in a scratch file. Its
rows then stream to PostgreSQL as Arrow record batches through ADBC's bulk ingest (binary
COPY), never the whole file in Python, into a new table; inside the same transaction the
table gets its primary key on the id column and takes the place of the old one. Readers
see the old profiles or the new ones, never a half-loaded table, and a failed load leaves
PostgreSQL as it was.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING, Any

from segport.profiles.errors import ProfileError

if TYPE_CHECKING:
    from segport.profiles.loading import LoadReport

BATCH_ROWS = 64 * 1024
EMBEDDED_TARGET = "embedded"  # `profiles load --into embedded`

# DuckDB type -> (PostgreSQL type, what DuckDB casts the column to first, if anything).
# The casts give Arrow types whose binary COPY matches the PostgreSQL column.
_SAME = {
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "VARCHAR": "text",
}
_CAST = {
    "TINYINT": ("smallint", "SMALLINT"),
    "UTINYINT": ("smallint", "SMALLINT"),
    "USMALLINT": ("integer", "INTEGER"),
    "UINTEGER": ("bigint", "BIGINT"),
    "TIMESTAMP_S": ("timestamp", "TIMESTAMP"),
    "TIMESTAMP_MS": ("timestamp", "TIMESTAMP"),
    "TIMESTAMP_NS": ("timestamp", "TIMESTAMP"),  # PostgreSQL keeps microseconds
    "TIMESTAMPTZ": ("timestamptz", "TIMESTAMPTZ"),
    "TIMESTAMPTZ_NS": ("timestamptz", "TIMESTAMPTZ"),  # PostgreSQL keeps microseconds
}


def postgres_column(duckdb_type: str) -> tuple[str, str | None]:
    """The PostgreSQL type a DuckDB column loads as, and the DuckDB cast it needs first.

    Whole numbers too large for ``bigint`` (HUGEINT, UBIGINT) load as ``numeric``; lists,
    structs, maps, blobs and the like load as their text.
    """
    t = duckdb_type.upper()
    if t in _SAME:
        return _SAME[t], None
    if t in _CAST:
        return _CAST[t]
    if t.startswith("DECIMAL"):
        return "numeric" + t[len("DECIMAL") :].lower(), None
    if t in ("HUGEINT", "UHUGEINT", "UBIGINT"):
        return "numeric(39,0)", "DECIMAL(38,0)"
    return "text", "VARCHAR"


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresTarget:
    """A table of a PostgreSQL database that a load replaces as a whole."""

    def __init__(self, url: str, table: str) -> None:
        from segport.profiles.store import adbc_url

        self.url = adbc_url(url)
        self.table = table
        self._con: Any = None

    def connect(self) -> Any:
        """The connection (made once): a load calls it first, so an unreachable database
        stops it before the file is read."""
        if self._con is None:
            import adbc_driver_postgresql.dbapi as pg

            try:
                self._con = pg.connect(self.url)
            except Exception as exc:
                raise self._error(
                    "cannot connect to", exc, "Check the URL given to --into"
                ) from exc
            with self._con.cursor() as cur:
                cur.execute("SET TIME ZONE 'UTC'")
            self._con.commit()  # kept for the session, whatever later transactions do
        return self._con

    def _error(
        self, doing: str, exc: Exception, what_to_do: str, code: str = "profiles_unreachable"
    ) -> ProfileError:
        from segport.secret import redact_text, redact_url

        # libpq may echo the URL it was given: its password is masked there too.
        reason = redact_text(str(exc).strip().splitlines()[0] if str(exc).strip() else "", self.url)
        return ProfileError(
            f"{doing} {redact_url(self.url)}: {reason or type(exc).__name__}. {what_to_do}",
            code=code,
            field="into",
        )

    def existing_rows(self) -> int | None:
        """How many profiles the target table holds now (None: there is no such table)."""
        con = self.connect()
        with con.cursor() as cur:
            cur.execute("SELECT to_regclass($1) IS NOT NULL", (quote(self.table),))
            found = cur.fetchall()  # fetched to the end: the connection is then free
            if not found or not found[0][0]:
                con.rollback()
                return None
            cur.execute(f"SELECT count(*) FROM {quote(self.table)}")
            count = cur.fetchall()
        con.rollback()  # end the read's transaction: it would hold a lock until the swap
        return int(count[0][0])

    def replace_with(self, duck: Any, staging: str, report: LoadReport) -> None:
        """Stream DuckDB's ``staging`` table into a new PostgreSQL table, give it its primary
        key, and swap it in for the target table, in one PostgreSQL transaction."""
        import adbc_driver_manager

        pieces, ddl = [], []
        for name, native in report.columns.items():
            pg_type, cast = postgres_column(native)
            col = quote(name)
            pieces.append(f"CAST({col} AS {cast}) AS {col}" if cast else col)
            ddl.append(f"{col} {pg_type}")
        new = f"_segport_load_{uuid.uuid4().hex[:16]}"
        # Streamed in batches from the load's own connection: only it sees the staging
        # table, which its open transaction holds (the last count's result finished first).
        duck.complete()
        query = f"SELECT {', '.join(pieces)} FROM {quote(staging)}"
        reader = duck.sql(query).to_arrow_reader(BATCH_ROWS)
        target, key = quote(self.table), quote(report.id_column)
        con = self.connect()
        try:
            with con.cursor() as cur:
                cur.execute(f"CREATE TABLE {quote(new)} ({', '.join(ddl)})")
                cur.adbc_ingest(new, reader, mode="append")
                cur.execute(
                    f"ALTER TABLE {quote(new)} ADD CONSTRAINT {quote(new + '_pkey')} "
                    f"PRIMARY KEY ({key})"
                )
                cur.execute(f"ANALYZE {quote(new)}")  # before the swap: its lock stays short
                # The swap: readers wait on the lock for the moment it takes, then see the
                # new table under the old name.
                cur.execute(f"DROP TABLE IF EXISTS {target}")
                cur.execute(f"ALTER TABLE {quote(new)} RENAME TO {target}")
                index = quote(self.table[:58] + "_pkey")
                cur.execute(f"ALTER INDEX {quote(new + '_pkey')} RENAME TO {index}")
            con.commit()
        except BaseException as exc:
            with contextlib.suppress(Exception):
                con.rollback()
            if not isinstance(exc, adbc_driver_manager.Error):
                raise
            hint = (
                "Nothing was changed; drop the views that depend on the table, or load into "
                "another --table"
                if "depend" in str(exc)
                else "Nothing was changed"
            )
            doing = f"cannot load {self.table!r} into"
            raise self._error(doing, exc, hint, "profiles_load_failed") from exc

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

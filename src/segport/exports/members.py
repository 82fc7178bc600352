"""Read the segment's members into the export state's ``stage_raw``, each with a cache key.

The key (``__raw_fp``) is a 64-bit hash of the customer id and the raw mapped values: a
row whose key the prepared-contacts cache holds need not be prepared again (see
:mod:`segport.exports.stage`). Three ways, by what the source can do:

- any source: every member streams as Arrow and the key is computed here;
- a source that runs DuckDB SQL (the workspace's profile store) computes the key itself,
  so the keys of every run come from the same values;
- and when the cache is filled (a later run), such a source first sends only ids and keys,
  and then the full rows of the members whose key the cache lacks: a run after 1 % of a
  million profiles changed copies 10,000 rows instead of a million.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol, runtime_checkable

import pyarrow as pa

from segport.exports.fingerprint import quick_hash_sql, quote_ident
from segport.exports.progress import Progress, ProgressCallback
from segport.exports.state import ExportState

RAW = "scratch.stage_raw"  # every member: __cid, __raw_fp (and the raw columns unless narrow)
TODO = "scratch.todo"  # the members to prepare, with their raw columns
CID = "__cid"
RAW_FP = "__raw_fp"


class MemberSource(Protocol):
    """The members of the export's segments, as the profile store streams them."""

    @property
    def id_column(self) -> str: ...

    def count(self) -> int: ...

    def batches(self, columns: Sequence[str], batch_size: int) -> Iterator[pa.RecordBatch]: ...


@runtime_checkable
class SqlMemberSource(MemberSource, Protocol):
    """A source that can run DuckDB SQL over its members.

    ``sql_batches`` renders the members query (id column first, then ``columns``), passes
    its text to ``wrap`` and streams the result of the SQL ``wrap`` returns, with
    ``tables`` registered by name for it to use.
    """

    @property
    def speaks_duckdb(self) -> bool: ...

    def sql_batches(
        self,
        columns: Sequence[str],
        wrap: Callable[[str], str],
        batch_size: int,
        tables: Mapping[str, pa.Table] | None = None,
    ) -> Iterator[pa.RecordBatch]: ...


def _keyed_select(id_col: str, columns: Sequence[str], source: str, *, narrow: bool) -> str:
    # The key covers the id, so one 64-bit value finds a cached row (joins on it are
    # several times cheaper than on the id text and the hash together).
    fp = quick_hash_sql(list(dict.fromkeys([id_col, *columns])))
    rest = "" if narrow else ", *"
    return (
        f"SELECT CAST({quote_ident(id_col)} AS VARCHAR) AS {CID}, {fp} AS {RAW_FP}{rest} "
        f"FROM {source}"
    )


def stage_members(
    state: ExportState,
    source: MemberSource,
    columns: Sequence[str],
    *,
    batch_size: int,
    progress: ProgressCallback,
    total: int | None,
    cached: bool = False,
) -> tuple[int, bool]:
    """Read the members into ``stage_raw``: (how many were staged, whether ``todo`` is made).

    ``cached``: the prepared-contacts cache holds rows (``prep_index``); a source that
    speaks DuckDB then stages ids and keys only and makes ``todo`` itself.
    """
    con = state.con
    for table in (RAW, TODO):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    id_col = source.id_column
    sql = isinstance(source, SqlMemberSource) and source.speaks_duckdb
    if sql and cached:
        assert isinstance(source, SqlMemberSource)
        staged = _stage_keys_then_changed(state, source, columns, batch_size, progress, total)
        return staged, True
    if sql:
        assert isinstance(source, SqlMemberSource)
        batches = source.sql_batches(
            columns,
            lambda members: _keyed_select(id_col, columns, f"({members}) m", narrow=False),
            batch_size,
        )
        select = "SELECT * FROM __batch"
    else:
        batches = source.batches(columns, batch_size)
        select = _keyed_select(id_col, columns, "__batch", narrow=False)
    staged = _copy(state, batches, RAW, select, lambda n: progress(Progress("read", n, total)))
    return staged, False


def _copy(
    state: ExportState,
    batches: Iterator[pa.RecordBatch],
    table: str,
    select: str,
    progress: Callable[[int], None],
) -> int:
    """Insert ``select`` over each batch (registered as ``__batch``) into ``table``."""
    con = state.con
    copied = 0
    created = False
    for batch in batches:
        con.register("__batch", batch)
        try:
            if not created:
                con.execute(f"CREATE TABLE {table} AS {select}")
                created = True
            else:
                con.execute(f"INSERT INTO {table} {select}")
        finally:
            con.unregister("__batch")
        copied += batch.num_rows
        progress(copied)
    if not created:
        con.execute(
            f"CREATE TABLE {table} AS SELECT NULL::VARCHAR AS {CID}, "
            f"NULL::UBIGINT AS {RAW_FP} WHERE false"
        )
    return copied


def _stage_keys_then_changed(
    state: ExportState,
    source: SqlMemberSource,
    columns: Sequence[str],
    batch_size: int,
    progress: ProgressCallback,
    total: int | None,
) -> int:
    """Stage ids and keys of every member, then the full rows of those the cache lacks."""
    id_col = source.id_column
    keys = source.sql_batches(
        columns,
        lambda members: _keyed_select(id_col, columns, f"({members}) m", narrow=True),
        batch_size,
    )
    staged = _copy(
        state, keys, RAW, "SELECT * FROM __batch", lambda n: progress(Progress("read", n, total))
    )
    wanted: pa.Table = state.con.sql(
        f"SELECT {CID} FROM {RAW} s ANTI JOIN prep_index p ON p.raw_fp = s.{RAW_FP} "
        f"WHERE {CID} IS NOT NULL"
    ).to_arrow_table()
    if wanted.num_rows == 0:
        state.con.execute(f"CREATE TABLE {TODO} AS SELECT * FROM {RAW} WHERE false")
        return staged
    rows = source.sql_batches(
        columns,
        lambda members: _keyed_select(
            id_col,
            columns,
            f"({members}) m SEMI JOIN __wanted w "
            f"ON w.{CID} = CAST(m.{quote_ident(id_col)} AS VARCHAR)",
            narrow=False,
        ),
        batch_size,
        tables={"__wanted": wanted},
    )
    _copy(state, rows, TODO, "SELECT * FROM __batch", lambda _n: None)
    return staged

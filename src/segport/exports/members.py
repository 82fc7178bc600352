"""Read the segment's members into the export state's ``stage_raw``, each with a cache key.

The key (``__raw_fp``) is a 64-bit hash of the customer id and the raw mapped values: a
row whose key the prepared-contacts cache holds need not be prepared again (see
:mod:`segport.exports.stage`). Two ways, by where the profiles are:

- in the workspace's DuckDB file: the state's connection attaches it read-only and runs
  the members query itself, so no row crosses into Python. When the cache is filled (a
  later run), it stages only ids and keys, then the full rows of the members whose key the
  cache lacks: a run after 1 % of a million profiles changed copies 10,000 rows, not a
  million;
- anywhere else (PostgreSQL): every member streams as Arrow and is copied with its key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import duckdb
import pyarrow as pa

from segport.exports.errors import ExportRunError
from segport.exports.fingerprint import quick_hash_sql, quote_ident, quote_literal
from segport.exports.progress import Progress, ProgressCallback
from segport.exports.state import ExportState
from segport.exports.state_tables import PREP_INDEX, STAGE_RAW, TODO

PROFILES = "segport_profiles"  # the profile store's file, attached while reading
RAW = STAGE_RAW  # every member: __cid, __raw_fp (and the raw columns unless narrow)
CID = "__cid"
RAW_FP = "__raw_fp"


class MemberSource(Protocol):
    """The members of the export's segments, as the profile store streams them."""

    @property
    def id_column(self) -> str: ...

    def count(self) -> int: ...

    def batches(self, columns: Sequence[str], batch_size: int) -> Iterator[pa.RecordBatch]: ...


@runtime_checkable
class DuckDBMemberSource(MemberSource, Protocol):
    """A source whose profiles are in a DuckDB file the export state can attach.

    ``duckdb_members`` gives the file and the members query (id column first, then
    ``columns``) with its tables qualified by ``catalog``; None when the profiles are
    elsewhere (then :meth:`batches` serves).
    """

    def duckdb_members(self, columns: Sequence[str], catalog: str) -> tuple[Path, str] | None: ...


def _keyed_select(id_col: str, columns: Sequence[str], source: str, *, narrow: bool) -> str:
    # The key covers the id, so one 64-bit value finds a cached row (joins on it are
    # several times cheaper than on the id text and the hash together).
    fp = quick_hash_sql(list(dict.fromkeys([id_col, *columns])))
    # Narrow rows keep the id as it is typed, to find their full rows by it later.
    rest = f", {quote_ident(id_col)}" if narrow else ", *"
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

    ``cached``: the prepared-contacts cache holds rows (``prep_index``); when the profiles
    are in a DuckDB file, only ids and keys are then staged and ``todo`` is made here.
    """
    con = state.con
    for table in (RAW, TODO):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    id_col = source.id_column
    found = (
        source.duckdb_members(columns, PROFILES) if isinstance(source, DuckDBMemberSource) else None
    )
    if found is None:
        select = _keyed_select(id_col, columns, "__batch", narrow=False)
        batches = source.batches(columns, batch_size)
        report = lambda n: progress(Progress("read", n, total))  # noqa: E731
        return _copy(state, batches, RAW, select, report), False
    path, members = found
    # The state's connection reads the profile file itself: no rows cross into Python.
    try:
        con.execute(f"ATTACH {quote_literal(str(path))} AS {PROFILES} (READ_ONLY)")
    except duckdb.Error as exc:
        raise ExportRunError(
            f"cannot read the profile store {path} now: another process is loading profiles "
            f"into it; run again when it has finished ({str(exc).splitlines()[0]})"
        ) from exc
    try:
        con.execute(
            f"CREATE TABLE {RAW} AS "
            + _keyed_select(id_col, columns, f"({members}) m", narrow=cached)
        )
        if cached:
            ident = quote_ident(id_col)
            wanted = (
                f"(SELECT s.{ident} FROM {RAW} s ANTI JOIN {PREP_INDEX} p "
                f"ON p.raw_fp = s.{RAW_FP} WHERE s.{CID} IS NOT NULL) w"
            )
            source_rows = f"({members}) m SEMI JOIN {wanted} ON w.{ident} = m.{ident}"
            con.execute(
                f"CREATE TABLE {TODO} AS "
                + _keyed_select(id_col, columns, source_rows, narrow=False)
            )
    finally:
        con.execute(f"DETACH {PROFILES}")
    staged = state.count(f"SELECT count(*) FROM {RAW}")
    progress(Progress("read", staged, total))
    return staged, cached


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

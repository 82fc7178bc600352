"""Prepare only the staged members that changed, and keep the prepared-contacts cache.

Members are staged in ``stage_raw`` with a key of their raw mapped values
(:mod:`segport.exports.members`). Only rows whose key the cache lacks go through
``segport.contacts`` (phone parsing is the costly step); the prepared contacts and rejects
of the others are reused from the cache. The preparer parses phones on both cores
(``segport.contacts.PhoneParser`` runs worker processes: the phone library holds the GIL,
so threads would not help).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa

from segport.exports import hooks
from segport.exports.current import DIRTY
from segport.exports.fingerprint import quote_literal
from segport.exports.members import CID, RAW, RAW_FP, TODO, MemberSource, stage_members
from segport.exports.prefetch import prefetched
from segport.exports.progress import Progress, ProgressCallback
from segport.exports.state import ExportState

PREP_DIRTY = "prep_dirty"  # meta key: a preparation started and has not finished
PREPARE_BATCH_ROWS = 50_000
STORE_ROWS = 200_000  # prepared rows gathered per insert into the cache

__all__ = [
    "MemberSource",
    "Prepared",
    "Preparer",
    "cache_filled",
    "prepare_changed",
    "reset_prepared",
    "stage_members",
]


@dataclass(frozen=True)
class Prepared:
    contacts: pa.Table
    rejects: pa.Table
    rows: int  # input rows this came from


Preparer = Callable[[pa.RecordBatch], Prepared]


def reset_prepared(state: ExportState, config_fp: str) -> None:
    """Drop the prepared-contacts cache when the mapping or its settings changed."""
    # A cache written before rejects kept their failed value is made afresh too.
    if state.get("prep_config") != config_fp or (
        state.table_exists("prep_rejects") and not _has_column(state, "prep_rejects", "value")
    ):
        for table in ("prep_index", "prep_contacts", "prep_rejects", "cur", "dup_rejects"):
            state.con.execute(f"DROP TABLE IF EXISTS {table}")
        state.set(DIRTY, True)
        state.set("prep_config", config_fp)
    state.con.execute("CREATE TABLE IF NOT EXISTS prep_index (customer_id VARCHAR, raw_fp UBIGINT)")


def cache_filled(state: ExportState) -> bool:
    """Whether the prepared-contacts cache holds any row (none on a first run)."""
    return bool(state.count("SELECT count(*) FROM (SELECT 1 FROM prep_index LIMIT 1)"))


def prepare_changed(
    state: ExportState,
    staged: int,
    preparer: Preparer,
    *,
    progress: ProgressCallback,
    todo_ready: bool = False,
) -> int | None:
    """Prepare the staged rows the cache does not hold (``todo_ready``: staging listed
    them in ``scratch.todo`` already).

    Returns how many customers changed (new, changed or gone since the cache was written),
    or None when that is not known (first run, new mapping, an interrupted run); they are
    listed in ``scratch.changed_cids`` and their former emails and numbers in
    ``scratch.old_keys``.
    """
    con = state.con
    # Rows to prepare: staged rows whose raw values the cache does not hold (all of them
    # when the cache is empty, as on a first run: no copy is made then).
    if todo_ready:
        todo_sql = f"SELECT * FROM {TODO}"
    elif cache_filled(state):
        con.execute(
            f"""CREATE OR REPLACE TABLE {TODO} AS SELECT s.* FROM {RAW} s
            ANTI JOIN prep_index p ON p.raw_fp = s.{RAW_FP}"""
        )
        todo_sql = f"SELECT * FROM {TODO}"
    else:
        todo_sql = f"SELECT * FROM {RAW}"
    # Cached entries of customers that changed or left the segments go; the cache then
    # holds exactly the current members once the changed ones are added back.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE stale AS
        SELECT customer_id FROM prep_index p ANTI JOIN {RAW} s ON p.raw_fp = s.{RAW_FP}"""
    )
    has_contacts = state.table_exists("prep_contacts")
    # True: the current contacts will be rebuilt, so what changed need not be listed.
    unknown = bool(state.get(DIRTY)) or not state.table_exists("cur")
    if not unknown:
        # What changed, for the de-duplication to rank again only the groups it touches:
        # the customers, and the emails and numbers their cached versions had.
        con.execute(
            f"""CREATE OR REPLACE TABLE scratch.changed_cids AS
            SELECT customer_id AS cid FROM stale
            UNION SELECT {CID} FROM ({todo_sql}) WHERE {CID} IS NOT NULL"""
        )
        sms = "SMS" if has_contacts and _has_column(state, "prep_contacts", "SMS") else "NULL"
        con.execute(
            "CREATE OR REPLACE TABLE scratch.old_keys AS SELECT NULL::VARCHAR AS EMAIL, "
            "NULL::VARCHAR AS SMS WHERE false"
        )
        if has_contacts:
            con.execute(
                f"""INSERT INTO scratch.old_keys SELECT EMAIL, {sms} FROM prep_contacts
                WHERE CAST(_customer_id AS VARCHAR) IN (SELECT customer_id FROM stale)"""
            )
    # From here until the current contacts are refreshed, the cache and them disagree: a
    # run killed in between must rebuild them (see current.refresh_current).
    state.set(DIRTY, True)
    interrupted = bool(state.get(PREP_DIRTY))
    state.set(PREP_DIRTY, True)
    con.execute("BEGIN")
    con.execute("DELETE FROM prep_index WHERE customer_id IN (SELECT customer_id FROM stale)")
    con.execute("DELETE FROM prep_index WHERE customer_id IS NULL")
    if interrupted:
        # A preparation was killed before its index rows went in: the cache is made
        # exactly what prep_index lists, dropping what that preparation wrote.
        if has_contacts:
            con.execute(
                "DELETE FROM prep_contacts WHERE _customer_id IS NULL "
                "OR CAST(_customer_id AS VARCHAR) NOT IN (SELECT customer_id FROM prep_index)"
            )
        if state.table_exists("prep_rejects"):
            con.execute(
                "DELETE FROM prep_rejects WHERE customer_id IS NULL "
                "OR customer_id NOT IN (SELECT customer_id FROM prep_index)"
            )
    else:
        if has_contacts:
            con.execute(
                "DELETE FROM prep_contacts WHERE CAST(_customer_id AS VARCHAR) IN "
                "(SELECT customer_id FROM stale)"
            )
        if state.table_exists("prep_rejects"):
            con.execute(
                "DELETE FROM prep_rejects WHERE customer_id IS NULL "
                "OR customer_id IN (SELECT customer_id FROM stale)"
            )
    con.execute("COMMIT")
    todo = state.count(f"SELECT count(*) FROM ({todo_sql})")
    progress(Progress("prepare", 0, todo))
    # None: what changed is not known (the current contacts must be rebuilt).
    changed = None if unknown else state.count("SELECT count(*) FROM scratch.changed_cids")
    if todo == 0:
        _ensure_prepared_tables(state)
        state.set(PREP_DIRTY, False)
        return changed
    cursor = con.cursor()
    query = f"SELECT * EXCLUDE ({CID}, {RAW_FP}) FROM ({todo_sql})"

    def prepared_batches() -> Iterator[Prepared]:
        for batch in cursor.sql(query).to_arrow_reader(PREPARE_BATCH_ROWS):
            yield preparer(batch)

    done = stored = pending_rows = 0
    pending: list[Prepared] = []

    def flush() -> None:
        nonlocal changed, stored, pending_rows
        if _store_prepared(state, _concat(pending)):
            changed = None  # the table was made anew: the current contacts are rebuilt
        pending.clear()
        pending_rows = 0
        stored += 1
        hooks.checkpoint("preparing", stored)

    # The next batch is prepared on a thread (phone parsing, mostly in the pool's
    # processes and in Arrow, outside the GIL) while DuckDB stores the earlier ones,
    # a few at a time: an insert into the file costs about the same for 50,000 rows as
    # for 200,000 (measured), so fewer, larger inserts are cheaper.
    with cursor, prefetched(prepared_batches) as batches:
        for prepared in batches:
            pending.append(prepared)
            pending_rows += prepared.rows
            done += prepared.rows
            if pending_rows >= STORE_ROWS:
                flush()
            progress(Progress("prepare", min(done, todo), todo))
        if pending:
            flush()
    con.execute(
        f"INSERT INTO prep_index SELECT {CID}, {RAW_FP} FROM ({todo_sql}) WHERE {CID} IS NOT NULL"
    )
    _ensure_prepared_tables(state)
    state.set(PREP_DIRTY, False)
    progress(Progress("prepare", todo, todo))
    return changed


def _concat(parts: list[Prepared]) -> Prepared:
    if len(parts) == 1:
        return parts[0]
    return Prepared(
        pa.concat_tables([p.contacts for p in parts], promote_options="permissive"),
        pa.concat_tables([p.rejects for p in parts], promote_options="permissive"),
        sum(p.rows for p in parts),
    )


def _store_prepared(state: ExportState, prepared: Prepared) -> bool:
    """Append to the cache; True when prep_contacts was (re)created by this batch."""
    con = state.con
    created = False
    contacts = prepared.contacts
    con.register("__contacts", contacts)
    try:
        # The customer id keeps its type: duplicates are ranked by it (docs/contacts.md).
        select = "SELECT * FROM __contacts"
        fresh = not state.table_exists("prep_contacts") or not state.count(
            "SELECT count(*) FROM (SELECT 1 FROM prep_contacts LIMIT 1)"
        )
        if fresh:  # typed by the first batch (an empty placeholder is replaced)
            con.execute(f"CREATE OR REPLACE TABLE prep_contacts AS {select}")
            created = True
        else:
            con.execute(f"INSERT INTO prep_contacts BY NAME {select}")
    finally:
        con.unregister("__contacts")
    rejects = prepared.rejects
    con.register("__rejects", rejects)
    try:
        select = (
            "SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(email AS VARCHAR) AS email, "
            "CAST(field AS VARCHAR) AS field, CAST(reason AS VARCHAR) AS reason, "
            "CAST(detail AS VARCHAR) AS detail, CAST(value AS VARCHAR) AS value FROM __rejects"
        )
        if not state.table_exists("prep_rejects"):
            con.execute(f"CREATE TABLE prep_rejects AS {select}")
        else:
            con.execute(f"INSERT INTO prep_rejects {select}")
    finally:
        con.unregister("__rejects")
    return created


def _ensure_prepared_tables(state: ExportState) -> None:
    state.con.execute(
        "CREATE TABLE IF NOT EXISTS prep_rejects (customer_id VARCHAR, email VARCHAR, "
        "field VARCHAR, reason VARCHAR, detail VARCHAR, value VARCHAR)"
    )


def _has_column(state: ExportState, table: str, column: str) -> bool:
    return bool(
        state.count(
            "SELECT count(*) FROM duckdb_columns() WHERE table_name = "
            f"{quote_literal(table)} AND column_name = {quote_literal(column)} "
            "AND schema_name = 'main' AND database_name <> 'temp'"
        )
    )

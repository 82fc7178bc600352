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
from segport.exports.members import CID, RAW, RAW_FP, MemberSource, stage_members
from segport.exports.prefetch import prefetched
from segport.exports.progress import Progress, ProgressCallback
from segport.exports.state import ExportState
from segport.exports.state_tables import (
    CHANGED_CIDS,
    CUR,
    DUP_REJECTS,
    OLD_KEYS,
    PREP_CONTACTS,
    PREP_INDEX,
    PREP_REJECTS,
    STALE,
    TODO,
    create,
)

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
        state.table_exists(PREP_REJECTS) and not state.has_column(PREP_REJECTS, "value")
    ):
        for table in (PREP_INDEX, PREP_CONTACTS, PREP_REJECTS, CUR, DUP_REJECTS):
            state.con.execute(f"DROP TABLE IF EXISTS {table}")
        state.set(DIRTY, True)
        state.set("prep_config", config_fp)
    create(state.con, PREP_INDEX)


def cache_filled(state: ExportState) -> bool:
    """Whether the prepared-contacts cache holds any row (none on a first run)."""
    return bool(state.count(f"SELECT count(*) FROM (SELECT 1 FROM {PREP_INDEX} LIMIT 1)"))


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
            ANTI JOIN {PREP_INDEX} p ON p.raw_fp = s.{RAW_FP}"""
        )
        todo_sql = f"SELECT * FROM {TODO}"
    else:
        todo_sql = f"SELECT * FROM {RAW}"
    # Cached entries of customers that changed or left the segments go; the cache then
    # holds exactly the current members once the changed ones are added back.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {STALE} AS
        SELECT customer_id FROM {PREP_INDEX} p ANTI JOIN {RAW} s ON p.raw_fp = s.{RAW_FP}"""
    )
    has_contacts = state.table_exists(PREP_CONTACTS)
    # True: the current contacts will be rebuilt, so what changed need not be listed.
    unknown = bool(state.get(DIRTY)) or not state.table_exists(CUR)
    if not unknown:
        # What changed, for the de-duplication to rank again only the groups it touches:
        # the customers, and the emails and numbers their cached versions had.
        con.execute(
            f"""CREATE OR REPLACE TABLE {CHANGED_CIDS} AS
            SELECT customer_id AS cid FROM {STALE}
            UNION SELECT {CID} FROM ({todo_sql}) WHERE {CID} IS NOT NULL"""
        )
        sms = "SMS" if has_contacts and state.has_column(PREP_CONTACTS, "SMS") else "NULL"
        create(con, OLD_KEYS, replace=True)
        if has_contacts:
            con.execute(
                f"""INSERT INTO {OLD_KEYS} SELECT EMAIL, {sms} FROM {PREP_CONTACTS}
                WHERE CAST(_customer_id AS VARCHAR) IN (SELECT customer_id FROM {STALE})"""
            )
    # From here until the current contacts are refreshed, the cache and them disagree: a
    # run killed in between must rebuild them (see current.refresh_current).
    state.set(DIRTY, True)
    interrupted = bool(state.get(PREP_DIRTY))
    state.set(PREP_DIRTY, True)
    con.execute("BEGIN")
    con.execute(f"DELETE FROM {PREP_INDEX} WHERE customer_id IN (SELECT customer_id FROM {STALE})")
    con.execute(f"DELETE FROM {PREP_INDEX} WHERE customer_id IS NULL")
    if interrupted:
        # A preparation was killed before its index rows went in: the cache is made
        # exactly what prep_index lists, dropping what that preparation wrote.
        if has_contacts:
            con.execute(
                f"DELETE FROM {PREP_CONTACTS} WHERE _customer_id IS NULL "
                f"OR CAST(_customer_id AS VARCHAR) NOT IN (SELECT customer_id FROM {PREP_INDEX})"
            )
        if state.table_exists(PREP_REJECTS):
            con.execute(
                f"DELETE FROM {PREP_REJECTS} WHERE customer_id IS NULL "
                f"OR customer_id NOT IN (SELECT customer_id FROM {PREP_INDEX})"
            )
    else:
        if has_contacts:
            con.execute(
                f"DELETE FROM {PREP_CONTACTS} WHERE CAST(_customer_id AS VARCHAR) IN "
                f"(SELECT customer_id FROM {STALE})"
            )
        if state.table_exists(PREP_REJECTS):
            con.execute(
                f"DELETE FROM {PREP_REJECTS} WHERE customer_id IS NULL "
                f"OR customer_id IN (SELECT customer_id FROM {STALE})"
            )
    con.execute("COMMIT")
    todo = state.count(f"SELECT count(*) FROM ({todo_sql})")
    progress(Progress("prepare", 0, todo))
    # None: what changed is not known (the current contacts must be rebuilt).
    changed = None if unknown else state.count(f"SELECT count(*) FROM {CHANGED_CIDS}")
    if todo == 0:
        create(state.con, PREP_REJECTS)
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
        f"INSERT INTO {PREP_INDEX} SELECT {CID}, {RAW_FP} FROM ({todo_sql}) WHERE {CID} IS NOT NULL"
    )
    create(state.con, PREP_REJECTS)
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
        fresh = not state.table_exists(PREP_CONTACTS) or not state.count(
            f"SELECT count(*) FROM (SELECT 1 FROM {PREP_CONTACTS} LIMIT 1)"
        )
        if fresh:  # typed by the first batch (an empty placeholder is replaced)
            con.execute(f"CREATE OR REPLACE TABLE {PREP_CONTACTS} AS {select}")
            created = True
        else:
            con.execute(f"INSERT INTO {PREP_CONTACTS} BY NAME {select}")
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
        create(con, PREP_REJECTS)
        con.execute(f"INSERT INTO {PREP_REJECTS} {select}")
    finally:
        con.unregister("__rejects")
    return created

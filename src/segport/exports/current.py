"""The current contacts: the export's members after de-duplication, kept between runs.

``cur`` holds one row per contact as it would be sent (``SMS`` emptied for later holders
of a number, ``__sms_raw`` keeping the prepared number) with its fingerprint; ``dup_rejects``
the duplicate rejects, each with its group (the email or the number). A run rebuilds them
from the prepared-contacts cache when they are missing or much changed; otherwise only the
duplicate groups that changed customers touch are ranked again, so a run after 1% of the
profiles changed ranks about 1% of the rows instead of all of them.

This is the one de-duplication of a run (docs/contacts.md, "Duplicates"): best first by
``_updated_at`` descending (when mapped, no date last), then ``_customer_id``; one contact
per email, then among those, one holder per SMS number. Property tests compare the
incremental refresh and the rebuild with a plain Python statement of the rule.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import duckdb

from segport.exports.fingerprint import fingerprint_sql, quote_ident
from segport.exports.state import ExportState
from segport.exports.state_tables import (
    AFFECTED_EMAILS,
    AFFECTED_SMS,
    CHANGED_CIDS,
    CUR,
    DUP_REJECTS,
    E_RANK,
    OLD_KEYS,
    PREP_CONTACTS,
    R_RANK,
)

EMAIL = "EMAIL"
CUSTOMER = "_customer_id"
UPDATED = "_updated_at"
DIRTY = "current_dirty"  # meta key: the cache changed and cur was not refreshed yet
# The reject rows' details, followed by the kept customer's id.
EMAIL_KEPT = "another profile with this email was kept: customer "
SMS_KEPT = "this number stays with customer "
# Past this share of changed customers, ranking everything is cheaper than patching.
REBUILD_SHARE = 0.2


def prepared_columns(state: ExportState) -> set[str]:
    return set(state.columns(PREP_CONTACTS))


def refresh_current(
    state: ExportState,
    attribute_columns: Sequence[str],
    *,
    changed: int | None,
    members: int,
    rebuild_share: float = REBUILD_SHARE,
) -> str:
    """Bring ``cur`` and ``dup_rejects`` in line with ``prep_contacts``.

    ``changed`` customers are listed in ``scratch.changed_cids`` with their former emails
    and numbers in ``scratch.old_keys`` (see stage.prepare_changed); None: rebuild.
    Returns how: "rebuilt", "patched" or "unchanged".
    """
    con = state.con
    present = prepared_columns(state)
    if not present:  # nothing was ever prepared: an empty segment
        attrs = "".join(f", NULL::VARCHAR AS {quote_ident(a)}" for a in attribute_columns)
        con.execute(
            f"CREATE TABLE {PREP_CONTACTS} AS SELECT NULL::VARCHAR AS {CUSTOMER}, "
            f"NULL::VARCHAR AS {EMAIL}{attrs} WHERE false"
        )
        present = prepared_columns(state)
    order = f"{CUSTOMER} ASC"
    if UPDATED in present:
        order = f"{UPDATED} DESC NULLS LAST, {order}"
    has_sms = "SMS" in attribute_columns
    rebuild = (
        changed is None
        or not state.table_exists(CUR)
        or not state.table_exists(DUP_REJECTS)
        or changed > rebuild_share * max(members, 1)
    )
    how = "rebuilt" if rebuild else "patched" if changed else "unchanged"
    if rebuild:
        _rebuild(con, attribute_columns, order, has_sms)
    elif changed:
        _patch(con, attribute_columns, order, has_sms)
    state.set(DIRTY, False)
    return how


def _ranked_rows(source: str, where: str, order: str) -> str:
    return f"""SELECT *, row_number() OVER e AS __erank, first({CUSTOMER}) OVER e AS __ewinner
        FROM {source} {where} WINDOW e AS (PARTITION BY {EMAIL} ORDER BY {order})"""


def _sms_ranked(source: str, order: str) -> str:
    return f"""SELECT *,
            CASE WHEN SMS IS NOT NULL THEN row_number() OVER s END AS __srank,
            CASE WHEN SMS IS NOT NULL THEN first({CUSTOMER}) OVER s END AS __swinner
        FROM {source} WINDOW s AS (PARTITION BY SMS ORDER BY {order})"""


def _cur_select(
    source: str, attribute_columns: Sequence[str], has_sms: bool, *, numbered: bool = False
) -> str:
    """Rows of ``source`` (SMS-ranked when has_sms) as ``cur`` rows, fingerprinted.

    ``numbered`` (a rebuild) gives the rows ``__seq`` 1..n, so that a plan sending every
    current contact can be a view of ``cur`` instead of a copy (see plan.build_plan);
    rows a patch adds have none.
    """
    send_cols = [EMAIL, *attribute_columns]
    fp = fingerprint_sql(send_cols)
    if has_sms:
        inner = (
            f"SELECT * EXCLUDE (__srank, __swinner) REPLACE "
            f"(CASE WHEN __srank > 1 THEN NULL ELSE SMS END AS SMS), SMS AS __sms_raw "
            f"FROM {source}"
        )
    else:
        inner = f"SELECT * FROM {source}"
    seq = "row_number() OVER () AS __seq, " if numbered else ""
    return f"SELECT {seq}CAST({CUSTOMER} AS VARCHAR) AS __cid, *, {fp} AS __fp FROM ({inner})"


def _email_rejects(source: str) -> str:
    return f"""SELECT CAST({CUSTOMER} AS VARCHAR) AS customer_id, {EMAIL} AS email,
            'EMAIL' AS field, 'email_duplicate' AS reason,
            '{EMAIL_KEPT}' || CAST(__ewinner AS VARCHAR) AS detail, {EMAIL} AS __grp
        FROM {source} WHERE __erank > 1"""


def _sms_rejects(source: str) -> str:
    return f"""SELECT CAST({CUSTOMER} AS VARCHAR), {EMAIL}, 'SMS', 'sms_duplicate',
            '{SMS_KEPT}' || CAST(__swinner AS VARCHAR), SMS
        FROM {source} WHERE __srank > 1"""


def _rebuild(
    con: duckdb.DuckDBPyConnection, attribute_columns: Sequence[str], order: str, has_sms: bool
) -> None:
    """Rank the groups that have duplicates only: most emails and numbers are unique, so
    finding the shared ones (one aggregation each) and ranking those few rows costs far
    less than ranking a million wide rows twice."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {E_RANK} AS "
        + _ranked_rows(
            PREP_CONTACTS,
            f"WHERE {EMAIL} IN (SELECT {EMAIL} FROM {PREP_CONTACTS} GROUP BY {EMAIL} "
            "HAVING count(*) > 1)",
            order,
        )
    )
    kept = f"""(SELECT p.* FROM {PREP_CONTACTS} p ANTI JOIN (
        SELECT {CUSTOMER} FROM temp.{E_RANK} WHERE __erank > 1) l
        ON l.{CUSTOMER} = p.{CUSTOMER})"""
    if has_sms:
        shared = (
            f"(SELECT * FROM {kept} WHERE SMS IN (SELECT SMS FROM {kept} "
            "WHERE SMS IS NOT NULL GROUP BY SMS HAVING count(*) > 1))"
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE {R_RANK} AS " + _sms_ranked(shared, order))
        # Later holders of a shared number have __srank > 1 (their SMS is not sent).
        source = f"""(SELECT k.*, r.__srank, NULL AS __swinner FROM {kept} k
            LEFT JOIN (SELECT {CUSTOMER}, __srank FROM temp.{R_RANK} WHERE __srank > 1) r
            ON r.{CUSTOMER} = k.{CUSTOMER})"""
    else:
        source = kept
    con.execute("BEGIN")
    # Stored in __seq order (at no extra cost, measured), so a plan reading cur by ranges
    # of __seq skips the row groups outside each range.
    con.execute("SET preserve_insertion_order = true")
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {CUR} AS "
            + _cur_select(source, attribute_columns, has_sms, numbered=True)
        )
    finally:
        with contextlib.suppress(duckdb.Error):  # (an aborted transaction refuses it)
            con.execute("SET preserve_insertion_order = false")
    rejects = _email_rejects(f"temp.{E_RANK}")
    if has_sms:
        rejects += " UNION ALL " + _sms_rejects(f"temp.{R_RANK}")
    con.execute(f"CREATE OR REPLACE TABLE {DUP_REJECTS} AS " + rejects)
    con.execute("COMMIT")
    con.execute(f"DROP TABLE IF EXISTS temp.{E_RANK}")
    con.execute(f"DROP TABLE IF EXISTS temp.{R_RANK}")


def _patch(
    con: duckdb.DuckDBPyConnection, attribute_columns: Sequence[str], order: str, has_sms: bool
) -> None:
    """Rank again only the email groups and SMS groups changed customers touch."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {AFFECTED_EMAILS} AS
        SELECT DISTINCT {EMAIL} FROM (
            SELECT {EMAIL} FROM {OLD_KEYS}
            UNION ALL SELECT p.{EMAIL} FROM {PREP_CONTACTS} p
            SEMI JOIN {CHANGED_CIDS} c ON c.cid = CAST(p.{CUSTOMER} AS VARCHAR)
        ) WHERE {EMAIL} IS NOT NULL"""
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {E_RANK} AS "
        + _ranked_rows(
            PREP_CONTACTS,
            f"WHERE {EMAIL} IN (SELECT {EMAIL} FROM temp.{AFFECTED_EMAILS})",
            order,
        )
    )
    kept = f"(SELECT * EXCLUDE (__erank, __ewinner) FROM temp.{E_RANK} WHERE __erank = 1)"
    if has_sms:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {AFFECTED_SMS} AS
            SELECT DISTINCT SMS FROM (
                SELECT SMS FROM {OLD_KEYS} UNION ALL SELECT SMS FROM temp.{E_RANK}
            ) WHERE SMS IS NOT NULL"""
        )
        # Kept holders of an affected number: those of the re-ranked email groups, and
        # the others from cur (their email group did not change, so they stay kept).
        cur_cols = "* EXCLUDE (__cid, __fp, SMS, __sms_raw)"
        holders = f"""(SELECT * FROM {kept}
            UNION ALL BY NAME
            SELECT {cur_cols}, __sms_raw AS SMS FROM {CUR}
            WHERE {EMAIL} NOT IN (SELECT {EMAIL} FROM temp.{AFFECTED_EMAILS})
            AND __sms_raw IN (SELECT SMS FROM temp.{AFFECTED_SMS}))"""
        con.execute(f"CREATE OR REPLACE TEMP TABLE {R_RANK} AS " + _sms_ranked(holders, order))
        source = f"temp.{R_RANK}"
        drop_cur = (
            f"{EMAIL} IN (SELECT {EMAIL} FROM temp.{AFFECTED_EMAILS}) "
            f"OR __sms_raw IN (SELECT SMS FROM temp.{AFFECTED_SMS})"
        )
        drop_rejects = (
            f"(reason = 'email_duplicate' AND __grp IN (SELECT {EMAIL} FROM "
            "temp.affected_emails)) OR (reason = 'sms_duplicate' AND __grp IN "
            f"(SELECT SMS FROM temp.{AFFECTED_SMS}))"
        )
    else:
        source = kept
        drop_cur = f"{EMAIL} IN (SELECT {EMAIL} FROM temp.{AFFECTED_EMAILS})"
        drop_rejects = (
            f"reason = 'email_duplicate' AND __grp IN (SELECT {EMAIL} FROM temp.{AFFECTED_EMAILS})"
        )
    con.execute("BEGIN")
    con.execute(f"DELETE FROM {CUR} WHERE {drop_cur}")
    con.execute(f"INSERT INTO {CUR} BY NAME " + _cur_select(source, attribute_columns, has_sms))
    con.execute(f"DELETE FROM {DUP_REJECTS} WHERE {drop_rejects}")
    con.execute(f"INSERT INTO {DUP_REJECTS} " + _email_rejects(f"temp.{E_RANK}"))
    if has_sms:
        con.execute(f"INSERT INTO {DUP_REJECTS} " + _sms_rejects(f"temp.{R_RANK}"))
    con.execute("COMMIT")
    for temp in (AFFECTED_EMAILS, AFFECTED_SMS, E_RANK, R_RANK):
        con.execute(f"DROP TABLE IF EXISTS temp.{temp}")

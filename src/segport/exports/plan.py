"""The plan of a run: de-duplicate, fingerprint, diff against what Brevo holds, list leavers.

All of it is SQL over the export state, so a million contacts plan in about a second and
nothing is held as Python objects. A real run writes its plan to persistent tables
(``plan_send``, ``plan_remove``, ``plan_rejects``) that a resumed run continues from; a dry
run writes the same plan to temporary tables that vanish with the connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from segport.contacts.dedupe import EMAIL_KEPT_DETAIL as EMAIL_KEPT
from segport.contacts.dedupe import SMS_KEPT_DETAIL as SMS_KEPT
from segport.exports.fingerprint import fingerprint_sql, quote_ident
from segport.exports.state import ExportState

EMAIL = "EMAIL"
CUSTOMER = "_customer_id"
UPDATED = "_updated_at"


@dataclass(frozen=True)
class PlanTables:
    send: str
    remove: str
    rejects: str
    temporary: bool

    @property
    def create(self) -> str:
        return "CREATE OR REPLACE TEMP TABLE" if self.temporary else "CREATE OR REPLACE TABLE"


# A real run's send and remove plans are persistent (a resumed run continues them); its
# rejects go to a CSV file at plan time. A dry run's plan lives in memory only.
REAL = PlanTables("plan_send", "plan_remove", "scratch.plan_rejects", temporary=False)
DRY = PlanTables("scratch.dry_send", "scratch.dry_remove", "scratch.dry_rejects", temporary=False)


@dataclass
class PlanCounts:
    members: int = 0
    valid: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    to_send: int = 0
    to_remove: int = 0
    removal_refused: str | None = None
    rejected: dict[str, int] = field(default_factory=dict)


def build_plan(
    state: ExportState,
    tables: PlanTables,
    *,
    members: int,
    attribute_columns: Sequence[str],
    full: bool,
    mirror: bool,
    allow_mass_removal: bool,
) -> PlanCounts:
    con = state.con
    counts = PlanCounts(members=members)
    present = {
        str(r[0])
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'prep_contacts' "
            "AND schema_name = 'main' AND database_name <> 'temp'"
        ).fetchall()
    }
    send_cols = [EMAIL, *attribute_columns]
    has_sms = "SMS" in attribute_columns
    if not present:  # nothing was ever prepared: an empty segment
        attrs = "".join(f", NULL::VARCHAR AS {quote_ident(a)}" for a in attribute_columns)
        con.execute(
            f"CREATE TABLE prep_contacts AS SELECT NULL::VARCHAR AS {CUSTOMER}, "
            f"NULL::VARCHAR AS {EMAIL}{attrs} WHERE false"
        )
    _rank(con, has_updated_at=UPDATED in present, has_sms=has_sms)
    fp = fingerprint_sql(send_cols)
    select_cols = ", ".join(quote_ident(c) for c in send_cols)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE keyed AS SELECT CAST({CUSTOMER} AS VARCHAR) "
        f"AS {CUSTOMER}, {select_cols}, {fp} AS __fp FROM temp.ranked WHERE __erank = 1"
    )
    row = con.execute(
        """SELECT count(*), count(h.email) FILTER (WHERE h.fp = k.__fp),
                  count(h.email) FILTER (WHERE h.fp <> k.__fp)
           FROM keyed k LEFT JOIN held h ON h.email = k.EMAIL"""
    ).fetchall()[0]
    counts.valid, counts.unchanged, counts.changed = int(row[0]), int(row[1]), int(row[2])
    counts.new = counts.valid - counts.unchanged - counts.changed
    where = "" if full else "WHERE h.email IS NULL OR h.fp <> k.__fp"
    kcols = ", ".join(f"k.{quote_ident(c)}" for c in send_cols)
    con.execute(
        f"""{tables.create} {tables.send} AS
        SELECT row_number() OVER () AS __seq, k.{CUSTOMER}, k.__fp,
            CASE WHEN h.email IS NULL THEN 'new' WHEN h.fp = k.__fp THEN 'unchanged'
                 ELSE 'changed' END AS __kind, {kcols}
        FROM keyed k LEFT JOIN held h ON h.email = k.EMAIL {where}"""
    )
    counts.to_send = state.count(f"SELECT count(*) FROM {tables.send}")
    if mirror:
        con.execute(
            f"""{tables.create} {tables.remove} AS
            SELECT row_number() OVER (ORDER BY h.email) AS __seq, h.email, h.customer_id
            FROM held h ANTI JOIN keyed k ON h.email = k.EMAIL"""
        )
    else:
        con.execute(
            f"{tables.create} {tables.remove} AS SELECT NULL::BIGINT AS __seq, "
            "NULL::VARCHAR AS email, NULL::VARCHAR AS customer_id WHERE false"
        )
    counts.to_remove = state.count(f"SELECT count(*) FROM {tables.remove}")
    counts.removal_refused = _refuse_removal(state, counts, allow_mass_removal)
    sms_rejects = (
        f"""UNION ALL SELECT CAST({CUSTOMER} AS VARCHAR), {EMAIL}, 'SMS', 'sms_duplicate',
            '{SMS_KEPT}' || CAST(__swinner AS VARCHAR)
        FROM temp.ranked WHERE __erank = 1 AND __srank > 1"""
        if has_sms
        else ""
    )
    con.execute(
        f"""{tables.create} {tables.rejects} AS
        SELECT customer_id, email, field, reason, detail FROM prep_rejects
        UNION ALL SELECT CAST({CUSTOMER} AS VARCHAR), {EMAIL}, 'EMAIL', 'email_duplicate',
            '{EMAIL_KEPT}' || CAST(__ewinner AS VARCHAR)
        FROM temp.ranked WHERE __erank > 1
        {sms_rejects}"""
    )
    counts.rejected = dict(
        (str(r), int(n))
        for r, n in con.execute(
            f"SELECT reason, count(*) FROM {tables.rejects} GROUP BY reason ORDER BY reason"
        ).fetchall()
    )
    con.execute("DROP TABLE IF EXISTS temp.keyed")
    con.execute("DROP TABLE IF EXISTS temp.ranked")
    return counts


def _rank(con: duckdb.DuckDBPyConnection, *, has_updated_at: bool, has_sms: bool) -> None:
    """``temp.ranked``: prep_contacts ranked once by the contacts layer's duplicate rule.

    The rule is segport.contacts.dedupe's (a test proves both give the same result):
    best first by ``_updated_at`` descending (when mapped), then ``_customer_id``; one
    contact per email (``__erank = 1``), then among those, one holder per SMS
    (``__srank = 1``; later holders are sent without SMS). Materialised once, it serves
    the contacts and both kinds of duplicate rejects, instead of ranking three times.
    """
    order = f"{CUSTOMER} ASC"
    if has_updated_at:
        order = f"{UPDATED} DESC NULLS LAST, {order}"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ranked AS
        SELECT *, row_number() OVER e AS __erank, first({CUSTOMER}) OVER e AS __ewinner
        FROM prep_contacts WINDOW e AS (PARTITION BY {EMAIL} ORDER BY {order})"""
    )
    if not has_sms:
        return
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ranked AS
        SELECT * REPLACE (CASE WHEN __srank = 1 THEN SMS END AS SMS) FROM (
            SELECT *,
                CASE WHEN __erank = 1 AND SMS IS NOT NULL
                     THEN row_number() OVER s END AS __srank,
                CASE WHEN __erank = 1 AND SMS IS NOT NULL
                     THEN first({CUSTOMER}) OVER s END AS __swinner
            FROM temp.ranked
            WINDOW s AS (PARTITION BY SMS, __erank = 1 ORDER BY {order}))"""
    )


def _refuse_removal(state: ExportState, counts: PlanCounts, allow: bool) -> str | None:
    """Why mirror removal must not happen without --allow-mass-removal (None: it may)."""
    if counts.to_remove == 0 or allow:
        return None
    if counts.valid == 0:
        return (
            f"the segments have no valid members now, so removal would take all "
            f"{counts.to_remove} contacts this export added out of the list; nothing was "
            "removed. If that is intended, run again with --allow-mass-removal"
        )
    last = state.get("last_members")
    if isinstance(last, int) and last > 0 and counts.members * 2 < last:
        return (
            f"the segments shrank from {last} to {counts.members} members since the last run "
            f"(more than half), so {counts.to_remove} contacts would be removed from the list; "
            "nothing was removed. Check the segments, then run again with --allow-mass-removal"
        )
    return None

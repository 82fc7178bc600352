"""The plan of a run: diff the current contacts against what Brevo holds, list leavers.

All of it is SQL over the export state (``cur`` comes from :mod:`current`), so nothing is
held as Python objects. A real run writes its send and remove plans to persistent tables
that a resumed run continues from, and its rejects to a CSV file; a dry run keeps its
plan in the in-memory scratch database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from segport.exports.fingerprint import quote_ident
from segport.exports.held import emptied_sql, ensure_mask_column, mask_sql
from segport.exports.state import ExportState
from segport.exports.state_tables import (
    CUR,
    DRY_REJECTS,
    DRY_REMOVE,
    DRY_SEND,
    DUP_REJECTS,
    HELD,
    PEER_HELD,
    PLAN_REJECTS,
    PLAN_REMOVE,
    PLAN_SEND,
    PREP_REJECTS,
)

EMAIL = "EMAIL"
CUSTOMER = "_customer_id"
UPDATED = "_updated_at"
# A contact of a new chunk killed in flight is held with an unknown fingerprint and an empty
# mask (exports.resume): Brevo may have it or not, and sending it again adds it ('readd',
# counted and recorded as new), as in a clean run.
READD_SQL = "({h}.fp IS NULL AND {h}.mask = 0)"


@dataclass(frozen=True)
class PlanTables:
    send: str
    remove: str
    rejects: str
    temporary: bool
    viewable: bool = False  # the send plan may be a view of ``cur`` (real runs)

    @property
    def create(self) -> str:
        return "CREATE OR REPLACE TEMP TABLE" if self.temporary else "CREATE OR REPLACE TABLE"


# A real run's send and remove plans are persistent (a resumed run continues them); its
# rejects go to a CSV file at plan time. A dry run's plan lives in memory only.
REAL = PlanTables(PLAN_SEND, PLAN_REMOVE, PLAN_REJECTS, temporary=False, viewable=True)
DRY = PlanTables(DRY_SEND, DRY_REMOVE, DRY_REJECTS, temporary=False)


@dataclass
class PlanCounts:
    members: int = 0
    valid: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    to_send: int = 0
    to_remove: int = 0
    # Leavers another export on the list still holds: they stay on the list, and only
    # leave this export's state.
    to_release: int = 0
    # Contacts sent with emptyContactsAttributes (a value they were sent with is empty now).
    to_empty: int = 0
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
    cur_rebuilt: bool = False,
    held: str = HELD,
    clear_empty: bool = False,
    peers: bool = False,
    removal_blocked: str | None = None,
    sweep: bool = False,
) -> PlanCounts:
    """Plan the run; ``cur_rebuilt``: ``cur`` was numbered afresh by this run.

    ``held`` is the relation of what Brevo holds from this export (see held.bind);
    ``clear_empty``: contacts with a value that became empty are marked ``__empty`` and
    numbered first (they go in their own chunks, sent with emptyContactsAttributes);
    ``peers``: ``held.PEER_HELD`` lists what the list's other exports hold, which mirror
    removal leaves on the list; ``removal_blocked``: why no removal may happen now;
    ``sweep``: look for values to empty in unchanged contacts too (the setting was keep).
    """
    con = state.con
    if held == HELD:
        ensure_mask_column(state)  # (a state written before masks existed)
    counts = PlanCounts(members=members)
    send_cols = [EMAIL, *attribute_columns]
    counts.valid = state.count(f"SELECT count(*) FROM {CUR}")
    held_count = state.count(f"SELECT count(*) FROM {held} h")
    drop_relation(state, tables.send)
    kcols = ", ".join(f"k.{quote_ident(c)}" for c in send_cols)
    now_mask = mask_sql(attribute_columns, prefix="k.")

    def plan_rows(
        seq: str, kind: str, source: str, empty: str = "false", was: str = "NULL::UBIGINT"
    ) -> str:
        # __nz: which columns are non-empty now; __was: the held mask (send.py keeps the
        # columns Brevo may still hold a value of from us when nothing is emptied).
        return (
            f"SELECT {seq} AS __seq, k.__cid AS {CUSTOMER}, k.__fp, {kind} AS __kind, "
            f"{now_mask} AS __nz, {was} AS __was, {empty} AS __empty, {kcols} FROM {source}"
        )

    def emptied(held_mask: str) -> str:
        return emptied_sql(held_mask, now_mask) if clear_empty else "false"

    numbered = "row_number() OVER ()"
    if tables.viewable and cur_rebuilt and not held_count:
        # Brevo holds nothing from us (a first run): every current contact is new, so the
        # send plan is ``cur`` itself, numbered when it was rebuilt; a copy of a million
        # rows would cost more than the rest of the plan. ``cur`` stays as it is until
        # the next run plans, after this plan's chunks are settled.
        con.execute(f"CREATE VIEW {tables.send} AS " + plan_rows("k.__seq", "'new'", f"{CUR} k"))
    elif full:
        kind = (
            f"CASE WHEN h.email IS NULL THEN 'new' WHEN {READD_SQL.format(h='h')} THEN 'readd' "
            "WHEN h.fp = k.__fp THEN 'unchanged' ELSE 'changed' END"
        )
        source = f"{CUR} k LEFT JOIN {held} h ON h.email = k.EMAIL"
        # Every contact goes: --full also empties what Brevo kept while the export's
        # setting was keep.
        empty = f"(h.email IS NOT NULL AND {emptied('h.mask')})"
        con.execute(
            f"{tables.create} {tables.send} AS "
            + plan_rows(numbered, kind, source, empty, "h.mask")
        )
    else:
        # A fingerprint covers the email, so a contact Brevo holds as it is now has its
        # fingerprint in ``held``: one join on 128-bit numbers finds the new and changed
        # ones (cheaper than joining a million emails), and only those few are looked up
        # by email to tell new from changed.
        kind = (
            f"CASE WHEN n.email IS NULL THEN 'new' WHEN {READD_SQL.format(h='n')} "
            "THEN 'readd' ELSE 'changed' END"
        )
        swept = ""
        if sweep and clear_empty:
            # The setting was keep: unchanged contacts may hold values emptied since.
            swept = (
                f" UNION ALL SELECT k.* FROM {CUR} k SEMI JOIN {held} h ON h.fp = k.__fp "
                f"AND {emptied_sql('h.mask', now_mask)}"
            )
        empty = f"(n.email IS NOT NULL AND {emptied('n.mask')})"
        con.execute(
            f"""{tables.create} {tables.send} AS
            WITH todo AS (SELECT * FROM {CUR} k ANTI JOIN {held} h ON h.fp = k.__fp{swept}),
            known AS (SELECT h.email, h.mask, h.fp FROM {held} h SEMI JOIN todo t
                ON t.EMAIL = h.email)
            """
            + plan_rows(
                numbered, kind, "todo k LEFT JOIN known n ON n.email = k.EMAIL", empty, "n.mask"
            )
        )
    # The counts come from the send plan (a few rows on a later run) rather than from a
    # second join of every current contact with what Brevo holds.
    kinds = dict(
        (str(k), int(n))
        for k, n in con.execute(
            f"SELECT __kind, count(*) FROM {tables.send} GROUP BY __kind"
        ).fetchall()
    )
    counts.new = kinds.get("new", 0) + kinds.get("readd", 0)
    counts.changed = kinds.get("changed", 0)
    counts.unchanged = counts.valid - counts.new - counts.changed
    counts.to_send = sum(kinds.values())
    if clear_empty and counts.changed:
        counts.to_empty = state.count(f"SELECT count(*) FROM {tables.send} WHERE __empty")
        if counts.to_empty:
            # Emptying rows first: they go in chunks of their own (send.py), and an
            # emptied number is free before a later chunk gives it to another contact.
            con.execute(
                f"{tables.create} {tables.send} AS SELECT * REPLACE "
                "(row_number() OVER (ORDER BY __empty DESC, __seq) AS __seq) "
                f"FROM {tables.send}"
            )
    if mirror:
        shared = (
            f"h.email IN (SELECT email FROM {PEER_HELD} WHERE email IS NOT NULL)"
            if peers
            else "false"
        )
        con.execute(
            f"""{tables.create} {tables.remove} AS
            SELECT row_number() OVER (ORDER BY h.email) AS __seq, h.email, h.customer_id,
                {shared} AS __shared
            FROM {held} h ANTI JOIN {CUR} k ON h.email = k.EMAIL"""
        )
    else:
        con.execute(
            f"{tables.create} {tables.remove} AS SELECT NULL::BIGINT AS __seq, "
            "NULL::VARCHAR AS email, NULL::VARCHAR AS customer_id, NULL::BOOLEAN AS __shared "
            "WHERE false"
        )
    counts.to_remove = state.count(f"SELECT count(*) FROM {tables.remove} WHERE NOT __shared")
    counts.to_release = state.count(f"SELECT count(*) FROM {tables.remove} WHERE __shared")
    if removal_blocked and counts.to_remove:
        counts.removal_refused = removal_blocked
    else:
        counts.removal_refused = _refuse_removal(state, counts, allow_mass_removal, held_count)
    con.execute(
        f"""{tables.create} {tables.rejects} AS
        SELECT customer_id, email, field, reason, detail, value FROM {PREP_REJECTS}
        UNION ALL SELECT customer_id, email, field, reason, detail, __grp AS value
        FROM {DUP_REJECTS}"""
    )
    counts.rejected = dict(
        (str(r), int(n))
        for r, n in con.execute(
            f"SELECT reason, count(*) FROM {tables.rejects} GROUP BY reason ORDER BY reason"
        ).fetchall()
    )
    return counts


def drop_relation(state: ExportState, name: str) -> None:
    """Drop the table or view ``name`` if there is one (a send plan may be either)."""
    kind = state.relation_kind(name)
    if kind is not None:
        state.con.execute(f"DROP {kind} {name}")


def _refuse_removal(state: ExportState, counts: PlanCounts, allow: bool, held: int) -> str | None:
    """Why mirror removal must not happen without --allow-mass-removal (None: it may).

    What is guarded is what would leave the list, whatever the reason (left the segments,
    an email now invalid, a row not loaded): more than half of what the list holds from
    this export is refused, as are no valid members and segments that shrank by half.
    """
    if counts.to_remove == 0 or allow:
        return None
    if counts.valid == 0:
        return (
            f"the segments have no valid members now, so removal would take all "
            f"{counts.to_remove} contacts this export added out of the list; nothing was "
            "removed. If that is intended, run again allowing mass removal"
        )
    last = state.get("last_members")
    if isinstance(last, int) and last > 0 and counts.members * 2 < last:
        return (
            f"the segments shrank from {last} to {counts.members} members since the last run "
            f"(more than half), so {counts.to_remove} contacts would be removed from the list; "
            "nothing was removed. Check the segments, then run again allowing mass removal"
        )
    if held > 0 and counts.to_remove * 2 > held:
        return (
            f"{counts.to_remove:,} of the {held:,} contacts this export holds on the list would "
            "be removed (more than half; e.g. emails that became invalid or rows that were "
            "not loaded); nothing was removed. Check the profiles and segments (the dry run "
            "lists samples), then run again allowing mass removal"
        )
    return None

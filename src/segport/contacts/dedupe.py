"""One contact per email, one SMS number per contact, across the whole export.

The rule (deterministic, docs/contacts.md): contacts are ranked by ``_updated_at``
descending (most recently updated first; no date ranks last) when the mapping has
``updated_at``, then by ``_customer_id`` ascending. For each email the best-ranked
contact is kept and the others are dropped (``email_duplicate``). Then, among the kept
contacts, each SMS number stays with its best-ranked holder; later holders are sent
without SMS (``sms_duplicate``).

Two implementations with identical results: :func:`dedupe_contacts` on an Arrow table
(a batch, or a whole export that fits in memory), and :func:`dedupe_sql`, the same rule
as SQL for a DuckDB staging table, which spills to disk and so keeps memory bounded when
the engine stages a large segment batch by batch. Email dedupe may also be applied per
batch first (the best of the best is the best); SMS dedupe must run once, after the
email dedupe of the whole export, since dropping a contact can free its number.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from segport.contacts._literals import NULL_STR, lit
from segport.contacts.mapping import CUSTOMER_ID_COLUMN, EMAIL_COLUMN, SMS_COLUMN, UPDATED_AT_COLUMN
from segport.contacts.rejects import REJECT_SCHEMA, Reason, concat_rejects

EMAIL_KEPT_DETAIL = "another profile with this email was kept: customer "
SMS_KEPT_DETAIL = "this number stays with customer "


@dataclass(frozen=True)
class Deduped:
    """Kept contacts (input order, same columns) and the reject rows for the others."""

    contacts: pa.Table
    rejects: pa.Table


_GROUP = "__group"


def _rank_keys(table: pa.Table) -> list[tuple[str, str, str]]:
    keys: list[tuple[str, str, str]] = []
    if UPDATED_AT_COLUMN in table.column_names:
        keys.append((UPDATED_AT_COLUMN, "descending", "at_end"))
    keys.append((CUSTOMER_ID_COLUMN, "ascending", "at_end"))
    return keys


def _group_firsts(table: pa.Table, key: str) -> tuple[pa.Array, pa.BooleanArray, pa.Array]:
    """Sort by ``key`` then preference; return (order, first-of-group flags, winner ids).

    ``order`` lists row positions sorted so each group's preferred row comes first;
    ``winner ids`` gives, for each sorted row, the customer id of its group's first row.
    Groups are numbered with one hash pass (``dictionary_encode``), so the sort compares
    integers, not strings (about 3x faster); then a few linear passes, no joins.
    """
    column = table.column(key)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    group = pc.dictionary_encode(column).indices
    keyed = table.select([c for c, _, _ in _rank_keys(table)]).append_column(_GROUP, group)
    order = pc.sort_indices(keyed, sort_keys=[(_GROUP, "ascending", "at_end"), *_rank_keys(table)])
    keys = pc.take(group, order)
    n = len(keys)
    if n == 0:
        return order, pa.array([], pa.bool_()), pa.array([], pa.string())
    changed = pc.fill_null(pc.not_equal(keys.slice(1), keys.slice(0, n - 1)), lit(True))
    first = pa.concat_arrays([pa.array([True]), changed])
    ids = pc.take(table.column(CUSTOMER_ID_COLUMN), order)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    winners = pc.fill_null_forward(pc.if_else(first, ids, pa.scalar(None, ids.type)))
    return order, first, winners


def dedupe_contacts(contacts: pa.Table, *, sms: bool = True) -> Deduped:
    """Apply the rule to a contacts table (from :func:`prepare_batch`, possibly concatenated).

    ``sms=False`` removes email duplicates only (safe per batch before the final pass).
    Kept contacts keep their input order; reject rows are ordered by email, then rank.
    """
    if contacts.num_rows == 0:
        return Deduped(contacts, REJECT_SCHEMA.empty_table())
    table = contacts.combine_chunks()
    order, first, winners = _group_firsts(table, EMAIL_COLUMN)
    rejects: list[pa.Table] = []
    losers = pc.invert(first)
    if pc.any(losers).as_py():
        loser_rows = pc.take(table, order.filter(losers))
        rejects.append(
            _rejects(loser_rows, winners.filter(losers), EMAIL_COLUMN, Reason.EMAIL_DUPLICATE)
        )
        kept_positions = pc.sort_indices(order.filter(first))
        kept = pc.take(table, pc.take(order.filter(first), kept_positions))
    else:
        kept = table

    if sms and SMS_COLUMN in kept.column_names and kept.column(SMS_COLUMN).null_count < len(kept):
        order, first, winners = _group_firsts(kept, SMS_COLUMN)
        held = pc.is_valid(pc.take(kept.column(SMS_COLUMN), order))
        later = pc.and_(pc.invert(first), held)
        if pc.any(later).as_py():
            later_positions = order.filter(later)
            rejects.append(
                _rejects(
                    pc.take(kept, later_positions),
                    winners.filter(later),
                    SMS_COLUMN,
                    Reason.SMS_DUPLICATE,
                )
            )
            # un-sort the flags back to row positions, then empty those rows' SMS
            strip = pc.take(later, pc.sort_indices(order))
            index = kept.column_names.index(SMS_COLUMN)
            stripped = pc.if_else(strip, NULL_STR, kept.column(SMS_COLUMN))
            kept = kept.set_column(index, SMS_COLUMN, stripped)

    return Deduped(kept, concat_rejects(rejects))


def _rejects(losers: pa.Table, winners: pa.Array, field: str, reason: Reason) -> pa.Table:
    detail = EMAIL_KEPT_DETAIL if reason is Reason.EMAIL_DUPLICATE else SMS_KEPT_DETAIL
    n = losers.num_rows
    return pa.table(
        [
            losers.column(CUSTOMER_ID_COLUMN).cast(pa.string()),
            losers.column(EMAIL_COLUMN),
            pa.array([field] * n, pa.string()),
            pa.array([reason.value] * n, pa.string()),
            pc.binary_join_element_wise(lit(detail), winners.cast(pa.string()), lit("")),
            losers.column(field).cast(pa.string()),  # the shared email or number
        ],
        schema=REJECT_SCHEMA,
    )


@dataclass(frozen=True)
class DedupeSQL:
    """The rule as DuckDB SQL over a staging table of contacts (same columns as above).

    ``contacts`` selects the kept contacts, with ``SMS`` emptied for later holders;
    ``rejects`` selects reject rows with the columns of ``REJECT_SCHEMA``.
    """

    contacts: str
    rejects: str


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def dedupe_sql(table: str, *, has_updated_at: bool, has_sms: bool) -> DedupeSQL:
    """SQL for :class:`DedupeSQL` over the DuckDB table (or view) named ``table``."""
    cid, email, sms = _q(CUSTOMER_ID_COLUMN), _q(EMAIL_COLUMN), _q(SMS_COLUMN)
    order = f"{cid} ASC"
    if has_updated_at:
        order = f"{_q(UPDATED_AT_COLUMN)} DESC NULLS LAST, {order}"
    ranked = (
        f"SELECT *, row_number() OVER (PARTITION BY {email} ORDER BY {order}) AS __email_rank,"
        f" first({cid}) OVER (PARTITION BY {email} ORDER BY {order}) AS __email_winner"
        f" FROM {_q(table)}"
    )
    kept = "SELECT * EXCLUDE (__email_rank, __email_winner) FROM ranked WHERE __email_rank = 1"
    email_rejects = (
        f"SELECT CAST({cid} AS VARCHAR) AS customer_id, {email} AS email, 'EMAIL' AS field,"
        f" '{Reason.EMAIL_DUPLICATE.value}' AS reason,"
        f" '{EMAIL_KEPT_DETAIL}' || CAST(__email_winner AS VARCHAR) AS detail,"
        f" {email} AS value FROM ranked WHERE __email_rank > 1"
    )
    if not has_sms:
        return DedupeSQL(
            contacts=f"WITH ranked AS ({ranked}) {kept}",
            rejects=f"WITH ranked AS ({ranked}) {email_rejects}",
        )
    sms_ranked = (
        f"SELECT *, row_number() OVER (PARTITION BY {sms} ORDER BY {order}) AS __sms_rank,"
        f" first({cid}) OVER (PARTITION BY {sms} ORDER BY {order}) AS __sms_winner FROM kept"
    )
    ctes = f"WITH ranked AS ({ranked}), kept AS ({kept}), sms_ranked AS ({sms_ranked})"
    contacts = (
        f"{ctes} SELECT * EXCLUDE (__sms_rank, __sms_winner) REPLACE"
        f" (CASE WHEN __sms_rank = 1 THEN {sms} END AS {sms}) FROM sms_ranked"
    )
    sms_rejects = (
        f"SELECT CAST({cid} AS VARCHAR), {email}, 'SMS', '{Reason.SMS_DUPLICATE.value}',"
        f" '{SMS_KEPT_DETAIL}' || CAST(__sms_winner AS VARCHAR), {sms}"
        f" FROM sms_ranked WHERE {sms} IS NOT NULL AND __sms_rank > 1"
    )
    return DedupeSQL(contacts=contacts, rejects=f"{ctes} {email_rejects} UNION ALL {sms_rejects}")

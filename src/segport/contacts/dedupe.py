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

_RANK = "__rank"


@dataclass(frozen=True)
class Deduped:
    """Kept contacts (input order, same columns) and the reject rows for the others."""

    contacts: pa.Table
    rejects: pa.Table


def _sort_keys(table: pa.Table) -> list[tuple[str, str, str]]:
    keys: list[tuple[str, str, str]] = []
    if UPDATED_AT_COLUMN in table.column_names:
        keys.append((UPDATED_AT_COLUMN, "descending", "at_end"))
    keys.append((CUSTOMER_ID_COLUMN, "ascending", "at_end"))
    return keys


def dedupe_contacts(contacts: pa.Table, *, sms: bool = True) -> Deduped:
    """Apply the rule to a contacts table (from :func:`prepare_batch`, possibly concatenated).

    ``sms=False`` removes email duplicates only (safe per batch before the final pass).
    """
    if contacts.num_rows == 0:
        return Deduped(contacts, REJECT_SCHEMA.empty_table())
    order = pc.sort_indices(contacts, sort_keys=_sort_keys(contacts))
    # rank[i] = position of row i in the preference order (0 = best): the inverse permutation.
    rank = pc.sort_indices(order).cast(pa.int64())
    table = contacts.append_column(_RANK, rank)

    best = table.group_by(EMAIL_COLUMN, use_threads=False).aggregate([(_RANK, "min")])
    winners = best.join(
        table.select([EMAIL_COLUMN, _RANK, CUSTOMER_ID_COLUMN]),
        keys=[EMAIL_COLUMN, f"{_RANK}_min"],
        right_keys=[EMAIL_COLUMN, _RANK],
    )
    kept_mask = pc.is_in(rank, winners.column(f"{_RANK}_min"))
    rejects = []
    losers = table.filter(pc.invert(kept_mask))
    if losers.num_rows:
        rejects.append(
            _loser_rejects(
                losers,
                winners,
                EMAIL_COLUMN,
                EMAIL_COLUMN,
                Reason.EMAIL_DUPLICATE,
                EMAIL_KEPT_DETAIL,
            )
        )
    kept = table.filter(kept_mask)

    if sms and SMS_COLUMN in kept.column_names:
        holders = kept.filter(pc.is_valid(kept.column(SMS_COLUMN)))
        first = holders.group_by(SMS_COLUMN, use_threads=False).aggregate([(_RANK, "min")])
        sms_winners = first.join(
            holders.select([SMS_COLUMN, _RANK, CUSTOMER_ID_COLUMN]),
            keys=[SMS_COLUMN, f"{_RANK}_min"],
            right_keys=[SMS_COLUMN, _RANK],
        )
        holds = pc.is_valid(kept.column(SMS_COLUMN))
        later = pc.and_(
            holds, pc.invert(pc.is_in(kept.column(_RANK), sms_winners.column(f"{_RANK}_min")))
        )
        if pc.any(later).as_py():
            rejects.append(
                _loser_rejects(
                    kept.filter(later),
                    sms_winners,
                    SMS_COLUMN,
                    SMS_COLUMN,
                    Reason.SMS_DUPLICATE,
                    SMS_KEPT_DETAIL,
                )
            )
            index = kept.column_names.index(SMS_COLUMN)
            stripped = pc.if_else(later, NULL_STR, kept.column(SMS_COLUMN))
            kept = kept.set_column(index, SMS_COLUMN, stripped)

    return Deduped(kept.drop_columns([_RANK]), concat_rejects(rejects))


def _loser_rejects(
    losers: pa.Table, winners: pa.Table, key: str, field: str, reason: Reason, detail: str
) -> pa.Table:
    columns = list(dict.fromkeys([CUSTOMER_ID_COLUMN, EMAIL_COLUMN, key, _RANK]))
    pairs = losers.select(columns).join(
        winners.select([key, CUSTOMER_ID_COLUMN]).rename_columns([key, "__winner"]),
        keys=key,
    )
    pairs = pairs.sort_by(_RANK)
    n = pairs.num_rows
    winner = pairs.column("__winner").cast(pa.string())
    details = pc.binary_join_element_wise(lit(detail), winner, lit(""))
    return pa.table(
        [
            pairs.column(CUSTOMER_ID_COLUMN).cast(pa.string()),
            pairs.column(EMAIL_COLUMN),
            pa.array([field] * n, pa.string()),
            pa.array([reason.value] * n, pa.string()),
            details,
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
        f" '{EMAIL_KEPT_DETAIL}' || CAST(__email_winner AS VARCHAR) AS detail"
        f" FROM ranked WHERE __email_rank > 1"
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
        f" '{SMS_KEPT_DETAIL}' || CAST(__sms_winner AS VARCHAR)"
        f" FROM sms_ranked WHERE {sms} IS NOT NULL AND __sms_rank > 1"
    )
    return DedupeSQL(contacts=contacts, rejects=f"{ctes} {email_rejects} UNION ALL {sms_rejects}")

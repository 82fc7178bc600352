"""Mirror mode: take the contacts this export added, and that left its segments, out of
the list, 150 at a time. Contacts are never deleted from Brevo, only unlinked from the list.

A leaver another export on the list still holds (``__shared``) stays on the list; it only
leaves this export's state, so that the last export holding it removes it.

Each batch is checkpointed with the held rows it cleared, in one transaction, so a killed
run resumes after the last removed batch; removing a contact already out of the list is
harmless (Brevo lists it under ``failure``).
"""

from __future__ import annotations

from segport.brevo import BrevoClient
from segport.exports import hooks
from segport.exports.progress import Progress, ProgressCallback
from segport.exports.state import ExportState
from segport.exports.state_tables import CHUNKS, HELD

REMOVE_BATCH = 150  # Brevo's maximum per call


def remove_leavers(
    state: ExportState,
    client: BrevoClient,
    *,
    run_id: int,
    table: str,
    list_id: int,
    progress: ProgressCallback,
) -> int:
    """Remove the plan's leavers not yet removed; returns how many Brevo took out."""
    con = state.con
    total = state.count(f"SELECT count(*) FROM {table}")
    start = state.count(
        f"SELECT coalesce(max(last_seq), 0) FROM {CHUNKS} WHERE run_id = ? AND kind = 'remove'",
        [run_id],
    )
    number = state.count(
        f"SELECT coalesce(max(chunk_no), 0) FROM {CHUNKS} WHERE run_id = ? AND kind = 'remove'",
        [run_id],
    )
    removed = state.count(
        f"SELECT coalesce(sum(bytes), 0) FROM {CHUNKS} WHERE run_id = ? AND kind = 'remove'",
        [run_id],
    )
    progress(Progress("remove", start, total))
    while True:
        rows = con.execute(
            f"SELECT __seq, email, __shared FROM {table} WHERE __seq > ? ORDER BY __seq LIMIT ?",
            [start, REMOVE_BATCH],
        ).fetchall()
        if not rows:
            return removed
        emails = [str(r[1]) for r in rows if not r[2]]
        first, last = int(rows[0][0]), int(rows[-1][0])
        taken_out = len(client.remove_from_list(list_id, emails).success) if emails else 0
        number += 1
        with state.transaction():
            # ``bytes`` holds the count Brevo removed, for the run's summary.
            con.execute(
                f"INSERT INTO {CHUNKS} VALUES (?, 'remove', ?, ?, ?, ?, ?, 'done', NULL)",
                [run_id, number, first, last, len(rows), taken_out],
            )
            con.execute(
                f"DELETE FROM {HELD} WHERE email IN (SELECT email FROM {table} "
                "WHERE __seq BETWEEN ? AND ?)",
                [first, last],
            )
        state.note_checkpoint()
        hooks.checkpoint("removed", number)
        removed += taken_out
        start = last
        progress(Progress("remove", last, total))

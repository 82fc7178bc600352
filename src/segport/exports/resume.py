"""Picking up after a run that did not finish (killed, failed or canceled).

Its plan is never replayed: the profiles, segments or export may have changed since. What
Brevo took from it is settled into ``held`` first (:func:`settle_previous`), then the run
plans afresh against today's inputs, exactly as a dry run does. Rows Brevo may or may not
have taken become held with an unknown fingerprint (NULL): planning sends them again if
they are members, and a mirror export removes them if not, so the list ends as a clean run
on today's inputs would leave it. Re-planning costs what a run after a small change
costs: the prepared-contacts cache still holds every member prepared before.

A run resumed after a crash keeps its id: :func:`carry` keeps what its earlier plans sent
and removed for its summary, as their chunks go with their plan.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import asdict, dataclass

from segport.brevo import NotFoundError
from segport.exports.mirror import REMOVE_BATCH
from segport.exports.plan import REAL
from segport.exports.report import keep_changes
from segport.exports.send import ChunkSender, SendOutcome
from segport.exports.state import ExportState
from segport.exports.state_tables import CHUNKS, HELD, PLAN_SEND_PINNED, RUN_CHANGES

CARRIED = "carried"  # meta key: {"run_id", "counts"}


@dataclass(frozen=True)
class Carried:
    """Counts of the earlier plans of a resumed run."""

    sent: int = 0
    chunks: int = 0
    removed: int = 0


def settle_previous(
    state: ExportState, sender: Callable[[int], ChunkSender], old_run_id: int, mirror: bool
) -> list[str]:
    """Finish what Brevo took from the plan run ``old_run_id`` left, before planning.

    Submitted chunks are waited for and their contacts recorded as held. A chunk killed
    while posting, and the removal batch that may have been in flight, become held with
    an unknown fingerprint. Returns the chunks Brevo is still importing (the caller must
    not plan then: their contacts would be neither held nor sent).
    """
    if state.relation_kind(REAL.send) is None:
        return []
    outcome = SendOutcome()
    if _count(state, old_run_id, "kind = 'import' AND status = 'submitted'"):
        # (A report Brevo no longer has: the chunk stays submitted, settled next time.)
        with contextlib.suppress(NotFoundError):
            sender(old_run_id).settle(outcome)
    with state.transaction():
        if _count(state, old_run_id, "kind = 'import' AND status = 'posting'"):
            _unknown_posted(state, old_run_id)
        if mirror:
            _unknown_removal_batch(state, old_run_id)
    return outcome.waiting


def pin_plan(state: ExportState) -> None:
    """Turn a send plan that is a view of ``cur`` (a first run's) into a table of its own.

    A dry run refreshes ``cur`` before the next real run settles the old plan's change
    record: the view would then show other contacts at the accepted chunks' numbers.
    """
    if state.relation_kind(REAL.send) != "VIEW":
        return
    con = state.con
    with state.transaction():
        con.execute(f"CREATE TABLE {PLAN_SEND_PINNED} AS SELECT * FROM {REAL.send}")
        con.execute(f"DROP VIEW {REAL.send}")
        con.execute(f"ALTER TABLE {PLAN_SEND_PINNED} RENAME TO {REAL.send}")


def _count(state: ExportState, run_id: int, where: str) -> int:
    return state.count(f"SELECT count(*) FROM {CHUNKS} WHERE run_id = ? AND {where}", [run_id])


def _unknown_posted(state: ExportState, old_run_id: int) -> None:
    """Rows of a chunk killed while posting: in Brevo or not, nobody knows."""
    uncertain = f"""SELECT p.EMAIL, p._customer_id FROM {REAL.send} p
        JOIN {CHUNKS} c ON p.__seq BETWEEN c.first_seq AND c.last_seq
        WHERE c.run_id = {int(old_run_id)} AND c.kind = 'import' AND c.status = 'posting'"""
    state.forget_fingerprints(f"SELECT EMAIL FROM ({uncertain})")
    # The new ones get an empty mask: sent again, they count as new (plan.READD_SQL).
    masked = state.has_column(HELD, "mask")
    mask = (", mask", ", 0::UBIGINT") if masked else ("", "")
    state.con.execute(
        f"""INSERT INTO {HELD} (email, customer_id, fp{mask[0]})
        SELECT u.EMAIL, u._customer_id, NULL{mask[1]} FROM ({uncertain}) u
        WHERE u.EMAIL NOT IN (SELECT email FROM {HELD})"""
    )
    state.con.execute(
        f"UPDATE {CHUNKS} SET status = 'lost' WHERE run_id = ? AND kind = 'import' "
        "AND status = 'posting'",
        [old_run_id],
    )


def _unknown_removal_batch(state: ExportState, old_run_id: int) -> None:
    """The removal batch after the last one checkpointed may have reached Brevo (removal
    starts once every chunk of the plan is done)."""
    if state.relation_kind(REAL.remove) is None:
        return
    if _count(state, old_run_id, "kind = 'import' AND status <> 'done'"):
        return
    covered = state.count(
        f"SELECT coalesce(sum(rows), 0) FROM {CHUNKS} WHERE run_id = ? AND kind = 'import'",
        [old_run_id],
    )
    if covered < state.count(f"SELECT count(*) FROM {REAL.send}"):
        return
    last = state.count(
        f"SELECT coalesce(max(last_seq), 0) FROM {CHUNKS} WHERE run_id = ? AND kind = 'remove'",
        [old_run_id],
    )
    state.forget_fingerprints(
        f"SELECT email FROM {REAL.remove} WHERE __seq > {int(last)} "
        f"ORDER BY __seq LIMIT {REMOVE_BATCH}"
    )


def carry(state: ExportState, run_id: int, saved: object) -> tuple[Carried, bool]:
    """Drop the earlier plan (settled already) and all chunks, keeping what the plans of
    this same run sent and removed: (those counts, whether this run is a resumed one).

    One transaction, so a kill at any point counts nothing twice.
    """
    before = state.get(CARRIED)
    same = isinstance(before, dict) and before.get("run_id") == run_id
    carried = Carried(**before["counts"]) if same else Carried()
    resumed = same
    if isinstance(saved, dict) and saved.get("run_id") == run_id:
        resumed = True
        rows = state.con.execute(
            f"""SELECT coalesce(sum(rows) FILTER (kind = 'import' AND status = 'done'), 0),
            count(*) FILTER (kind = 'import' AND status = 'done'),
            coalesce(sum(bytes) FILTER (kind = 'remove'), 0)
            FROM {CHUNKS} WHERE run_id = ?""",
            [run_id],
        ).fetchall()
        sent, chunks, removed = (int(v or 0) for v in rows[0])
        carried = Carried(carried.sent + sent, carried.chunks + chunks, carried.removed + removed)
    con = state.con
    with state.transaction():
        state.set(CARRIED, {"run_id": run_id, "counts": asdict(carried)})
        if isinstance(saved, dict) and saved.get("run_id") == run_id:
            # The change record of this run must list what the dropped plan had accepted.
            keep_changes(state, run_id, REAL.send, REAL.remove)
        else:
            con.execute(f"DELETE FROM {RUN_CHANGES} WHERE run_id <> ?", [run_id])
        state.delete("plan")
        # Chunk rows are numbered by the plan they belonged to, so every one goes.
        con.execute(f"DELETE FROM {CHUNKS}")
    return carried, resumed

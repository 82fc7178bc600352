"""The change record lists exactly the rows Brevo accepted, whatever shape the chunks took."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from segport.exports.report import MAX_RANGES, write_changes_csv
from segport.exports.state import ExportState

RUN = 7


def _state(tmp_path: Path, rows: int) -> ExportState:
    state = ExportState(tmp_path / "state.duckdb")
    state.con.execute(
        f"""CREATE TABLE plan_send AS SELECT i AS __seq, CAST(i AS VARCHAR) AS _customer_id,
        CASE WHEN i % 3 = 0 THEN 'changed' ELSE 'new' END AS __kind,
        'u' || i || '@x.io' AS EMAIL FROM range(1, {rows} + 1) t(i)"""
    )
    state.con.execute(
        "CREATE TABLE plan_remove AS SELECT i AS __seq, 'gone' || i || '@x.io' AS email, "
        "CAST(100 + i AS VARCHAR) AS customer_id FROM range(1, 6) t(i)"
    )
    return state


def _chunk(
    state: ExportState, no: int, first: int, last: int, status: str, kind: str = "import"
) -> None:
    state.con.execute(
        "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, 0, ?, NULL)",
        [RUN, kind, no, first, last, last - first + 1, status],
    )


def _emails(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {r["email"]: r["outcome"] for r in csv.DictReader(fh)}


def _write(state: ExportState, tmp_path: Path) -> tuple[dict[str, int], dict[str, str]]:
    path = tmp_path / "changes.csv"
    counts = write_changes_csv(state, RUN, "plan_send", "plan_remove", path)
    return counts, _emails(path)


def test_tiled_chunks_with_a_gap_and_a_refusal(tmp_path: Path) -> None:
    with _state(tmp_path, 30) as state:
        _chunk(state, 1, 1, 10, "done")
        _chunk(state, 2, 21, 30, "done")  # 11-20: a chunk that failed and was not sent again
        state.con.execute(
            "INSERT INTO brevo_rejects VALUES (?, '4', 'u4@x.io', 'EMAIL', ?, '')",
            [RUN, "brevo_invalid_email"],
        )
        _chunk(state, 1, 1, 3, "done", kind="remove")
        counts, rows = _write(state, tmp_path)
    sent = {f"u{i}@x.io" for i in [*range(1, 11), *range(21, 31)] if i != 4}
    removed = {f"gone{i}@x.io" for i in range(1, 4)}
    assert set(rows) == sent | removed
    assert rows["u3@x.io"] == "updated" and rows["u1@x.io"] == "added"
    assert counts == {
        "added": sum(1 for e in sent if rows[e] == "added"),
        "updated": sum(1 for e in sent if rows[e] == "updated"),
        "removed": 3,
    }


def test_overlapping_ranges_and_a_pending_chunk(tmp_path: Path) -> None:
    """A chunk re-cut after a failure spans rows another chunk carries: each row counts
    once, and rows a pending chunk covers are not accepted yet."""
    with _state(tmp_path, 30) as state:
        _chunk(state, 1, 11, 20, "done")
        _chunk(state, 2, 1, 30, "done")  # carried 1-10 and 21-25 around chunk 1
        _chunk(state, 3, 26, 30, "submitted")
        counts, rows = _write(state, tmp_path)
    assert set(rows) == {f"u{i}@x.io" for i in range(1, 26)}
    assert sum(counts.values()) == 25


@pytest.mark.parametrize("chunks", [MAX_RANGES + 5])
def test_many_separate_ranges(tmp_path: Path, chunks: int) -> None:
    with _state(tmp_path, 3 * chunks) as state:
        for no in range(chunks):  # every third row is left out: no two ranges touch
            _chunk(state, no + 1, 3 * no + 1, 3 * no + 2, "done")
        counts, rows = _write(state, tmp_path)
    assert set(rows) == {f"u{3 * no + k}@x.io" for no in range(chunks) for k in (1, 2)}
    assert sum(counts.values()) == 2 * chunks

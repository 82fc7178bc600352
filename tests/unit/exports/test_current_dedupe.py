"""The duplicate rule on examples (docs/contacts.md, "Duplicates"), as a run applies it:
``exports.current`` over the prepared contacts in the export state. (Moved from the Arrow
and SQL implementations in ``segport.contacts``, which runs never used.)"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from segport.exports.current import EMAIL_KEPT, SMS_KEPT, refresh_current
from segport.exports.state import ExportState

Row = tuple[int, str, str | None, dt.datetime | None]


def D(day: int) -> dt.datetime:
    return dt.datetime(2024, 1, day)


def dedupe(
    tmp_path: Path, rows: list[Row], *, updated: bool
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """(kept contacts as (id, email, SMS) by id, reject rows sorted) after a rebuild."""
    data: dict[str, pa.Array] = {
        "_customer_id": pa.array([r[0] for r in rows], pa.int64()),
        "EMAIL": pa.array([r[1] for r in rows], pa.string()),
        "FIRSTNAME": pa.array([f"n{r[0]}" for r in rows], pa.string()),
        "SMS": pa.array([r[2] for r in rows], pa.string()),
    }
    if updated:
        data["_updated_at"] = pa.array([r[3] for r in rows], pa.timestamp("us"))
    with ExportState(tmp_path / "s.duckdb") as state:
        state.con.register("prepared", pa.table(data))
        state.con.execute("CREATE TABLE prep_contacts AS SELECT * FROM prepared")
        how = refresh_current(state, ["FIRSTNAME", "SMS"], changed=None, members=len(rows))
        assert how == "rebuilt"
        kept = state.con.execute(
            "SELECT _customer_id, EMAIL, SMS FROM cur ORDER BY _customer_id"
        ).fetchall()
        rejects = state.con.execute(
            "SELECT customer_id, email, field, reason, detail, __grp FROM dup_rejects ORDER BY 1, 3"
        ).fetchall()
    return kept, rejects


def test_smallest_customer_id_wins_without_an_update_column(tmp_path: Path) -> None:
    rows: list[Row] = [(5, "a@x.io", None, None), (3, "a@x.io", None, None)]
    rows += [(4, "b@x.io", None, None), (10, "c@x.io", None, None), (9, "c@x.io", None, None)]
    kept, rejects = dedupe(tmp_path, rows, updated=False)
    assert [k[0] for k in kept] == [3, 4, 9]  # ids compare as numbers: 9 before 10
    assert rejects == [
        ("10", "c@x.io", "EMAIL", "email_duplicate", EMAIL_KEPT + "9", "c@x.io"),
        ("5", "a@x.io", "EMAIL", "email_duplicate", EMAIL_KEPT + "3", "a@x.io"),
    ]


def test_most_recently_updated_wins_and_missing_dates_rank_last(tmp_path: Path) -> None:
    rows = [
        (1, "a@x.io", None, D(1)),
        (2, "a@x.io", None, D(9)),
        (3, "a@x.io", None, None),
        (4, "b@x.io", None, None),
        (5, "b@x.io", None, None),
    ]
    kept, rejects = dedupe(tmp_path, rows, updated=True)
    assert [k[0] for k in kept] == [2, 4]
    assert [r[0] for r in rejects] == ["1", "3", "5"]


def test_later_sms_holders_lose_the_sms(tmp_path: Path) -> None:
    rows = [
        (1, "a@x.io", "+441", D(1)),
        (2, "b@x.io", "+441", D(5)),
        (3, "c@x.io", "+441", None),
        (4, "d@x.io", "+442", None),
    ]
    kept, rejects = dedupe(tmp_path, rows, updated=True)
    assert [k[2] for k in kept] == [None, "+441", None, "+442"]
    assert {(r[0], r[2], r[3], r[4]) for r in rejects} == {
        ("1", "SMS", "sms_duplicate", SMS_KEPT + "2"),
        ("3", "SMS", "sms_duplicate", SMS_KEPT + "2"),
    }


def test_a_dropped_duplicate_frees_its_number(tmp_path: Path) -> None:
    # customer 1 would hold +441 but loses its email to customer 2, so customer 3 keeps it
    rows = [(1, "a@x.io", "+441", D(1)), (2, "a@x.io", None, D(9)), (3, "c@x.io", "+441", D(2))]
    kept, rejects = dedupe(tmp_path, rows, updated=True)
    assert [(k[0], k[2]) for k in kept] == [(2, None), (3, "+441")]
    assert [r[3] for r in rejects] == ["email_duplicate"]


def test_no_contacts(tmp_path: Path) -> None:
    assert dedupe(tmp_path, [], updated=True) == ([], [])

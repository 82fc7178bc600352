"""Dedupe: one contact per email, one SMS per contact; Arrow and DuckDB SQL agree."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segport.contacts import Reason, dedupe_contacts, dedupe_sql
from segport.contacts.dedupe import EMAIL_KEPT_DETAIL, SMS_KEPT_DETAIL


def _contacts(
    rows: list[tuple[int, str, str | None, dt.datetime | None]], updated: bool
) -> pa.Table:
    data: dict[str, pa.Array] = {
        "_customer_id": pa.array([r[0] for r in rows], pa.int64()),
        "EMAIL": pa.array([r[1] for r in rows], pa.string()),
        "FIRSTNAME": pa.array([f"n{r[0]}" for r in rows], pa.string()),
        "SMS": pa.array([r[2] for r in rows], pa.string()),
    }
    if updated:
        data["_updated_at"] = pa.array([r[3] for r in rows], pa.timestamp("us"))
    return pa.table(data)


def D(day: int) -> dt.datetime:
    return dt.datetime(2024, 1, day)


def test_smallest_customer_id_wins_without_an_update_column() -> None:
    table = _contacts(
        [(5, "a@x.io", None, None), (3, "a@x.io", None, None), (4, "b@x.io", None, None)], False
    )
    out = dedupe_contacts(table)
    assert out.contacts.column("_customer_id").to_pylist() == [3, 4]  # input order kept
    assert out.rejects.to_pylist() == [
        {
            "customer_id": "5",
            "email": "a@x.io",
            "field": "EMAIL",
            "reason": Reason.EMAIL_DUPLICATE,
            "detail": EMAIL_KEPT_DETAIL + "3",
            "value": "a@x.io",
        }
    ]


def test_most_recently_updated_wins_and_missing_dates_rank_last() -> None:
    rows = [
        (1, "a@x.io", None, D(1)),
        (2, "a@x.io", None, D(9)),
        (3, "a@x.io", None, None),
        (4, "b@x.io", None, None),
        (5, "b@x.io", None, None),
    ]
    out = dedupe_contacts(_contacts(rows, True))
    assert out.contacts.column("_customer_id").to_pylist() == [2, 4]
    assert sorted(r["customer_id"] for r in out.rejects.to_pylist()) == ["1", "3", "5"]


def test_later_sms_holders_lose_the_sms() -> None:
    rows = [
        (1, "a@x.io", "+441", D(1)),
        (2, "b@x.io", "+441", D(5)),
        (3, "c@x.io", "+441", None),
        (4, "d@x.io", "+442", None),
    ]
    out = dedupe_contacts(_contacts(rows, True))
    assert out.contacts.column("SMS").to_pylist() == [None, "+441", None, "+442"]
    rejects = out.rejects.to_pylist()
    assert {(r["customer_id"], r["field"], r["reason"], r["detail"]) for r in rejects} == {
        ("1", "SMS", Reason.SMS_DUPLICATE, SMS_KEPT_DETAIL + "2"),
        ("3", "SMS", Reason.SMS_DUPLICATE, SMS_KEPT_DETAIL + "2"),
    }


def test_a_dropped_duplicate_frees_its_number() -> None:
    # customer 1 would hold +441 but loses its email to customer 2, so customer 3 keeps it
    rows = [(1, "a@x.io", "+441", D(1)), (2, "a@x.io", None, D(9)), (3, "c@x.io", "+441", D(2))]
    out = dedupe_contacts(_contacts(rows, True))
    assert out.contacts.to_pydict()["SMS"] == [None, "+441"]
    assert [r["reason"] for r in out.rejects.to_pylist()] == [Reason.EMAIL_DUPLICATE]


def test_email_only_pass_keeps_sms() -> None:
    rows = [(1, "a@x.io", "+441", None), (2, "b@x.io", "+441", None)]
    out = dedupe_contacts(_contacts(rows, False), sms=False)
    assert out.contacts.column("SMS").to_pylist() == ["+441", "+441"]
    assert out.rejects.num_rows == 0


def test_empty_table() -> None:
    out = dedupe_contacts(_contacts([], True))
    assert out.contacts.num_rows == 0 and out.rejects.num_rows == 0


def _run_sql(
    table: pa.Table, updated: bool
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    con = duckdb.connect()
    con.register("staged_view", table)
    con.execute("CREATE TABLE staged AS SELECT * FROM staged_view")
    sql = dedupe_sql("staged", has_updated_at=updated, has_sms=True)
    contacts = con.sql(sql.contacts).to_arrow_table()
    rejects = con.sql(sql.rejects).to_arrow_table()
    con.close()
    return (
        sorted(tuple(r.values()) for r in contacts.select(table.column_names).to_pylist()),
        sorted(tuple(r.values()) for r in rejects.to_pylist()),
    )


_rows = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=40),
        st.sampled_from(["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"]),
        st.none() | st.sampled_from(["+441", "+442", "+443"]),
        st.none() | st.integers(min_value=1, max_value=4).map(D),
    ),
    max_size=25,
    unique_by=lambda r: r[0],
)


@settings(max_examples=60, deadline=None)
@given(rows=_rows, updated=st.booleans())
def test_arrow_and_sql_give_the_same_answer(
    rows: list[tuple[int, str, str | None, dt.datetime | None]], updated: bool
) -> None:
    table = _contacts(rows, updated)
    arrow = dedupe_contacts(table)
    sql_contacts, sql_rejects = _run_sql(table, updated)
    assert sorted(tuple(r.values()) for r in arrow.contacts.to_pylist()) == sql_contacts
    assert sorted(tuple(r.values()) for r in arrow.rejects.to_pylist()) == sql_rejects
    # the rule's invariants
    emails = arrow.contacts.column("EMAIL").to_pylist()
    assert len(emails) == len(set(emails)) == len({r[1] for r in rows})
    sms = [s for s in arrow.contacts.column("SMS").to_pylist() if s is not None]
    assert len(sms) == len(set(sms))
    assert arrow.contacts.num_rows + sum(
        r["reason"] == Reason.EMAIL_DUPLICATE for r in arrow.rejects.to_pylist()
    ) == len(rows)


@settings(max_examples=30, deadline=None)
@given(rows=_rows, cut=st.integers(min_value=0, max_value=25))
def test_per_batch_email_dedupe_first_changes_nothing(
    rows: list[tuple[int, str, str | None, dt.datetime | None]], cut: int
) -> None:
    table = _contacts(rows, True)
    once = dedupe_contacts(table)
    parts = [
        dedupe_contacts(table.slice(0, cut), sms=False),
        dedupe_contacts(table.slice(cut), sms=False),
    ]
    twice = dedupe_contacts(pa.concat_tables([p.contacts for p in parts]))
    assert sorted(once.contacts.column("_customer_id").to_pylist()) == sorted(
        twice.contacts.column("_customer_id").to_pylist()
    )
    assert sorted(once.contacts.column("SMS").to_pylist(), key=str) == sorted(
        twice.contacts.column("SMS").to_pylist(), key=str
    )


def test_sql_without_sms_or_update_column() -> None:
    table = _contacts([(2, "a@x.io", None, None), (1, "a@x.io", None, None)], False).drop_columns(
        ["SMS"]
    )
    con = duckdb.connect()
    con.register("t", table)
    sql = dedupe_sql("t", has_updated_at=False, has_sms=False)
    assert con.sql(sql.contacts).fetchall() == [(1, "a@x.io", "n1")]
    assert con.sql(sql.rejects).fetchall() == [
        ("2", "a@x.io", "EMAIL", "email_duplicate", EMAIL_KEPT_DETAIL + "1", "a@x.io")
    ]


@pytest.mark.parametrize("name", ['we"ird', "with space"])
def test_sql_quotes_the_table_name(name: str) -> None:
    assert (
        f'"{name.replace(chr(34), chr(34) * 2)}"'
        in dedupe_sql(name, has_updated_at=False, has_sms=False).contacts
    )

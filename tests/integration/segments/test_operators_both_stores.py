# ruff: noqa: E501  (the table of cases reads best one case per line)
"""Every operator and every combination, on DuckDB and on PostgreSQL, against a Python oracle.

The same profiles are loaded into both stores; each rule becomes a segment in a workspace
on each store, and the member ids must be equal on both and equal to what the oracle says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from segport.profiles import DuckDBStore, PostgresStore, ProfileStore
from segport.segments import count_members, stream_members
from segport.service.access import actor_named
from segport.service.opening import init_workspace
from segport.service.profile_source import load_profiles
from segport.service.segment_definitions import create_segment
from segport.service.workspace import Workspace

from .conftest import TODAY, create_pg_profiles, profiles_table

Row = dict[str, Any]


def day(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def lo(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def shift_months(d: date, months: int) -> date:
    import calendar

    index = d.year * 12 + d.month - 1 + months
    y, m = divmod(index, 12)
    return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


D = date.fromisoformat


@dataclass(frozen=True)
class Case:
    name: str
    where: str
    oracle: Callable[[Row], bool]


def _n(v: Any) -> bool:
    return v is not None


CASES = [
    # text
    Case("t_eq", "country = 'GB'", lambda r: r["country"] == "GB"),
    Case("t_eq_ic", "country = 'gb' ignore case", lambda r: lo(r["country"]) == "gb"),
    Case("t_neq", "country != 'GB'", lambda r: _n(r["country"]) and r["country"] != "GB"),
    Case("t_neq_ic", "country <> 'gb' ignore case", lambda r: _n(r["country"]) and lo(r["country"]) != "gb"),
    Case("t_contains", "email contains 'example'", lambda r: "example" in (r["email"] or "\0")),
    Case("t_contains_ic", "email contains 'EXAMPLE.C' ignore case", lambda r: "example.c" in (lo(r["email"]) or "\0")),
    Case("t_contains_pct", "email contains '%'", lambda r: "%" in (r["email"] or "\0")),
    Case("t_starts", "first_name starts with 'An'", lambda r: (r["first_name"] or "\0").startswith("An")),
    Case("t_starts_ic", "first_name starts with 'an' ignore case", lambda r: (lo(r["first_name"]) or "\0").startswith("an")),
    Case("t_ends", "email ends with '.com'", lambda r: (r["email"] or "\0").endswith(".com")),
    Case("t_ends_ic", "email ends with '@EXAMPLE.COM' ignore case", lambda r: (lo(r["email"]) or "\0").endswith("@example.com")),
    Case("t_any", "country in ('GB', 'FR')", lambda r: r["country"] in ("GB", "FR")),
    Case("t_any_ic", "country any of ('gb', 'fr') ignore case", lambda r: lo(r["country"]) in ("gb", "fr")),
    Case("t_none", "country none of ('GB', 'FR')", lambda r: _n(r["country"]) and r["country"] not in ("GB", "FR")),
    Case("t_none_ic", "country none of ('gb') ignore case", lambda r: _n(r["country"]) and lo(r["country"]) != "gb"),
    Case("t_not_in", "country not in ('GB')", lambda r: r["country"] != "GB"),
    Case("t_empty", "country is empty", lambda r: r["country"] is None or r["country"].strip() == ""),
    Case("t_has_value", "country has value", lambda r: bool((r["country"] or "").strip())),
    Case("t_is_not_empty", "country is not empty", lambda r: bool((r["country"] or "").strip())),
    Case("t_null", "country is null", lambda r: r["country"] is None),
    Case("t_not_null", "country is not null", lambda r: r["country"] is not None),
    Case("t_quote", "first_name = 'O''Brien'", lambda r: r["first_name"] == "O'Brien"),
    Case("t_unicode_ic", "first_name = 'ZOË' ignore case", lambda r: lo(r["first_name"]) == "zoë"),
    Case("t_quoted_attr", "\"first_name\" = 'bob'", lambda r: r["first_name"] == "bob"),
    # numbers
    Case("n_gt", "lifetime_value > 250", lambda r: _n(r["lifetime_value"]) and r["lifetime_value"] > 250),
    Case("n_gte", "lifetime_value >= 250.25", lambda r: _n(r["lifetime_value"]) and r["lifetime_value"] >= 250.25),
    Case("n_lt", "orders < 3", lambda r: _n(r["orders"]) and r["orders"] < 3),
    Case("n_lte", "orders <= 3", lambda r: _n(r["orders"]) and r["orders"] <= 3),
    Case("n_eq", "orders = 4", lambda r: r["orders"] == 4),
    Case("n_eq2", "orders == 4", lambda r: r["orders"] == 4),
    Case("n_neq", "orders != 4", lambda r: _n(r["orders"]) and r["orders"] != 4),
    Case("n_between", "lifetime_value between 100 and 200.25", lambda r: _n(r["lifetime_value"]) and 100 <= r["lifetime_value"] <= 200.25),
    Case("n_not_between", "lifetime_value not between 100 and 400", lambda r: not (_n(r["lifetime_value"]) and 100 <= r["lifetime_value"] <= 400)),
    Case("n_any", "orders in (1, 2, 3)", lambda r: r["orders"] in (1, 2, 3)),
    Case("n_none", "orders none of (0, 8)", lambda r: _n(r["orders"]) and r["orders"] not in (0, 8)),
    Case("n_negative", "lifetime_value > -1", lambda r: _n(r["lifetime_value"])),
    Case("n_null", "lifetime_value is null", lambda r: r["lifetime_value"] is None),
    Case("n_empty", "orders is empty", lambda r: r["orders"] is None),
    Case("n_has_value", "orders has value", lambda r: r["orders"] is not None),
    # dates
    Case("d_rel", "last_purchase >= today() - interval 30 days", lambda r: _n(r["last_purchase"]) and r["last_purchase"] >= TODAY - timedelta(days=30)),
    Case("d_rel_str", "last_purchase >= today() - interval '2 weeks'", lambda r: _n(r["last_purchase"]) and r["last_purchase"] >= TODAY - timedelta(days=14)),
    Case("d_before", "last_purchase before '2026-01-01'", lambda r: _n(r["last_purchase"]) and r["last_purchase"] < D("2026-01-01")),
    Case("d_after", "last_purchase after date '2026-06-01'", lambda r: _n(r["last_purchase"]) and r["last_purchase"] > D("2026-06-01")),
    Case("d_between", "last_purchase between '2026-01-01' and '2026-03-31'", lambda r: _n(r["last_purchase"]) and D("2026-01-01") <= r["last_purchase"] <= D("2026-03-31")),
    Case("d_within", "last_purchase within last 30 days", lambda r: _n(r["last_purchase"]) and TODAY - timedelta(days=30) <= r["last_purchase"] <= TODAY),
    Case("d_within_months", "last_purchase within the last 2 months", lambda r: _n(r["last_purchase"]) and shift_months(TODAY, -2) <= r["last_purchase"] <= TODAY),
    Case("d_in_month", "last_purchase in month '2026-05'", lambda r: _n(r["last_purchase"]) and (r["last_purchase"].year, r["last_purchase"].month) == (2026, 5)),
    Case("d_eq_today", "last_purchase = today()", lambda r: r["last_purchase"] == TODAY),
    Case("d_neq", "last_purchase != today() - interval 1 week", lambda r: _n(r["last_purchase"]) and r["last_purchase"] != TODAY - timedelta(days=7)),
    Case("d_lte_year", "last_purchase <= today() - interval 1 year", lambda r: _n(r["last_purchase"]) and r["last_purchase"] <= date(TODAY.year - 1, TODAY.month, TODAY.day)),
    Case("d_gt_future", "last_purchase > today() + interval 3 days", lambda r: _n(r["last_purchase"]) and r["last_purchase"] > TODAY + timedelta(days=3)),
    Case("d_lt", "last_purchase < date '2025-12-24' + interval 1 month", lambda r: _n(r["last_purchase"]) and r["last_purchase"] < D("2026-01-24")),
    Case("d_null", "last_purchase is null", lambda r: r["last_purchase"] is None),
    # timestamps, compared on whole days
    Case("ts_after", "signed_up_at after '2025-03-01'", lambda r: _n(r["signed_up_at"]) and day(r["signed_up_at"]) > D("2025-03-01")),
    Case("ts_eq", "signed_up_at = '2025-01-11'", lambda r: day(r["signed_up_at"]) == D("2025-01-11")),
    Case("ts_in_month", "signed_up_at in month '2025-02'", lambda r: _n(r["signed_up_at"]) and day(r["signed_up_at"]).strftime("%Y-%m") == "2025-02"),  # type: ignore[union-attr]
    Case("ts_within", "signed_up_at within last 400 days", lambda r: _n(r["signed_up_at"]) and TODAY - timedelta(days=400) <= day(r["signed_up_at"]) <= TODAY),  # type: ignore[operator]
    Case("ts_between", "signed_up_at between '2025-01-01' and '2025-01-31'", lambda r: _n(r["signed_up_at"]) and D("2025-01-01") <= day(r["signed_up_at"]) <= D("2025-01-31")),  # type: ignore[operator]
    Case("ts_lt", "signed_up_at < date '2025-02-01'", lambda r: _n(r["signed_up_at"]) and day(r["signed_up_at"]) < D("2025-02-01")),  # type: ignore[operator]
    Case("ts_lte", "signed_up_at <= '2025-02-01'", lambda r: _n(r["signed_up_at"]) and day(r["signed_up_at"]) <= D("2025-02-01")),  # type: ignore[operator]
    Case("ts_gt", "signed_up_at > '2025-06-30'", lambda r: _n(r["signed_up_at"]) and day(r["signed_up_at"]) > D("2025-06-30")),  # type: ignore[operator]
    Case("ts_gte", "signed_up_at >= '2025-06-30'", lambda r: _n(r["signed_up_at"]) and day(r["signed_up_at"]) >= D("2025-06-30")),  # type: ignore[operator]
    Case("ts_before", "signed_up_at before today() - interval 1 year", lambda r: _n(r["signed_up_at"]) and day(r["signed_up_at"]) < date(TODAY.year - 1, TODAY.month, TODAY.day)),  # type: ignore[operator]
    # time-zone aware timestamps, compared on whole UTC days
    Case("tz_eq", "seen_at = '2026-06-03'", lambda r: day(r["seen_at"]) == D("2026-06-03")),
    Case("tz_after", "seen_at after '2026-06-20'", lambda r: _n(r["seen_at"]) and day(r["seen_at"]) > D("2026-06-20")),  # type: ignore[operator]
    Case("tz_within", "seen_at within last 10 days", lambda r: _n(r["seen_at"]) and TODAY - timedelta(days=10) <= day(r["seen_at"]) <= TODAY),  # type: ignore[operator]
    # booleans
    Case("b_bare", "is_vip", lambda r: r["is_vip"] is True),
    Case("b_true", "is_vip is true", lambda r: r["is_vip"] is True),
    Case("b_false", "is_vip is false", lambda r: r["is_vip"] is False),
    Case("b_eq_false", "is_vip = false", lambda r: r["is_vip"] is False),
    Case("b_neq_true", "is_vip != true", lambda r: r["is_vip"] is False),
    Case("b_not", "not is_vip", lambda r: r["is_vip"] is not True),
    Case("b_is_not_true", "is_vip is not true", lambda r: r["is_vip"] is not True),
    Case("b_null", "is_vip is null", lambda r: r["is_vip"] is None),
    # logic
    Case(
        "l_mix",
        "country = 'GB' and lifetime_value > 100 or not (is_vip)",
        lambda r: (r["country"] == "GB" and _n(r["lifetime_value"]) and r["lifetime_value"] > 100) or r["is_vip"] is not True,
    ),
    Case(
        "l_nested",
        "(country in ('FR', 'DE') or email ends with '.org') and not (orders >= 5 or orders is null)",
        lambda r: (r["country"] in ("FR", "DE") or (r["email"] or "\0").endswith(".org")) and not (r["orders"] is None or r["orders"] >= 5),
    ),
]  # fmt: skip

COMBINATIONS = {
    "c_union": ("t_eq_ic union n_gt", lambda s: s["t_eq_ic"] | s["n_gt"]),
    "c_intersect": ("t_eq_ic intersect b_bare", lambda s: s["t_eq_ic"] & s["b_bare"]),
    "c_except": ("t_has_value except n_null", lambda s: s["t_has_value"] - s["n_null"]),
    "c_except_nulls": ("n_gt except b_bare", lambda s: s["n_gt"] - s["b_bare"]),
    "c_precedence": (
        "d_rel union t_eq intersect b_true except n_lt",
        lambda s: (s["d_rel"] | (s["t_eq"] & s["b_true"])) - s["n_lt"],
    ),
    "c_parens": (
        "(d_rel union t_eq) intersect (b_true except n_lt)",
        lambda s: (s["d_rel"] | s["t_eq"]) & (s["b_true"] - s["n_lt"]),
    ),
    "c_nested": ("c_union except c_intersect", lambda s: s["c_union"] - s["c_intersect"]),
}


def oracle_sets() -> dict[str, set[int]]:
    rows = profiles_table().to_pylist()
    sets = {c.name: {r["customer_id"] for r in rows if c.oracle(r)} for c in CASES}
    for name, (_text, combine) in COMBINATIONS.items():
        sets[name] = combine(sets)
    return sets


@dataclass
class Stores:
    """One workspace holding the segments, and the same profiles in both engines."""

    ws: Workspace
    by_engine: dict[str, ProfileStore]


@pytest.fixture(scope="module")
def stores(
    tmp_path_factory: pytest.TempPathFactory, pg_module_database: str, profiles_parquet: Path
) -> Iterator[Stores]:
    ws = init_workspace(tmp_path_factory.mktemp("duck") / "ws")
    load_profiles(ws, actor_named(ws, None), profiles_parquet)
    for case in CASES:
        create_segment(ws, actor_named(ws, None), case.name, where=case.where)
    for name, (text, _combine) in COMBINATIONS.items():
        create_segment(ws, actor_named(ws, None), name, combine=text)
    create_pg_profiles(pg_module_database)
    duck = DuckDBStore(ws.profile_store_path, "customers", "customer_id")
    pg = PostgresStore(pg_module_database, "customers", "customer_id")
    yield Stores(ws, {"duckdb": duck, "postgres": pg})
    duck.close()
    pg.close()
    ws.close()


def members(stores: Stores, engine: str, names: list[str]) -> set[int]:
    store = stores.by_engine[engine]
    with stores.ws.session() as s:
        table = pa.Table.from_batches(
            list(stream_members(s, store, names, ["email"], batch_size=50, today=TODAY))
        )
        ids = table.column("customer_id").to_pylist()
        assert len(ids) == len(set(ids)), "members must be distinct"
        assert count_members(s, store, names, today=TODAY) == len(ids)
    return set(ids)


@pytest.mark.postgres
@pytest.mark.parametrize("name", [c.name for c in CASES] + list(COMBINATIONS))
def test_same_members_on_duckdb_postgres_and_oracle(stores: Stores, name: str) -> None:
    expected = oracle_sets()[name]
    on_duckdb = members(stores, "duckdb", [name])
    on_postgres = members(stores, "postgres", [name])
    assert on_duckdb == expected
    assert on_postgres == expected


def test_cases_are_not_trivial() -> None:
    """Each case splits the data (so a broken operator cannot pass by accident)."""
    total = profiles_table().num_rows
    sets = oracle_sets()
    trivial = [n for n, s in sets.items() if not s or len(s) == total]
    # An empty result is fine only where the data has no such value on purpose.
    assert trivial == ["t_contains_pct"]


@pytest.mark.postgres
def test_union_of_several_segments_streams_each_profile_once(stores: Stores) -> None:
    sets = oracle_sets()
    names = ["t_eq_ic", "n_gt", "b_bare", "c_union"]
    expected = set().union(*(sets[n] for n in names))
    assert members(stores, "duckdb", names) == expected
    assert members(stores, "postgres", names) == expected


@pytest.mark.postgres
def test_postgres_numeric_columns_stream_as_numbers(stores: Stores) -> None:
    store = stores.by_engine["postgres"]
    assert store.dialect == "postgres"
    with stores.ws.session() as s:
        batch = next(stream_members(s, store, ["n_gt"], ["lifetime_value"], today=TODAY))
    assert pa.types.is_floating(batch.schema.field("lifetime_value").type)


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_an_empty_segment_still_streams_its_columns(stores: Stores, engine: str) -> None:
    with stores.ws.session() as s:
        batches = list(
            stream_members(s, stores.by_engine[engine], ["t_contains_pct"], ["email", "orders"])
        )
    assert sum(b.num_rows for b in batches) == 0
    assert batches[0].schema.names == ["customer_id", "email", "orders"]

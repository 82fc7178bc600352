"""Profiles with every edge the operators care about, loadable into DuckDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segport.service.access import actor_named
from segport.service.opening import init_workspace
from segport.service.workspace import Workspace

TODAY = date(2026, 6, 15)
N = 240


def profiles_table(n: int = N) -> pa.Table:
    """Deterministic profiles: nulls, blanks, case variants, dates around TODAY."""
    countries = ["GB", "gb", "FR", "US", "DE", None, "", "  "]
    emails = ["a{}@Example.com", "b{}@example.org", "c{}@shop.example.com", None, "d{}@x.io"]
    rows: dict[str, list[object]] = {
        "customer_id": [],
        "email": [],
        "country": [],
        "first_name": [],
        "lifetime_value": [],
        "orders": [],
        "last_purchase": [],
        "signed_up_at": [],
        "is_vip": [],
        "seen_at": [],
    }
    for i in range(n):
        rows["customer_id"].append(i + 1)
        email = emails[i % len(emails)]
        rows["email"].append(email.format(i) if email else None)
        rows["country"].append(countries[i % len(countries)])
        rows["first_name"].append(["Ann", "O'Brien", "Zoë", None, "bob", "ANNA"][i % 6])
        rows["lifetime_value"].append(None if i % 11 == 0 else round((i * 37) % 500 + 0.25, 2))
        rows["orders"].append(None if i % 13 == 0 else i % 9)
        rows["last_purchase"].append(
            None if i % 7 == 0 else TODAY - timedelta(days=(i * 5) % 400 - 20)
        )
        ts = datetime(2025, 1, 1, 23, 30) + timedelta(days=i * 2, hours=i % 5)
        rows["signed_up_at"].append(None if i % 17 == 0 else ts)
        rows["is_vip"].append(None if i % 10 == 0 else i % 3 == 0)
        # Time-zone aware: 22:00 UTC is already the next day east of UTC; days are UTC days.
        seen = datetime(2026, 6, 1, 22, 0, tzinfo=UTC) + timedelta(hours=7 * i)
        rows["seen_at"].append(None if i % 9 == 0 else seen)
    schema = pa.schema(
        [
            ("customer_id", pa.int64()),
            ("email", pa.string()),
            ("country", pa.string()),
            ("first_name", pa.string()),
            ("lifetime_value", pa.float64()),
            ("orders", pa.int64()),
            ("last_purchase", pa.date32()),
            ("signed_up_at", pa.timestamp("us")),
            ("is_vip", pa.bool_()),
            ("seen_at", pa.timestamp("us", tz="UTC")),
        ]
    )
    return pa.table(rows, schema=schema)


@pytest.fixture(scope="module")
def profiles_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("profiles") / "profiles.parquet"
    pq.write_table(profiles_table(), path)
    return path


@pytest.fixture
def loaded_workspace(tmp_path: Path, profiles_parquet: Path) -> Iterator[Workspace]:
    """A SQLite-metadata workspace with the profiles loaded into its DuckDB store."""
    from segport.service.profile_source import load_profiles

    ws = init_workspace(tmp_path / "ws")
    load_profiles(ws, actor_named(ws, None), profiles_parquet)
    try:
        yield ws
    finally:
        ws.close()


PG_COLUMNS = (
    "customer_id bigint PRIMARY KEY, email text, country varchar(8), first_name text, "
    "lifetime_value numeric(10, 2), orders integer, last_purchase date, "
    "signed_up_at timestamp, is_vip boolean, seen_at timestamptz"
)


def create_pg_profiles(url: str, table: str = "customers", data: pa.Table | None = None) -> None:
    """The same profiles as ``profiles_table()``, as a real PostgreSQL table."""
    import psycopg

    data = data if data is not None else profiles_table()
    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE TABLE {table} ({PG_COLUMNS})")
        names = ", ".join(data.column_names)
        with conn.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in data.to_pylist():
                copy.write_row(list(row.values()))

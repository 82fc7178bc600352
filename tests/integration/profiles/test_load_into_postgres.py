"""`profiles load FILE --into postgresql://...`: the file is read, typed and checked as for
the embedded store, then streamed into a PostgreSQL table that segport manages; a reload
swaps the table in one transaction; later loads go there until `--into embedded`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.integration.exports.conftest import make_scenario, profile
from typer.testing import CliRunner, Result

from segport.brevo.sandbox import SandboxServer
from segport.profiles import ProfileError
from segport.service.access import actor_named
from segport.service.opening import init_workspace
from segport.service.profile_source import (
    describe_source,
    load_profiles,
    show_profiles,
    use_table,
)
from segport.service.segment_definitions import count_segment, create_segment, preview_segment
from segport.service.workspace import Workspace

HEADER = "customer_id,email,spend,joined,seen_at,vip,batch\n"
PASSWORD = "pw-never-shown-7f3a"


def line(i: int, batch: str = "old", spend: Any = None) -> str:
    spend = f"{i * 1.5}" if spend is None else spend
    day, minute, vip = f"2026-01-{i % 28 + 1:02d}", f"{i % 60:02d}", "true" if i % 2 else "false"
    return f"{i},user{i}@example.com,{spend},{day},2026-02-01 10:{minute}:00,{vip},{batch}\n"


def write(path: Path, lines: list[str]) -> Path:
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def columns(url: str, table: str = "customers") -> dict[str, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
    return {str(n): str(t) for n, t in rows}


def fetch(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = init_workspace(tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


def test_a_file_with_bad_rows_loads_into_postgres_with_its_types(
    ws: Workspace, pg_database: str, tmp_path: Path
) -> None:
    admin = actor_named(ws, None)
    good = [line(i) for i in range(1, 41)]
    good[9] = line(10, spend="lots")  # line 11: a bad number, loaded empty
    bad = ["41,broken@example.com,1\n", '42,"unclosed@example.com,2,2026-01-01\n']
    file = write(tmp_path / "people.csv", good + bad)

    report = load_profiles(ws, admin, file, into=pg_database)

    assert report.rows == 40
    assert sorted(r.line for r in report.rejected) == [42, 43]
    assert [(c.line, c.column, c.value) for c in report.problems.bad_cells] == [
        (11, "spend", "lots")
    ]
    assert columns(pg_database) == {
        "customer_id": "bigint",
        "email": "text",
        "spend": "double precision",
        "joined": "date",
        "seen_at": "timestamp without time zone",
        "vip": "boolean",
        "batch": "text",
    }
    assert fetch(pg_database, "SELECT count(*), count(spend) FROM customers") == [(40, 39)]
    # The id column is the primary key: PostgreSQL itself keeps ids unique and present.
    assert fetch(
        pg_database,
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'customers'::regclass AND i.indisprimary",
    ) == [("customer_id",)]
    # Nothing but the table is left behind.
    assert fetch(pg_database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == [
        ("customers",)
    ]
    info = describe_source(ws, admin)
    assert (info.kind, info.managed, info.table, info.row_count) == (
        "postgres",
        True,
        "customers",
        40,
    )
    assert info.columns["seen_at"] == ("timestamp without time zone", "timestamp")
    assert not (ws.path / "profiles.duckdb").exists() or info.location.startswith("postgresql://")
    shown = show_profiles(ws, admin, 2)
    assert shown.column("customer_id") == [1, 2]
    assert show_profiles(ws, admin, 2, offset=1).column("customer_id") == [2, 3]
    assert shown.column("spend") == [1.5, 3.0]


def test_a_reload_swaps_the_table_at_once_for_a_concurrent_reader(
    ws: Workspace, pg_database: str, tmp_path: Path
) -> None:
    admin = actor_named(ws, None)
    load_profiles(
        ws, admin, write(tmp_path / "old.csv", [line(i) for i in range(1, 1001)]), into=pg_database
    )
    new_file = write(tmp_path / "new.csv", [line(i, "new") for i in range(1, 60_001)])
    seen: set[tuple[Any, ...]] = set()
    errors: list[Exception] = []
    done = threading.Event()

    def reader() -> None:
        with psycopg.connect(pg_database, autocommit=True) as conn:
            while True:
                finished = done.is_set()
                try:
                    row = conn.execute(
                        "SELECT count(*), min(batch), max(batch) FROM customers"
                    ).fetchone()
                    assert row is not None
                    seen.add(tuple(row))
                except Exception as exc:  # a reader must never fail during the swap
                    errors.append(exc)
                if finished:
                    return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        # Without --into: the workspace's PostgreSQL store is loaded again.
        report = load_profiles(ws, admin, new_file, replace=True)
    finally:
        done.set()
        thread.join()
    assert report.rows == 60_000
    assert errors == []
    assert seen <= {(1000, "old", "old"), (60_000, "new", "new")}
    assert (60_000, "new", "new") in seen
    assert describe_source(ws, admin).kind == "postgres"
    assert fetch(pg_database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [
        (1,)
    ]


def test_a_reload_that_would_break_a_segment_is_refused_and_changes_nothing(
    ws: Workspace, pg_database: str, tmp_path: Path
) -> None:
    admin = actor_named(ws, None)
    load_profiles(
        ws, admin, write(tmp_path / "a.csv", [line(i) for i in range(1, 21)]), into=pg_database
    )
    create_segment(ws, admin, "big", where="spend > 15")
    texty = [line(i, spend="unknown" if i % 2 else str(i)) for i in range(1, 31)]
    with pytest.raises(ProfileError) as refused:
        load_profiles(ws, admin, write(tmp_path / "b.csv", texty), replace=True)
    assert refused.value.code == "schema_change_refused"
    assert "spend" in str(refused.value) and "big" in str(refused.value)
    assert columns(pg_database)["spend"] == "double precision"
    assert fetch(pg_database, "SELECT count(*) FROM customers") == [(20,)]
    assert count_segment(ws, admin, "big") == 10
    # Allowed, the new types win and the table is replaced.
    report = load_profiles(
        ws, admin, write(tmp_path / "b.csv", texty), replace=True, allow_schema_change=True
    )
    assert report.rows == 30
    assert columns(pg_database)["spend"] == "text"


def test_into_embedded_goes_back_and_use_does_not_manage(
    ws: Workspace, pg_database: str, tmp_path: Path
) -> None:
    admin = actor_named(ws, None)
    file = write(tmp_path / "a.csv", [line(i) for i in range(1, 6)])
    load_profiles(ws, admin, file, into=pg_database)
    load_profiles(ws, admin, file, replace=True, into="embedded")
    info = describe_source(ws, admin)
    assert (info.kind, info.managed, info.row_count) == ("duckdb", False, 5)
    use_table(ws, admin, pg_database, "customers", "customer_id")
    assert describe_source(ws, admin).managed is False
    # A table segport only reads is never loaded into: the next load is embedded.
    load_profiles(
        ws, admin, write(tmp_path / "b.csv", [line(i) for i in range(1, 8)]), replace=True
    )
    assert describe_source(ws, admin).kind == "duckdb"
    assert fetch(pg_database, "SELECT count(*) FROM customers") == [(5,)]
    with pytest.raises(ProfileError) as wrong:
        load_profiles(ws, admin, file, replace=True, into="mysql://me:secret@db/crm")
    assert wrong.value.field == "into" and "secret" not in str(wrong.value)


def test_segments_and_an_export_run_from_the_postgres_store(
    sandbox: SandboxServer, tmp_path: Path, pg_database: str
) -> None:
    s = make_scenario(tmp_path / "ws", sandbox, tmp_path)  # 3 profiles, embedded
    try:
        first = tmp_path / "first.csv"
        first.write_text(
            "customer_id,email,first_name,last_name,phone,tier,city\n"
            + "".join(
                f"{i},user{i}@example.com,First{i},Last{i},07911 {i:06d},gold,City{i % 7}\n"
                for i in range(1, 4)
            ),
            encoding="utf-8",
        )
        load_profiles(s.ws, s.admin, first, replace=True, into=pg_database)
        # The scenario's own reloads (no --into) now go to PostgreSQL.
        rows = [profile(i) for i in range(1, 13)]
        rows[3]["tier"] = "silver"
        s.load(rows)
        assert fetch(pg_database, "SELECT count(*) FROM customers") == [(12,)]
        assert count_segment(s.ws, s.admin, "gold") == 11
        preview = preview_segment(s.ws, s.admin, "gold", limit=3, columns=["email", "tier"])
        assert preview.column("customer_id") == [1, 2, 3]
        s.add_export()
        summary = s.run()
        assert summary.status == "successful", summary.message
        assert s.members() == {f"user{i}@example.com" for i in range(1, 13) if i != 4}
    finally:
        s.ws.close()


class Cli:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        from segport.cli import app

        return self.runner.invoke(app, ["--workspace", str(self.path), *args])


def test_the_cli_loads_into_postgres_and_never_prints_the_password(
    pg_database: str, tmp_path: Path
) -> None:
    cli = Cli(tmp_path / "ws")
    assert cli("init").exit_code == 0
    url = pg_database.replace("postgres@", f"postgres:{PASSWORD}@")
    file = write(tmp_path / "a.csv", [line(i) for i in range(1, 11)] + ["11,short\n"])
    outputs = []
    loaded = cli("profiles", "load", str(file), "--into", url, "--table", "people")
    assert loaded.exit_code == 0, loaded.output
    assert "Loaded 10 profiles into people at postgresql://postgres:***@" in loaded.output
    assert "line 12" in loaded.output
    outputs.append(loaded.output)
    schema = cli("profiles", "schema")
    assert "postgres table people (id: customer_id, 10 profiles, loaded by segport)" in (
        schema.output
    )
    outputs.append(schema.output)
    as_json = cli("profiles", "schema", "--json")
    assert '"managed": true' in as_json.output
    outputs.append(as_json.output)
    shown = cli("profiles", "show", "--limit", "3", "--json")
    assert "user3@example.com" in shown.output
    outputs.append(shown.output)
    again = cli("profiles", "load", str(file), "--table", "people")
    assert again.exit_code == 1 and "--replace" in again.output
    outputs.append(again.output)
    unreachable = cli(
        "profiles", "load", str(file), "--into", url.rsplit("/", 1)[0] + "/no_such_db"
    )
    assert unreachable.exit_code == 1 and "no_such_db" in unreachable.output
    outputs.append(unreachable.output)
    outputs.append(cli("audit").output)
    for out in outputs:
        assert PASSWORD not in out


def test_a_load_postgres_refuses_leaves_the_old_table_and_nothing_else(
    ws: Workspace, pg_database: str, tmp_path: Path
) -> None:
    admin = actor_named(ws, None)
    load_profiles(
        ws, admin, write(tmp_path / "a.csv", [line(i) for i in range(1, 6)]), into=pg_database
    )
    with psycopg.connect(pg_database) as conn:
        conn.execute("CREATE VIEW vips AS SELECT * FROM customers WHERE vip")
    with pytest.raises(ProfileError) as refused:
        load_profiles(
            ws,
            admin,
            write(tmp_path / "b.csv", [line(i, "new") for i in range(1, 9)]),
            replace=True,
        )
    assert "depend" in str(refused.value) and "Nothing was changed" in str(refused.value)
    assert fetch(pg_database, "SELECT count(*), max(batch) FROM customers") == [(5, "old")]
    assert fetch(pg_database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == [
        ("customers",)
    ]
    # Duplicate ids stop the load before PostgreSQL is touched.
    with pytest.raises(ProfileError, match="more than once"):
        load_profiles(
            ws, admin, write(tmp_path / "c.csv", [line(1), line(1), line(2)]), replace=True
        )
    assert describe_source(ws, admin).row_count == 5


def test_parquet_types_map_to_postgres_types(
    ws: Workspace, pg_database: str, tmp_path: Path
) -> None:
    import datetime as dt
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    when = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    table = pa.table(
        {
            "customer_id": pa.array([1, 2], pa.int32()),
            "small": pa.array([1, 2], pa.int8()),
            "price": pa.array([Decimal("1.25"), None], pa.decimal128(8, 2)),
            "seen": pa.array([when, None], pa.timestamp("ns", tz="UTC")),
            "tags": pa.array([["a", "b"], []], pa.list_(pa.string())),
        }
    )
    pq.write_table(table, tmp_path / "p.parquet")
    load_profiles(ws, actor_named(ws, None), tmp_path / "p.parquet", into=pg_database)
    assert columns(pg_database) == {
        "customer_id": "integer",
        "small": "smallint",
        "price": "numeric",
        "seen": "timestamp with time zone",
        "tags": "text",
    }
    assert fetch(pg_database, "SELECT price::text, seen, tags FROM customers ORDER BY 1") == [
        ("1.25", when, "[a, b]"),
        (None, None, "[]"),
    ]

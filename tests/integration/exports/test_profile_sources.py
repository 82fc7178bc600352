"""The same profiles in the workspace's DuckDB store and in a PostgreSQL table give the same
list: the engine reads the first by attaching the file to the export state, the second by
streaming Arrow batches (exports.members), through first and incremental runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from tests.integration.exports.conftest import FIELDS, Scenario, make_scenario, profile

from segport.brevo.sandbox import SandboxServer
from segport.exports.summary import RunSummary
from segport.service.access import actor_named
from segport.service.profile_source import use_table


def _rows(changed: bool) -> list[dict[str, Any]]:
    rows = [profile(i) for i in range(1, 41)]
    rows[4]["email"] = "USER4@Example.com"  # a duplicate of profile 4, kept by id rule
    rows[7]["phone"] = "12345"  # not a phone: the contact goes without SMS
    rows[9]["email"] = "not-an-email"
    rows[11]["tier"] = "silver"  # not in the segment
    if changed:
        rows[2]["first_name"] = "Renamed"
        rows[20]["phone"] = "+44 7911 999999"
        rows.append(profile(41))
    return rows


def _to_postgres(url: str, rows: list[dict[str, Any]]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS people")
        conn.execute(
            "CREATE TABLE people (customer_id bigint primary key, email text, "
            "first_name text, last_name text, phone text, tier text, city text)"
        )
        with conn.cursor().copy(f"COPY people ({', '.join(FIELDS)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row([r.get(k) for k in FIELDS])


def _contacts(s: Scenario) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for email in s.members():
        contact = s.contact(email)
        assert contact is not None
        out[email] = contact["attributes"]
    return out


def _counts(summary: RunSummary) -> tuple[Any, ...]:
    assert summary.status == "successful", summary.message
    return (
        summary.members,
        summary.valid,
        summary.new,
        summary.changed,
        summary.unchanged,
        summary.sent,
        summary.rejected,
    )


def test_duckdb_and_postgresql_sources_give_the_same_list(
    sandbox: SandboxServer, tmp_path: Path, pg_database: str
) -> None:
    embedded = make_scenario(tmp_path / "duck", sandbox, tmp_path / "duck")
    remote = make_scenario(tmp_path / "pg", sandbox, tmp_path / "pg")
    remote.list_id = sandbox.state.create_list("From PostgreSQL")
    try:
        embedded.load(_rows(changed=False))
        _to_postgres(pg_database, _rows(changed=False))
        use_table(remote.ws, actor_named(remote.ws, None), pg_database, "people", "customer_id")
        for s in (embedded, remote):
            s.add_export()
        first = [_counts(s.run()) for s in (embedded, remote)]
        assert first[0] == first[1]
        assert first[0][2] == 37  # 40 - silver - duplicate - bad email
        assert _contacts(embedded) == _contacts(remote)

        embedded.load(_rows(changed=True))
        _to_postgres(pg_database, _rows(changed=True))
        second = [_counts(s.run()) for s in (embedded, remote)]
        assert second[0] == second[1]
        assert second[0][2:6] == (1, 2, 35, 3)  # profile 41 new; 3 and 21 changed
        assert _contacts(embedded) == _contacts(remote)
        assert _contacts(embedded)["user3@example.com"]["FIRSTNAME"] == "Renamed"
    finally:
        embedded.ws.close()
        remote.ws.close()

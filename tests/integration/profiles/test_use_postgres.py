"""Pointing a workspace at an existing PostgreSQL table: nothing is copied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from segport.profiles import ProfileError, open_profile_store
from segport.segments import count_members
from segport.service.access import actor_named
from segport.service.opening import init_workspace
from segport.service.profile_source import describe_source, show_profiles, use_table
from segport.service.segment_definitions import count_segment, create_segment
from segport.service.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = init_workspace(tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def pg_profiles(pg_database: str) -> str:
    with psycopg.connect(pg_database) as conn:
        conn.execute("CREATE SCHEMA crm")
        conn.execute(
            "CREATE TABLE crm.people (person_id text, email text, spend numeric(8,2), "
            "joined date, vip boolean)"
        )
        conn.execute(
            "INSERT INTO crm.people VALUES ('p1', 'a@x.io', 10.50, '2024-01-01', true), "
            "('p2', 'b@x.io', 99.99, '2024-05-01', false), ('p3', NULL, NULL, NULL, NULL)"
        )
        conn.execute("CREATE TABLE dupes (id int, email text)")
        conn.execute("INSERT INTO dupes VALUES (1, 'a'), (1, 'b'), (NULL, 'c')")
    return pg_database


@pytest.mark.postgres
def test_use_a_postgres_table(ws: Workspace, pg_profiles: str) -> None:
    info = use_table(ws, actor_named(ws, None), pg_profiles, "crm.people", "person_id")
    assert (info.kind, info.row_count, info.id_column) == ("postgres", 3, "person_id")
    assert info.columns == {
        "person_id": ("text", "text"),
        "email": ("text", "text"),
        "spend": ("numeric", "number"),
        "joined": ("date", "date"),
        "vip": ("boolean", "boolean"),
    }
    assert describe_source(ws, actor_named(ws, None)).location.startswith("postgresql://postgres@")
    assert show_profiles(ws, actor_named(ws, None), 2).column("person_id") == [
        "p1",
        "p2",
    ]
    assert show_profiles(ws, actor_named(ws, None), 2).column("spend") == [10.5, 99.99]

    create_segment(ws, actor_named(ws, None), "spenders", where="spend > 50 or vip")
    assert count_segment(ws, actor_named(ws, None), "spenders") == 2
    with ws.session() as s, open_profile_store(ws.engine, ws.path) as store:
        assert store.dialect == "postgres"
        assert count_members(s, store, ["spenders"]) == 2
    # Nothing was copied into the embedded store.
    assert b"b@x.io" not in ws.profile_store_path.read_bytes()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("table", "id_column", "message"),
    [
        ("nope", "id", "PostgreSQL has no table 'nope'"),
        ("crm.people", "id", "has no column 'id'; its columns are: person_id, email"),
        ("dupes", "id", "1 row\\(s\\) of 'dupes' have no id"),
        ("", "id", "name the profile table and its id column"),
    ],
)
def test_bad_tables_are_refused(
    ws: Workspace, pg_profiles: str, table: str, id_column: str, message: str
) -> None:
    with pytest.raises(ProfileError, match=message):
        use_table(ws, actor_named(ws, None), pg_profiles, table, id_column)
    with pytest.raises(ProfileError, match="no profiles yet"):
        describe_source(ws, actor_named(ws, None))


@pytest.mark.postgres
def test_duplicate_ids_in_a_postgres_table(ws: Workspace, pg_database: str) -> None:
    with psycopg.connect(pg_database) as conn:
        conn.execute("CREATE TABLE t (id int, email text)")
        conn.execute("INSERT INTO t VALUES (1, 'a'), (1, 'b'), (2, 'c')")
    with pytest.raises(ProfileError, match="id is not unique in 't' \\(1 repeated"):
        use_table(ws, actor_named(ws, None), pg_database, "t", "id")


def test_urls_that_are_not_postgres(ws: Workspace) -> None:
    with pytest.raises(ProfileError, match="is not a PostgreSQL URL"):
        use_table(ws, actor_named(ws, None), "mysql://u:secret@h/db", "t", "id")


def test_unreachable_server_is_a_clear_error_without_the_password(ws: Workspace) -> None:
    with pytest.raises(
        ProfileError, match=r"cannot connect to postgresql://u:\*\*\*@127\.0\.0\.1:1/db"
    ) as err:
        use_table(ws, actor_named(ws, None), "postgresql://u:secret@127.0.0.1:1/db", "t", "id")
    assert "secret" not in str(err.value)

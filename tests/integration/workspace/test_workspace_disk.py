"""The workspace on disk, through the CLI: moved, copied, damaged, a lost secrets key, file
permissions, passwords in database URLs, and --workspace naming a file."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from tests.integration.workspace.conftest import SANDBOX_KEY
from tests.integration.workspace.disk import (
    emails,
    make_workspace,
    ok,
    refused,
    segport,
)

from segport.brevo.sandbox import SandboxServer

# -- copy and move -------------------------------------------------------------------------


def test_a_moved_workspace_just_works(tmp_path: Path, sandbox: SandboxServer) -> None:
    made = make_workspace(tmp_path, sandbox)
    made.run()
    assert made.members() == emails(3)
    moved = tmp_path / "renamed-project" / "ws"
    moved.parent.mkdir()
    shutil.move(made.path, moved)
    made.load(5, ws=moved)
    out = made.run(ws=moved)
    assert "successful" in out
    assert made.members() == emails(5)
    assert "admin (default)" in ok(moved, "users", "list")
    # Nothing was made at the old place (no new, empty workspace with a new admin).
    assert not made.path.exists()
    # The first run's files are named where they are now (the summary recorded the old
    # place), in `runs show`, `runs list` and `exports runs`.
    first = json.loads(ok(moved, "runs", "show", "1", "--json"))
    listed = json.loads(ok(moved, "runs", "list", "--json"))[-1]["summary"]
    history = json.loads(ok(moved, "exports", "runs", "news", "--json"))[-1]["summary"]
    for summary in (first["summary"], listed, history):
        assert Path(summary["changes_csv"]) == moved / "runs" / "1" / "changes.csv"
        assert Path(summary["changes_csv"]).is_file()
    assert str(moved / "runs" / "1" / "changes.csv") in ok(moved, "runs", "show", "1")


def test_a_copy_is_a_separate_workspace(tmp_path: Path, sandbox: SandboxServer) -> None:
    made = make_workspace(tmp_path, sandbox)
    made.run()
    copy = tmp_path / "experiment"
    shutil.copytree(made.path, copy)
    ok(copy, "users", "add", "mallory", "--role", "admin")
    ok(copy, "connections", "rotate-key")
    ok(copy, "exports", "remove", "news")
    # The original has none of the copy's changes, and its saved key still decrypts.
    assert "mallory" not in ok(made.path, "users", "list")
    assert "news" in ok(made.path, "exports", "list")
    log = ok(made.path, "audit")
    assert "mallory" not in log and "rotate" not in log and "exports.remove" not in log
    assert "account:" in ok(made.path, "connections", "show", "sb", "--check")
    made.load(4)
    assert "successful" in made.run()
    assert made.members() == emails(4)
    # ...and the copy keeps its own changes.
    assert "mallory" in ok(copy, "users", "list")
    assert "exports.remove" in ok(copy, "audit")


def _legacy_config(ws: Path, db: Path) -> None:
    """workspace.json as segport wrote it before: an absolute SQLite URL, mode 0644."""
    (ws / "workspace.json").write_text(json.dumps({"database_url": f"sqlite:///{db}"}))
    os.chmod(ws / "workspace.json", 0o644)


def test_an_older_absolute_location_is_rewritten_relative(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ok(ws, "init")
    _legacy_config(ws, (ws / "metadata.db").resolve())
    assert "admin (default)" in ok(ws, "users", "list")
    assert json.loads((ws / "workspace.json").read_text()) == {"sqlite_file": "metadata.db"}
    assert os.stat(ws / "workspace.json").st_mode & 0o777 == 0o600
    # A workspace copied by an older segport (its file still naming the original's
    # database) opens its own database from now on, and says so.
    _legacy_config(ws, (ws / "metadata.db").resolve())
    copy = tmp_path / "copy"
    shutil.copytree(ws, copy)
    result = segport(copy, "users", "add", "bob", "--role", "viewer")
    assert result.exit_code == 0, result.output
    assert "outside this workspace" in result.output and "separate workspace" in result.output
    assert "bob" not in ok(ws, "users", "list")
    assert json.loads((copy / "workspace.json").read_text()) == {"sqlite_file": "metadata.db"}


def test_a_postgresql_location_is_kept_as_given(tmp_path: Path, pg_database: str) -> None:
    ws = tmp_path / "ws"
    ok(ws, "init", "--database-url", pg_database)
    assert json.loads((ws / "workspace.json").read_text()) == {"database_url": pg_database}
    moved = tmp_path / "moved"
    shutil.move(ws, moved)
    assert "admin (default)" in ok(moved, "users", "list")


# -- damage ----------------------------------------------------------------------------------


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    ok(path, "init", "--admin", "alice")
    ok(path, "users", "add", "bob", "--role", "viewer")
    return path


def test_an_empty_metadata_database_is_refused_not_made_new(ws: Path) -> None:
    (ws / "metadata.db").write_bytes(b"")
    for args in (("exports", "list"), ("users", "list"), ("exports", "run", "x", "--dry-run")):
        refused(segport(ws, *args), "metadata.db is empty (0 bytes)", "backup")
    assert (ws / "metadata.db").stat().st_size == 0  # no new workspace, no new admin


def test_a_missing_metadata_database_is_refused(ws: Path) -> None:
    (ws / "metadata.db").unlink()
    refused(segport(ws, "users", "list"), "metadata.db is missing", "moved", "backup")
    assert not (ws / "metadata.db").exists()


def test_a_damaged_metadata_database_is_a_message(ws: Path) -> None:
    good = (ws / "metadata.db").read_bytes()
    (ws / "metadata.db").write_bytes(os.urandom(50_000))
    refused(segport(ws, "exports", "list"), "metadata.db is damaged", "backup")
    # Pages overwritten inside a real SQLite file: SQLite itself reports the damage.
    damaged = bytearray(good)
    damaged[4096 : 4096 * 8] = b"\xff" * (4096 * 7)
    (ws / "metadata.db").write_bytes(bytes(damaged))
    for args in (("users", "list"), ("audit",), ("exports", "list")):
        refused(segport(ws, *args), "metadata.db", "damaged", "backup")


def test_a_lost_workspace_json_says_how_to_restore_it(ws: Path) -> None:
    # "run `segport init` first" led nowhere: init refuses a folder with a metadata.db.
    (ws / "workspace.json").unlink()
    for args in (("users", "list"), ("doctor",)):
        refused(segport(ws, *args), "metadata.db", "no workspace.json", '{"sqlite_file": ')
    (ws / "workspace.json").write_text('{"sqlite_file": "metadata.db"}')
    assert "bob" in ok(ws, "users", "list")


def test_a_database_without_a_workspace_is_refused(ws: Path) -> None:
    (ws / "metadata.db").unlink()
    with sqlite3.connect(ws / "metadata.db") as con:  # a valid SQLite file, no workspace
        con.execute("CREATE TABLE notes (x)")
    refused(segport(ws, "users", "list"), "holds no segport workspace", "backup")
    with sqlite3.connect(ws / "metadata.db") as con:
        assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["notes"]


def test_an_emptied_postgresql_database_is_refused(tmp_path: Path, pg_database: str) -> None:
    ws = tmp_path / "ws"
    ok(ws, "init", "--database-url", pg_database)
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    refused(segport(ws, "users", "list"), "holds no segport workspace")
    with psycopg.connect(pg_database) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)  # nothing was migrated into it, no admin made


# -- a lost secrets key ----------------------------------------------------------------------


def test_the_documented_recovery_from_a_lost_secret_key(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    made = make_workspace(tmp_path, sandbox)
    (made.path / "secret.key").unlink()
    refused(segport(made.path, "exports", "run", "news"), "secret.key is missing")
    edit = ["connections", "edit", "sb", "--api-key-stdin"]
    refused(segport(made.path, *edit, input=SANDBOX_KEY), "new-secret-key")
    out = ok(made.path, "connections", "new-secret-key")
    assert 'segport connections edit "sb" --api-key-stdin' in out
    assert os.stat(made.path / "secret.key").st_mode & 0o777 == 0o600
    refused(segport(made.path, "connections", "new-secret-key"), "rotate-key")
    # Until it is given its key again, the connection says by name what is wrong.
    refused(segport(made.path, "exports", "run", "news"), "connection 'sb'", "cannot be decrypted")
    refused(segport(made.path, "connections", "rotate-key"), "'sb'", "nothing was rotated")
    ok(made.path, *edit, input=SANDBOX_KEY)
    assert "successful" in made.run()
    assert made.members() == emails(3)
    assert "connections.new_secret_key" in ok(made.path, "audit")


# -- permissions -----------------------------------------------------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (022), as a shell gives it; restored afterwards."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_every_workspace_file_is_readable_by_its_owner_only(
    tmp_path: Path, sandbox: SandboxServer, open_umask: None
) -> None:
    made = make_workspace(tmp_path, sandbox)
    made.load(3)
    with made.profiles.open("a") as fh:
        fh.write("4,not-an-email,gold\n")  # a rejected row: the run writes rejected.csv
    ok(made.path, "profiles", "load", str(made.profiles), "--replace")
    made.run()
    assert os.umask(0o022) == 0o022  # the command gave the caller's umask back
    paths = [made.path, *made.path.rglob("*")]
    names = {p.relative_to(made.path).as_posix() for p in paths}
    assert {"workspace.json", "metadata.db", "profiles.duckdb", "secret.key"} <= names
    assert any(n.startswith("state/export-") for n in names)
    assert any(n.endswith("rejected.csv") for n in names)
    too_open = {p.relative_to(tmp_path).as_posix(): oct(p.stat().st_mode & 0o777)
                for p in paths if p.stat().st_mode & 0o077}  # fmt: skip
    assert too_open == {}


def test_services_make_private_files_without_the_cli(tmp_path: Path, open_umask: None) -> None:
    from segport.service.opening import init_workspace

    ws = init_workspace(tmp_path / "ws")
    ws.close()
    for p in [ws.path, *ws.path.iterdir()]:
        assert p.stat().st_mode & 0o077 == 0, p


# -- passwords in database URLs --------------------------------------------------------------


def test_database_passwords_are_masked_in_output_and_audit(
    tmp_path: Path, pg_database: str
) -> None:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (customer_id int PRIMARY KEY, email text)")
        conn.execute("INSERT INTO customers VALUES (1, 'a@example.com')")
    # Trust authentication: the passwords are accepted and ignored, never shown.
    host = pg_database.split("@", 1)[1]
    meta_url = f"postgresql://postgres:UserinfoPW1@{host}?password=QueryPW2"
    ws = tmp_path / "ws"
    out = ok(ws, "init", "--database-url", meta_url)
    assert "UserinfoPW1" not in out and "QueryPW2" not in out and "password=***" in out
    assert os.stat(ws / "workspace.json").st_mode & 0o777 == 0o600
    profiles_url = f"postgres://postgres:UserinfoPW3@{host}?password=QueryPW4"
    out = ok(ws, "profiles", "use", profiles_url, "--table", "customers",
             "--id-column", "customer_id")  # fmt: skip
    out += ok(ws, "profiles", "schema") + ok(ws, "audit")
    # A password libpq cannot parse is echoed in its error: masked there too.
    bad = f"postgresql://postgres:Bad%ZZPassword5@{host}"
    out += refused(
        segport(ws, "profiles", "use", bad, "--table", "customers", "--id-column", "customer_id"),
        "cannot connect",
    )
    for secret in ("UserinfoPW1", "QueryPW2", "UserinfoPW3", "QueryPW4", "Bad%ZZPassword5"):
        assert secret not in out
    assert "password=***" in out


# -- --workspace naming something that is not a folder ---------------------------------------


def test_workspace_path_that_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("mine\n")
    refused(segport(file, "init"), "is a file, not a folder")
    refused(segport(file, "users", "list"), "is a file")
    assert file.read_text() == "mine\n"
    refused(segport(Path("/proc/segport-test/ws"), "init"), "cannot create the workspace folder")


def test_a_password_in_a_connections_base_url_is_masked(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    # A proxy's credentials in --base-url: the audit masked them, `connections show` and
    # the errors printed them.
    ws = tmp_path / "ws"
    ok(ws, "init")
    proxied = sandbox.base_url.replace("http://", "http://proxyuser:ProxyPW5@")
    out = ok(ws, "connections", "add", "sb", "--type", "brevo", "--api-key-stdin",
             "--base-url", proxied, "--agree-privacy", input=SANDBOX_KEY + "\n")  # fmt: skip
    shown = ok(ws, "connections", "show", "sb")
    assert "proxyuser:***@" in shown and "ProxyPW5" not in shown + out
    assert "ProxyPW5" not in ok(ws, "audit")
    bad = proxied.replace("/v3", "/nov3")
    result = segport(ws, "connections", "add", "x", "--type", "brevo", "--api-key-stdin",
                     "--base-url", bad, "--agree-privacy", input=SANDBOX_KEY + "\n")  # fmt: skip
    refused(result, "has no Brevo API", "proxyuser:***@")
    assert "ProxyPW5" not in result.output

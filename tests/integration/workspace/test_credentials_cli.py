"""`segport users set-password` and `segport tokens ...`: a password is never printed, a
token is printed once (at create) and never again: not in lists, JSON, the audit log or
any file of the workspace."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import MetaData
from sqlalchemy import select as sql_select
from tests.fixtures.terminal import read_until, type_hidden
from tests.fixtures.workspace import Cli

from segport.errors import Forbidden
from segport.secret import Secret
from segport.service import authenticate_token, verify_password
from segport.service.workspace import Workspace

PASSWORD = "a long and secret passphrase"


def _files_stored(ws: Workspace) -> str:
    """Every file of the workspace, as text."""
    return "\n".join(p.read_bytes().decode("latin-1") for p in ws.path.rglob("*") if p.is_file())


def _rows_stored(ws: Workspace) -> str:
    """Every row of the metadata database, one value apart from the next."""
    parts: list[str] = []
    meta = MetaData()
    meta.reflect(ws.engine)
    with ws.engine.connect() as conn:
        for table in meta.sorted_tables:
            parts += [repr(tuple(row)) for row in conn.execute(sql_select(table))]
    return "\n".join(parts)


def test_set_password_from_stdin_is_never_printed_or_stored(cli: Cli, workspace: Workspace) -> None:
    cli("users", "add", "bob", "--role", "viewer", ok=True)
    result = cli("users", "set-password", "bob", "--password-stdin", input=PASSWORD + "\n", ok=True)
    assert result.output == "Password set for bob.\n"
    assert verify_password(workspace, "bob", Secret(PASSWORD)).name == "bob"
    # Bob sets his own (--as bob); a Windows line end is taken off too.
    cli("users", "set-password", "bob", "--password-stdin", actor="bob",
        input=PASSWORD + "2\r\n", ok=True)  # fmt: skip
    assert verify_password(workspace, "bob", Secret(PASSWORD + "2")).name == "bob"

    users = cli("users", "list", ok=True).output.splitlines()
    assert users[0].split()[:3] == ["name", "role", "password"]
    assert [line.split()[:3] for line in users[1:]] == [
        ["admin", "(default)", "admin"], ["bob", "viewer", "set"]]  # fmt: skip
    assert users[1].split()[3] == "-"
    data = json.loads(cli("users", "list", "--json", ok=True).stdout)
    assert [(u["name"], u["has_password"]) for u in data] == [("admin", False), ("bob", True)]
    assert set(data[1]) == {"name", "role", "created_at", "is_default", "export_user_of",
                            "has_password", "password_set_at"}  # fmt: skip

    log = cli("audit", ok=True).output
    assert log.count("users.set_password") == 2 and '"replaced": true' in log
    stored = _files_stored(workspace) + _rows_stored(workspace)
    for text in (log, str(data), stored):
        assert PASSWORD not in text


def test_bad_passwords_and_missing_input_are_refused_with_the_rule(cli: Cli) -> None:
    out = cli("users", "set-password", "admin", "--password-stdin", input="short\n", ok=False)
    assert "too short: use at least 12 characters (got 5)" in out.output
    assert "short" not in out.output.replace("too short", "")
    out = cli("users", "set-password", "admin", "--password-stdin", input="", ok=False)
    assert "at least 12 characters (got 0)" in out.output
    two = cli("users", "set-password", "admin", "--password-stdin", input="line one\nline two\n",
              ok=False)  # fmt: skip
    assert "one line" in two.output and "line two" not in two.output
    # Standard input is no terminal here: no prompt, a hint instead.
    out = cli("users", "set-password", "admin", ok=False).output
    assert "no terminal to ask for the password on: give it with --password-stdin" in out
    cli("users", "add", "vic", "--role", "viewer", ok=True)
    out = cli("users", "set-password", "admin", "--password-stdin", actor="vic",
              input=PASSWORD, ok=False).output  # fmt: skip
    assert "vic is a viewer and may not manage users" in out
    assert "users.set_password" not in cli("audit", ok=True).output


def test_a_token_is_printed_once_and_works_until_revoked(cli: Cli, workspace: Workspace) -> None:
    cli("users", "add", "vic", "--role", "viewer", ok=True)
    made = cli("tokens", "create", "--name", "nightly CI", "--expires-in", "30", actor="vic",
               ok=True)  # fmt: skip
    token = made.stdout.strip()
    assert token.startswith("sgp_") and made.stdout == token + "\n"  # stdout: the token only
    assert "Token 1 'nightly CI' for vic" in made.stderr and "not shown again" in made.stderr
    assert token not in made.stderr
    assert authenticate_token(workspace, Secret(token)).name == "vic"

    # A viewer makes tokens for themself only; an admin for anyone.
    out = cli("tokens", "create", "--user", "admin", actor="vic", ok=False).output
    assert "vic is a viewer and may not manage users" in out
    for_vic = cli("tokens", "create", "--user", "vic", ok=True).stdout.strip()

    listing = cli("tokens", "list", ok=True).output
    lines = listing.splitlines()
    assert lines[0].split() == ["id", "user", "name", "prefix", "status", "created", "last",
                                "used", "expires", "revoked"]  # fmt: skip
    assert lines[1].split()[:6] == ["1", "vic", "nightly", "CI", token[:10], "active"]
    assert lines[2].split()[:5] == ["2", "vic", "-", for_vic[:10], "active"]
    data = json.loads(cli("tokens", "list", "--json", actor="vic", ok=True).stdout)
    assert [(t["id"], t["status"], t["name"]) for t in data] == [(1, "active", "nightly CI"),
                                                                 (2, "active", "")]  # fmt: skip
    assert data[0]["last_used_at"] is not None and data[1]["last_used_at"] is None
    assert data[0]["expires_at"] is not None and data[1]["expires_at"] is None

    out = cli("tokens", "revoke", "2", actor="vic", ok=True).output
    assert out.startswith(f"Token 2 ({for_vic[:10]}) of vic is revoked")
    with pytest.raises(Forbidden):
        authenticate_token(workspace, Secret(for_vic))
    assert "revoked" in cli("tokens", "list", ok=True).output.splitlines()[2]
    assert "no API token with id 9" in cli("tokens", "revoke", "9", ok=False).output
    assert "--expires-in" in cli("tokens", "create", "--expires-in", "0", ok=False).output
    out = cli("tokens", "list", "--user", "admin", actor="vic", ok=False).output
    assert "may not manage users" in out

    log = cli("audit", ok=True).output
    assert log.count("tokens.create") == 2 and log.count("tokens.revoke") == 1
    seen = "\n".join((listing, json.dumps(data), log, _rows_stored(workspace)))
    raw = _files_stored(workspace)
    for value in (token, for_vic):
        # Output and rows hold at most the 10-character prefix. In the raw file bytes the
        # stored prefix runs into the hash's hex digits, which can match the token's next
        # character by chance (1 in 64), so the raw check starts 6 characters further.
        assert value not in seen and value[:11] not in seen
        assert value not in raw and value[:16] not in raw


def test_set_password_on_a_terminal_asks_twice_hidden(workspace: Workspace) -> None:
    master, slave = pty.openpty()
    cmd = [sys.executable, "-m", "segport", "--workspace", str(workspace.path),
           "users", "set-password", "admin"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path("src").resolve())}
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    try:
        seen = read_until(master, b"New password for admin:")
        type_hidden(master, PASSWORD)
        seen += read_until(master, b"Repeat for confirmation:")
        type_hidden(master, PASSWORD)
        seen += read_until(master, b"Password set for admin.")
        assert proc.wait(timeout=30) == 0, seen
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert b"Password set for admin." in seen
    assert PASSWORD.encode() not in seen
    assert verify_password(workspace, "admin", Secret(PASSWORD)).name == "admin"

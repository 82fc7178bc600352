"""Users and roles through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.fixtures.workspace import Cli


def _users(cli: Cli, actor: str | None = None) -> dict[str, list[str]]:
    out = cli("users", "list", actor=actor, ok=True).output.splitlines()
    return {line.split()[0]: line.split()[1:] for line in out[1:]}


def test_admin_manages_users_and_every_change_is_audited(cli: Cli) -> None:
    cli("users", "add", "bob", "--role", "contributor", ok=True)
    cli("users", "add", "vic", "--role", "VIEWER", ok=True)
    users = _users(cli)
    assert users["admin"][:2] == ["(default)", "admin"]
    assert users["bob"][0] == "contributor" and users["vic"][0] == "viewer"

    out = cli("users", "set-role", "bob", "admin", ok=True).output
    assert "bob is now admin" in out
    cli("users", "remove", "vic", ok=True)
    assert set(_users(cli, actor="bob")) == {"admin", "bob"}

    log = cli("audit", "--limit", "3", ok=True).output.splitlines()
    assert [line.split()[3] for line in log[1:]] == ["users.remove", "users.set_role", "users.add"]
    assert '"from": "contributor"' in log[2] and '"to": "admin"' in log[2]
    assert len(cli("audit", ok=True).output.splitlines()) == 1 + 5  # header + first admin + 4
    out = cli("audit", "--limit", "0", ok=False).output
    assert "the limit must be 1 or more" in out and "(option: --limit N)" in out


def test_viewers_and_contributors_cannot_manage_users(cli: Cli) -> None:
    cli("users", "add", "carol", "--role", "contributor", ok=True)
    cli("users", "add", "vic", "--role", "viewer", ok=True)
    for actor, role in (("carol", "contributor"), ("vic", "viewer")):
        for args in (("users", "add", "eve", "--role", "admin"), ("users", "list"),
                     ("users", "set-role", "carol", "admin"), ("users", "remove", "admin"),
                     ("audit",)):  # fmt: skip
            result = cli(*args, actor=actor, ok=False)
            assert f"{actor} is a {role} and may not" in result.output
            assert "ask an admin" in result.output
    assert set(_users(cli)) == {"admin", "carol", "vic"}


def test_bad_input_unknown_actor_and_the_last_admin(cli: Cli) -> None:
    out = cli("users", "list", actor="mallory", ok=False).output
    assert "no user named 'mallory'" in out and "users: admin" in out
    out = cli("users", "list", env={"SEGPORT_USER": "mallory"}, ok=False).output
    assert "no user named 'mallory'" in out
    assert "unknown role 'owner'" in cli("users", "add", "x", "--role", "owner", ok=False).output
    assert "invalid user name" in cli("users", "add", "a b", "--role", "viewer", ok=False).output
    cli("users", "add", "bob", "--role", "viewer", ok=True)
    assert "already exists" in cli("users", "add", "bob", "--role", "admin", ok=False).output
    assert "no user named 'zed'" in cli("users", "remove", "zed", ok=False).output
    # The last admin stays.
    out = cli("users", "set-role", "admin", "viewer", ok=False).output
    assert "only admin" in out
    assert "only admin" in cli("users", "remove", "admin", ok=False).output
    cli("users", "set-role", "bob", "admin", ok=True)
    # Removing the default user hands the default to the acting admin.
    cli("users", "remove", "admin", actor="bob", ok=True)
    assert _users(cli)["bob"][:2] == ["(default)", "admin"]

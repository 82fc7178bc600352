from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from segport.errors import Conflict
from segport.metadata import WorkspaceTooNew, current_revision, head_revision
from segport.service.access import actor_named
from segport.service.opening import init_workspace, open_workspace
from segport.service.workspace import Workspace, WorkspaceError, WorkspaceNotFound


def test_init_migrates_to_head(workspace: Workspace) -> None:
    assert current_revision(workspace.engine) == head_revision()
    assert workspace.profile_store_path.exists()
    with workspace.session() as s:
        keys = {r[0] for r in s.execute(text("SELECT key FROM workspace_info"))}
    assert {"created_at", "created_by_version"} <= keys


def test_init_refuses_existing(workspace: Workspace) -> None:
    with pytest.raises(WorkspaceError, match="already exists"):
        init_workspace(workspace.path)


def test_open_missing_workspace_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceNotFound, match="create one first") as info:
        open_workspace(tmp_path / "nowhere")
    assert (info.value.code, info.value.field) == ("workspace_not_found", "workspace")


def test_newer_schema_is_refused(workspace: Workspace) -> None:
    with workspace.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(WorkspaceTooNew, match="newer segport"):
        open_workspace(workspace.path)


def test_config_file_holds_database_location(workspace: Workspace) -> None:
    config = json.loads((workspace.path / "workspace.json").read_text())
    if workspace.engine.dialect.name == "sqlite":
        # Relative to the workspace, so a moved or copied workspace finds its own database.
        assert config == {"sqlite_file": "metadata.db"}
    else:
        assert config == {"database_url": workspace.database_url}


def _cli(path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    from segport.cli import app

    return CliRunner().invoke(app, ["--workspace", str(path), *args], env=env)


def test_cli_init_makes_admin_and_private_key_file(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    result = _cli(ws, "init", "--admin", "alice")
    assert result.exit_code == 0, result.output
    assert "admin: alice" in result.output and "secret.key (readable by you only" in result.output
    assert os.stat(ws / "secret.key").st_mode & 0o777 == 0o600
    users = _cli(ws, "users", "list").output
    assert "alice (default)  admin" in users
    assert _cli(ws, "init").exit_code == 1
    bad = _cli(tmp_path / "other", "init", "--admin", "no spaces please")
    assert bad.exit_code == 1 and "invalid user name" in bad.output


def test_cli_init_on_postgresql(tmp_path: Path, pg_database: str) -> None:
    result = _cli(tmp_path / "ws", "init", "--database-url", pg_database, "--admin", "pat")
    assert result.exit_code == 0, result.output
    assert "metadata: postgresql" in result.output
    assert not (tmp_path / "ws" / "metadata.db").exists()
    assert "pat (default)" in _cli(tmp_path / "ws", "users", "list").output
    again = _cli(tmp_path / "ws2", "init", "--database-url", pg_database)
    assert again.exit_code == 1 and "already holds a segport workspace" in again.output


def test_secrets_key_from_the_environment(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    env = {"SEGPORT_SECRET_KEY": Fernet.generate_key().decode()}
    ws = tmp_path / "ws"
    assert "secrets key: from SEGPORT_SECRET_KEY" in _cli(ws, "init", env=env).output
    assert not (ws / "secret.key").exists()
    add = ["connections", "add", "c", "--type", "brevo", "--agree-privacy", "--no-verify",
           "--api-key-env", "K"]  # fmt: skip
    assert _cli(ws, *add, env={**env, "K": "secret-1"}).exit_code == 0
    missing = _cli(ws, "connections", "rotate-key", env={"SEGPORT_SECRET_KEY": ""})
    assert missing.exit_code == 1 and "secrets key" in missing.output
    assert "missing" in missing.output and "SEGPORT_SECRET_KEY" in missing.output
    bad = _cli(ws, "connections", "rotate-key", env={"SEGPORT_SECRET_KEY": "short"})
    assert bad.exit_code == 1 and "not a valid Fernet key" in bad.output


def test_older_workspace_is_upgraded_and_gets_an_admin(workspace: Workspace) -> None:
    from alembic import command

    from segport.metadata.db import _config, migrating

    cfg = _config()
    with migrating(workspace.engine) as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    assert current_revision(workspace.engine) == "0002"
    ws = open_workspace(workspace.path)
    try:
        assert current_revision(ws.engine) == head_revision()
        from segport.service.users import list_users

        assert [
            (u.name, u.role.value, u.is_default) for u in list_users(ws, actor_named(ws, None))
        ] == [("admin", "admin", True)]
    finally:
        ws.close()


def test_conflicting_save_is_a_message_not_a_traceback(workspace: Workspace) -> None:
    from segport.service.models import User

    conflict = pytest.raises(Conflict, match="conflicts with one saved at the same time")
    with conflict, workspace.session() as s:
        s.add(User(name="admin", role="viewer"))


def test_bad_environment_key_stops_init_before_anything_is_made(tmp_path: Path) -> None:
    result = _cli(tmp_path / "ws", "init", env={"SEGPORT_SECRET_KEY": "nope"})
    assert result.exit_code == 1 and "not a valid Fernet key" in result.output
    assert not (tmp_path / "ws").exists()


def test_head_revision_constant_matches_the_migrations() -> None:
    from segport.metadata.db import HEAD_REVISION

    assert head_revision() == HEAD_REVISION


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://u:PW@h:5432/db?password=Q7", "postgres://u:***@h:5432/db?password=***"),
        ("postgresql://u@h/db?sslmode=require&sslpassword=x%26y&application_name=a",
         "postgresql://u@h/db?sslmode=require&sslpassword=***&application_name=a"),
        ("postgresql://u:p%40ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("not a url PW", "not a url PW"),
    ],
)  # fmt: skip
def test_redact_url_masks_every_password_form(url: str, shown: str) -> None:
    from segport.service.workspace import redact_text, redact_url

    assert redact_url(url) == shown
    assert redact_text('bad token "Super%ZZ5"', "postgresql://u:Super%ZZ5@h/db") == (
        'bad token "***"'
    )

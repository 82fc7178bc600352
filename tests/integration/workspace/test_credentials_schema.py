"""Migration 0007 (credentials): an older workspace gains passwords and tokens and keeps
its users; going back down keeps them too; the models agree with the migration."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from segport.metadata import Base, current_revision, head_revision
from segport.metadata.db import _config
from segport.secret import Secret
from segport.service import (
    actor_named,
    authenticate_token,
    create_token,
    list_users,
    set_password,
    verify_password,
)
from segport.service.opening import init_workspace, open_workspace
from segport.service.workspace import Workspace

PASSWORD = "a long and secret passphrase"


def _migrate(ws: Workspace, how: str, revision: str) -> None:
    cfg = _config()
    with ws.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, how)(cfg, revision)


def _connection_with_export_user(ws: Workspace) -> None:
    """A connection whose export user is the admin: what a careless table copy would lose."""
    with ws.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO connections (name, type, base_url, api_key_token, "
                "shared_with_contributors, requests_per_second, export_user_id, "
                "export_user_name, consent_by, consent_at, consent_version, created_by, "
                "created_at) VALUES ('c', 'brevo', 'http://x', :token, false, 10, "
                "(SELECT id FROM users WHERE name = 'admin'), 'admin', 'admin', "
                "CURRENT_TIMESTAMP, '1', 'admin', CURRENT_TIMESTAMP)"
            ),
            {"token": b"not a real token"},
        )


def _export_user(ws: Workspace) -> object:
    with ws.engine.connect() as conn:
        return conn.execute(text("SELECT export_user_id FROM connections")).scalar_one()


def _check_the_migration_path(tmp_path: Path, url: str | None) -> None:
    ws = init_workspace(tmp_path / "ws", url)
    try:
        _connection_with_export_user(ws)
        admin_id = _export_user(ws)
        assert admin_id is not None
        # Down to before the credentials, with a password and a token in place.
        set_password(ws, actor_named(ws, None), "admin", Secret(PASSWORD))
        create_token(ws, actor_named(ws, None))
        _migrate(ws, "downgrade", "0005")
        assert "api_tokens" not in inspect(ws.engine).get_table_names()
        columns = {c["name"] for c in inspect(ws.engine).get_columns("users")}
        assert "password_hash" not in columns and "password_set_at" not in columns
        assert _export_user(ws) == admin_id  # the users table was altered, not copied
    finally:
        ws.close()

    ws = open_workspace(tmp_path / "ws")  # opening upgrades an older workspace
    try:
        assert current_revision(ws.engine) == head_revision()
        assert _export_user(ws) == admin_id
        admin = actor_named(ws, None)
        [user] = list_users(ws, admin)
        assert (user.name, user.has_password, user.password_set_at) == ("admin", False, None)
        set_password(ws, admin, "admin", Secret(PASSWORD))
        assert verify_password(ws, "admin", Secret(PASSWORD)) == admin
        assert authenticate_token(ws, create_token(ws, admin).token) == admin

        # The models say what the migrations made (the tables of this migration).
        with ws.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = [
                d
                for d in compare_metadata(context, Base.metadata)
                if "users" in repr(d) or "api_tokens" in repr(d)
            ]
        assert diffs == []
    finally:
        ws.close()


def test_migration_path_on_sqlite(tmp_path: Path) -> None:
    _check_the_migration_path(tmp_path, None)


@pytest.mark.postgres
def test_migration_path_on_postgresql(tmp_path: Path, pg_database: str) -> None:
    _check_the_migration_path(tmp_path, pg_database)

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from segport.metadata import WorkspaceTooNew, current_revision, head_revision
from segport.workspace.workspace import (
    Workspace,
    WorkspaceError,
    WorkspaceNotFound,
    init_workspace,
    open_workspace,
)


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
    with pytest.raises(WorkspaceNotFound, match="segport init"):
        open_workspace(tmp_path / "nowhere")


def test_newer_schema_is_refused(workspace: Workspace) -> None:
    with workspace.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(WorkspaceTooNew, match="newer segport"):
        open_workspace(workspace.path)


def test_config_file_holds_database_location(workspace: Workspace) -> None:
    config = json.loads((workspace.path / "workspace.json").read_text())
    assert config["database_url"] == workspace.database_url

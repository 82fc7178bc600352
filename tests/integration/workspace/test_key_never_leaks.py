"""The API key is never in clear in the workspace, the database, a log line or an output."""

from __future__ import annotations

import logging
import os

import pytest
from sqlalchemy import MetaData, select
from tests.fixtures.workspace import Cli
from tests.integration.workspace.conftest import OTHER_KEY

from segport.brevo.sandbox import SandboxServer
from segport.service.workspace import Workspace

WRONG_KEY = "xkeysib-wrong-but-still-secret-91ac"


def _database_text(ws: Workspace) -> str:
    """Every value of every table of the metadata database, as text."""
    meta = MetaData()
    meta.reflect(ws.engine)
    parts = []
    with ws.engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                parts.extend(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row)
    return "\n".join(parts)


def test_key_is_nowhere_in_clear(
    profiled_workspace: Workspace,
    cli: Cli,
    sandbox: SandboxServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = sandbox.api_key
    list_id = sandbox.state.create_list("Leak test")
    outputs = [
        cli("connections", "add", "c", "--type", "brevo", "--api-key-stdin",
            "--base-url", sandbox.base_url, input=key, ok=False).output,
        cli("connections", "add", "c", "--type", "brevo", "--api-key-stdin", "--agree-privacy",
            "--base-url", sandbox.base_url, input=WRONG_KEY, ok=False).output,
        cli("connections", "add", "c", "--type", "brevo", "--api-key-stdin", "--agree-privacy",
            "--base-url", sandbox.base_url, "--share-with-contributors", input=key,
            ok=True).output,
        cli("connections", "list", ok=True).output,
        cli("connections", "show", "c", ok=True).output,
        cli("exports", "add", "e", "--connection", "c", "--list-id", str(list_id),
            "--segment", "gb", "--email", "email", "--first-name", "first", ok=True).output,
        cli("exports", "add", "bad", "--connection", "c", "--list-id", "9999",
            "--segment", "gb", "--email", "email", ok=False).output,
        cli("exports", "show", "e", ok=True).output,
        cli("exports", "list", ok=True).output,
        cli("connections", "edit", "c", "--api-key-env", "NEW_KEY", ok=True,
            env={"NEW_KEY": OTHER_KEY}).output,
        cli("connections", "edit", "c", "--api-key-stdin", input=WRONG_KEY, ok=False).output,
        cli("connections", "rotate-key", ok=True).output,
        cli("users", "list", ok=True).output,
        cli("audit", "--limit", "100", ok=True).output,
    ]  # fmt: skip
    # The saved keys still work after all that: the export checks ran against Brevo.
    cli("exports", "edit", "e", "--list-id", str(list_id), "--last-name", "last", ok=True)

    secrets = (key, OTHER_KEY, WRONG_KEY)
    files = [p for p in profiled_workspace.path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"workspace.json", "secret.key", "profiles.duckdb"}
    texts = {str(p): p.read_bytes().decode("latin-1") for p in files}
    texts["database"] = _database_text(profiled_workspace)
    texts["outputs"] = "\n".join(outputs)
    texts["logs"] = "\n".join(
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"an API key in clear in {where}"
    # The key file is the owner's alone.
    assert os.stat(profiled_workspace.path / "secret.key").st_mode & 0o777 == 0o600

"""`segport doctor` through the CLI: what it finds, what it says to do, its exit status,
its JSON, and that it changes nothing and never prints a key."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from tests.integration.workspace.conftest import SANDBOX_KEY
from tests.integration.workspace.disk import Made, make_workspace, ok, refused, segport

from segport.brevo.sandbox import SandboxServer


@pytest.fixture
def made(tmp_path: Path, sandbox: SandboxServer) -> Made:
    made = make_workspace(tmp_path, sandbox)
    made.run()
    return made


def doctor(ws: Path, *args: str) -> tuple[int, dict[str, dict[str, Any]], str]:
    """Exit status, the checks by name (from --json), and the human output."""
    human = segport(ws, "doctor", *args)
    result = segport(ws, "doctor", "--json", *args)
    assert result.exit_code == human.exit_code, result.output
    assert "Traceback" not in human.output + result.output
    assert SANDBOX_KEY not in human.output + result.output
    data = json.loads(result.stdout)
    assert data["ok"] is (result.exit_code == 0)
    return result.exit_code, {c["check"]: c for c in data["checks"]}, human.output


def problems(checks: dict[str, dict[str, Any]]) -> set[str]:
    return {name for name, c in checks.items() if c["status"] == "problem"}


def test_a_healthy_workspace_passes_every_check(made: Made) -> None:
    code, checks, out = doctor(made.path)
    assert code == 0 and "All checks passed." in out
    assert problems(checks) == set()
    for name in ("workspace", "permissions", "metadata", "migrations", "secrets key",
                 "connection sb", "profile store", "export news", "brevo sb"):  # fmt: skip
        assert checks[name]["status"] == "ok", checks[name]
    assert "3 contacts held" in checks["export news"]["detail"]
    assert "Brevo accepts the key" in checks["brevo sb"]["detail"]


def test_permissions_too_open(made: Made) -> None:
    os.chmod(made.path, 0o755)
    os.chmod(made.path / "workspace.json", 0o644)
    code, checks, out = doctor(made.path, "--offline")
    assert code == 1 and problems(checks) == {"permissions"}
    assert "workspace.json (644)" in checks["permissions"]["detail"]
    assert checks["permissions"]["fix"] == f"chmod -R go-rwx {made.path}"
    assert "what to do: chmod -R go-rwx" in out and "1 problem(s) found." in out


def test_a_secret_key_too_open_or_damaged_gets_its_own_fix(made: Made) -> None:
    key = made.path / "secret.key"
    os.chmod(key, 0o644)
    code, checks, _ = doctor(made.path, "--offline")
    assert checks["secrets key"]["fix"] == f"chmod 600 {key}"  # was "see the message"
    os.chmod(key, 0o600)
    key.write_text("not a key\n")
    code, checks, _ = doctor(made.path, "--offline")
    assert code == 1 and "restore" in checks["secrets key"]["fix"]


def test_a_lost_secret_key_and_then_undecryptable_keys(made: Made) -> None:
    (made.path / "secret.key").unlink()
    code, checks, _ = doctor(made.path, "--offline")
    assert code == 1 and problems(checks) == {"secrets key"}
    assert "secret.key is missing" in checks["secrets key"]["detail"]
    assert "new-secret-key" in checks["secrets key"]["fix"]
    assert "'sb'" in checks["secrets key"]["fix"]
    ok(made.path, "connections", "new-secret-key")
    code, checks, _ = doctor(made.path, "--offline")
    assert code == 1 and problems(checks) == {"connection sb"}
    assert "cannot be decrypted" in checks["connection sb"]["detail"]
    assert checks["connection sb"]["fix"] == 'segport connections edit "sb" --api-key-stdin'
    ok(made.path, "connections", "edit", "sb", "--api-key-stdin", input=SANDBOX_KEY)
    assert doctor(made.path)[0] == 0


def test_a_key_brevo_refuses_unless_offline(made: Made) -> None:
    ok(made.path, "connections", "edit", "sb", "--api-key-stdin", "--no-verify",
       input="xkeysib-not-a-key-of-this-account")  # fmt: skip
    code, checks, _ = doctor(made.path)
    assert code == 1 and problems(checks) == {"brevo sb"}
    assert "refused the API key" in checks["brevo sb"]["detail"]
    assert "connections edit" in checks["brevo sb"]["fix"]
    code, checks, _ = doctor(made.path, "--offline")
    assert code == 0 and checks["brevo"]["status"] == "skipped"


def test_damaged_metadata_and_nothing_else_is_tried(made: Made) -> None:
    (made.path / "metadata.db").write_bytes(b"")
    code, checks, _ = doctor(made.path, "--offline")
    assert code == 1 and problems(checks) == {"metadata"}
    assert "is empty (0 bytes)" in checks["metadata"]["detail"]
    assert "backup" in checks["metadata"]["fix"]
    assert checks["connections"]["status"] == "skipped"
    assert (made.path / "metadata.db").stat().st_size == 0


def test_export_state_damaged_or_lost(made: Made) -> None:
    state = next((made.path / "state").glob("export-*.duckdb"))
    for leftover in state.parent.glob(state.name + ".wal"):
        leftover.unlink()
    state.write_bytes(os.urandom(20_000))
    code, checks, _ = doctor(made.path, "--offline")
    assert code == 1 and problems(checks) == {"export news"}
    assert "cannot be opened" in checks["export news"]["detail"]
    state.unlink()
    code, checks, _ = doctor(made.path, "--offline")
    assert code == 1 and "is missing although the export has run" in checks["export news"]["detail"]
    assert "segport exports rebuild-state news" in checks["export news"]["fix"]


def test_an_older_copy_of_a_state_is_a_problem_as_runs_find_it(made: Made) -> None:
    import shutil

    state = made.path / "state"
    backup = made.path.parent / "state-backup"
    shutil.copytree(state, backup)
    made.load(5)
    made.run()
    shutil.rmtree(state)
    shutil.copytree(backup, state)  # the state of the run before: every run refuses it
    refused(segport(made.path, "exports", "run", "news", "--dry-run"), "rebuild-state news")
    code, checks, _ = doctor(made.path, "--offline")  # said "ok: state opens"
    assert code == 1 and problems(checks) == {"export news"}
    assert "not the one the export's last run left" in checks["export news"]["detail"]
    assert "segport exports rebuild-state news" in checks["export news"]["fix"]


def test_migrations_behind_are_reported_not_run(made: Made) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    from segport.metadata.db import _config, current_revision, migrating

    engine = create_engine(f"sqlite:///{made.path / 'metadata.db'}")
    cfg = _config()
    with migrating(engine) as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    code, checks, _ = doctor(made.path, "--offline")
    assert code == 1 and "migrations" in problems(checks)
    assert "schema at 0004" in checks["migrations"]["detail"]
    assert current_revision(engine) == "0004"  # the doctor changes nothing
    engine.dispose()


def test_no_workspace_there(tmp_path: Path) -> None:
    result = segport(tmp_path / "nothing", "doctor")
    refused(result, "is not a folder", "what to do")


def test_a_postgresql_server_that_does_not_answer_is_not_called_damaged(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ws = tmp_path / "ws"
    ws.mkdir(mode=0o700)
    url = f"postgresql://postgres:Doctor-Pw-9@127.0.0.1:{port}/segport?password=Other-Pw-8"
    (ws / "workspace.json").write_text(json.dumps({"database_url": url}))
    (ws / "workspace.json").chmod(0o600)
    code, checks, human = doctor(ws, "--offline")
    assert code == 1 and problems(checks) == {"metadata"}
    assert "server is running" in checks["metadata"]["fix"]  # was: restore from a backup
    assert "backup" not in checks["metadata"]["fix"]
    assert "Doctor-Pw-9" not in human and "Other-Pw-8" not in human
    assert "postgres:***@" in human
    assert checks["metadata"]["detail"].startswith("postgresql://postgres:***@127.0.0.1")

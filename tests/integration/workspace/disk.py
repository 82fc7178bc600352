"""Helpers for the tests of the workspace on disk: a workspace made and run through the CLI
against the sandbox, and assertions that a command failed with a message, not a traceback."""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.integration.workspace.conftest import SANDBOX_KEY
from typer.testing import CliRunner, Result

from segport.brevo.sandbox import SandboxServer


def segport(
    ws: Path, *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> Result:
    from segport.cli import app

    return CliRunner().invoke(app, ["--workspace", str(ws), *args], input=input, env=env)


def ok(ws: Path, *args: str, input: str | None = None) -> str:
    result = segport(ws, *args, input=input)
    assert result.exit_code == 0, result.output
    return result.output


def refused(result: Result, *phrases: str) -> str:
    """The command failed with exit status 1 and a message holding ``phrases``."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.output, result.output
    return result.output


def write_profiles(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["customer_id", "email", "tier"])
        for i in range(1, n + 1):
            writer.writerow([i, f"user{i}@example.com", "gold"])


@dataclass
class Made:
    """A workspace with a connection to the sandbox, profiles, a segment and an export."""

    path: Path
    sandbox: SandboxServer
    list_id: int
    profiles: Path

    def members(self) -> set[str]:
        self.sandbox.state.wait_idle()
        return set(self.sandbox.state.list_member_emails(self.list_id))

    def load(self, n: int, ws: Path | None = None) -> None:
        write_profiles(self.profiles, n)
        ok(ws or self.path, "profiles", "load", str(self.profiles), "--replace")

    def run(self, ws: Path | None = None) -> str:
        return ok(ws or self.path, "exports", "run", "news")


def emails(n: int) -> set[str]:
    return {f"user{i}@example.com" for i in range(1, n + 1)}


def make_workspace(tmp: Path, sandbox: SandboxServer, rows: int = 3) -> Made:
    ws = tmp / "ws"
    ok(ws, "init")
    ok(ws, "connections", "add", "sb", "--type", "brevo", "--api-key-stdin",
       "--base-url", sandbox.base_url, "--agree-privacy", input=SANDBOX_KEY + "\n")  # fmt: skip
    made = Made(ws, sandbox, sandbox.state.create_list(f"l-{uuid.uuid4().hex[:8]}"), tmp / "p.csv")
    made.load(rows)
    ok(ws, "segments", "create", "gold", "--where", "tier = 'gold'")
    ok(ws, "exports", "add", "news", "--connection", "sb", "--list-id", str(made.list_id),
       "--segment", "gold", "--email", "email")  # fmt: skip
    return made

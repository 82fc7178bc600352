"""What the global options hand to every command: the workspace folder and the acting user."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import typer

DEFAULT_WORKSPACE = ".segport"


@dataclass(frozen=True)
class CliState:
    workspace: Path
    actor: str | None  # None: the workspace's default admin


def keep_files_private(ctx: typer.Context) -> None:
    """Every file and folder this command creates is readable by its owner only (0600,
    0700): profiles, export state, run files and ``workspace.json`` hold personal data or
    passwords, and many modules (and DuckDB itself) create them. The previous umask comes
    back when the command ends, for callers that run commands in-process."""
    from segport.service import PRIVATE_UMASK

    previous = os.umask(PRIVATE_UMASK)
    ctx.call_on_close(lambda: os.umask(previous))


def get_state(ctx: typer.Context) -> CliState:
    """The state set by the root callback; commands call this instead of reading env."""
    root = ctx.find_root()
    state = root.obj
    if isinstance(state, CliState):
        return state
    ws = os.environ.get("SEGPORT_WORKSPACE") or DEFAULT_WORKSPACE
    return CliState(workspace=Path(ws), actor=os.environ.get("SEGPORT_USER") or None)


# `-h` is `--help` on the app and every command group (Typer's context settings).
HELP_SETTINGS: dict[str, object] = {"help_option_names": ["-h", "--help"]}

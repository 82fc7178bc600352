"""The command-line face of segport.

Only typer is imported at module level here and in the command modules: commands that
touch no data must not import a query library (``segport --help`` stays fast).
Each command module imports its service lazily, inside the command function.
:mod:`segport.cli.lifecycle` keeps the garbage collector out of start-up and exit.
"""

from __future__ import annotations

from pathlib import Path

import typer

from segport.cli import (
    connections,
    doctor,
    export_run,
    exports,
    lifecycle,
    profiles,
    runs,
    sandbox,
    segments,
    users,
    workspace,
)
from segport.cli.context import DEFAULT_WORKSPACE, CliState, keep_files_private

app = typer.Typer(
    name="segport",
    help="Export segments of customer profiles into Brevo (Sendinblue) contact lists.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    workspace_dir: Path = typer.Option(
        DEFAULT_WORKSPACE,
        "--workspace",
        envvar="SEGPORT_WORKSPACE",
        help="Workspace folder (metadata, profile store, secrets key).",
    ),
    actor: str | None = typer.Option(
        None,
        "--as",
        envvar="SEGPORT_USER",
        help="Act as this workspace user (default: the admin made by init).",
    ),
) -> None:
    ctx.obj = CliState(workspace=workspace_dir, actor=actor)
    keep_files_private(ctx)


sandbox.register(app)
workspace.register(app)
doctor.register(app)
app.add_typer(users.app, name="users")
app.add_typer(connections.app, name="connections")
app.add_typer(profiles.app, name="profiles")
app.add_typer(segments.app, name="segments")
export_run.register(exports.app)
app.add_typer(exports.app, name="exports")
app.add_typer(runs.app, name="runs")


def main() -> None:
    """The console entry point (``segport``, ``python -m segport``)."""
    lifecycle.starting()
    try:
        app()
    finally:
        lifecycle.ending()

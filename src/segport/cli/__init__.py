"""The command-line face of segport.

Only typer is imported at module level here and in the command modules: commands that
touch no data must not import a query library (``segport --help`` stays fast).
Each command module imports its service lazily, inside the command function.
:mod:`segport.cli.lifecycle` keeps the garbage collector out of start-up and exit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from segport.cli import (
    alerts,
    brevo,
    connections,
    doctor,
    export_run,
    export_schedule,
    exports,
    lifecycle,
    profiles,
    runs,
    sandbox,
    schedule,
    segments,
    serve,
    tokens,
    users,
    worker,
    workspace,
)
from segport.cli import help as help_rendering
from segport.cli.context import DEFAULT_WORKSPACE, HELP_SETTINGS, CliState, keep_files_private
from segport.cli.workspace import ERROR, report_error

help_rendering.install()

app = typer.Typer(
    name="segport",
    help="Export segments of customer profiles into Brevo (Sendinblue) contact lists.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings=HELP_SETTINGS,  # the command groups inherit it
    rich_markup_mode=None,  # plain click help: metavars as written (NAME, not {NAME} <str>)
)


def show_version(value: bool) -> None:
    if value:
        from segport import __version__

        typer.echo(f"segport {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    workspace_dir: Path = typer.Option(
        DEFAULT_WORKSPACE,
        "--workspace",
        envvar="SEGPORT_WORKSPACE",
        metavar="FOLDER",
        help="Workspace folder (metadata, profile store, secrets key).",
    ),
    actor: str | None = typer.Option(
        None,
        "--as",
        envvar="SEGPORT_USER",
        metavar="NAME",
        help="Attribute actions to this user and apply their role; not a login: whoever "
        "can read the workspace holds it (default: the admin made by init).",
    ),
    version: bool = typer.Option(
        False,
        "--version",
        callback=show_version,
        is_eager=True,
        help="Print segport's version and stop.",
    ),
) -> None:
    ctx.obj = CliState(workspace=workspace_dir, actor=actor)
    keep_files_private(ctx)


sandbox.register(app)
workspace.register(app)
doctor.register(app)
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(connections.app, name="connections")
app.add_typer(profiles.app, name="profiles")
app.add_typer(segments.app, name="segments")
export_run.register(exports.app)
export_schedule.register(exports.app)
app.add_typer(exports.app, name="exports")
app.add_typer(runs.app, name="runs")
app.add_typer(brevo.app, name="brevo")
app.add_typer(schedule.app, name="schedule")
app.add_typer(alerts.app, name="alerts")
app.add_typer(alerts.smtp_app, name="smtp")
worker.register(app)
serve.register(app)


def main() -> None:
    """The console entry point (``segport``, ``python -m segport``)."""
    lifecycle.starting()
    try:
        app()
    except Exception as exc:  # the last line of defence: a bug, not a bad input
        if os.environ.get("SEGPORT_DEBUG"):
            raise
        raise SystemExit(unexpected_error(exc)) from None
    finally:
        lifecycle.ending()


def unexpected_error(exc: BaseException) -> int:
    """Report an error no command turned into a message: one line on stderr, the details
    (redacted) in a private file for the bug report. Returns the exit status."""
    import tempfile
    import time
    import traceback

    from segport.secret import redact

    details = redact("".join(traceback.format_exception(exc)))
    where = "(details could not be saved)"
    try:
        fd, name = tempfile.mkstemp(
            prefix=f"segport-error-{time.strftime('%Y%m%d-%H%M%S')}-", suffix=".log"
        )  # 0600: the details may quote profile values
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"segport {' '.join(sys.argv[1:])}\n\n{details}")
        where = name
    except OSError:
        pass
    summary = redact(f"{type(exc).__name__}: {exc}")
    if len(summary) > 300:
        summary = summary[:300] + "…"
    report_error(
        f"segport stopped on an unexpected error ({summary}). This is a bug: please "
        f"report it with the command you ran and the details in {where}. "
        "Run with SEGPORT_DEBUG=1 to see the traceback here."
    )
    return ERROR

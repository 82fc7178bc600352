"""`segport doctor`: check the workspace and say what to do about each problem."""

from __future__ import annotations

import typer

from segport.cli import lifecycle
from segport.cli.context import get_state
from segport.cli.workspace import JSON_OPTION, print_json

LABELS = {"ok": "ok", "problem": "PROBLEM", "skipped": "skipped"}


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)


def doctor(
    ctx: typer.Context,
    offline: bool = typer.Option(
        False, "--offline", help="Do not check the connections' API keys with Brevo."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check the workspace: files, permissions, metadata and migrations, the secrets key and
    each saved API key, the profile store, each export's state, and (unless --offline) each
    connection's key with Brevo. Exit status 0 when all is well, 1 otherwise."""
    from segport.service import diagnose

    lifecycle.started()
    state = get_state(ctx)
    report = diagnose(state.workspace, state.actor, offline=offline)
    if as_json:
        print_json(report.as_dict())
    else:
        typer.echo(f"Checking the workspace at {report.workspace}")
        width = max(len(c.check) for c in report.checks)
        for c in report.checks:
            typer.echo(f"  {LABELS[c.status]:<8} {c.check:<{width}}  {c.detail}")
            if c.fix:
                typer.echo(f"  {'':<8} {'':<{width}}  what to do: {c.fix}")
        problems = sum(c.status == "problem" for c in report.checks)
        typer.echo("All checks passed." if not problems else f"{problems} problem(s) found.")
    if not report.ok:
        raise typer.Exit(1)

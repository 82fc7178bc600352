"""Top-level workspace commands: `segport init`."""

from __future__ import annotations

import typer

from segport.cli.context import get_state


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(
    ctx: typer.Context,
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Keep the metadata in this PostgreSQL database instead of a SQLite file.",
    ),
) -> None:
    """Create a workspace: metadata database and profile store."""
    from segport.workspace.workspace import WorkspaceError, init_workspace, redact_url

    state = get_state(ctx)
    try:
        ws = init_workspace(state.workspace, database_url)
    except WorkspaceError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Workspace created at {ws.path}")
    typer.echo(f"  metadata: {redact_url(ws.database_url)}")
    typer.echo(f"  profile store: {ws.profile_store_path}")
    ws.close()

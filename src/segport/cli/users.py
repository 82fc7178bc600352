"""`segport users ...` commands (admins)."""

from __future__ import annotations

import typer

from segport.cli.workspace import opened, print_table, when

app = typer.Typer(
    help="Manage workspace users and their roles: admin, contributor, viewer.",
    no_args_is_help=True,
)

ROLE_HELP = (
    "admin (everything), contributor (segments, and exports on shared connections) "
    "or viewer (sees, changes nothing)."
)


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
) -> None:
    """Add a user with a role."""
    from segport.service.users import add_user

    with opened(ctx) as (ws, actor):
        user = add_user(ws, actor, name, role)
    typer.echo(f"Added {user.name} ({user.role.value}).")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List users, their roles and the connections they are export user of."""
    from segport.service.users import list_users

    with opened(ctx) as (ws, actor):
        users = list_users(ws, actor)
    print_table(
        ["name", "role", "export user of", "added"],
        [
            [
                u.name + (" (default)" if u.is_default else ""),
                u.role.value,
                ", ".join(u.export_user_of) or "-",
                when(u.created_at),
            ]
            for u in users
        ],
    )


def _stopped_note(stopped: list[str]) -> None:
    if stopped:
        typer.echo(
            f"Runs on {', '.join(stopped)} now fail until an admin takes over: "
            f"`segport connections take-over {stopped[0]}`"
        )


@app.command("set-role")
def set_role(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Argument(..., help=ROLE_HELP),
) -> None:
    """Change a user's role."""
    from segport.service.users import set_role as change

    with opened(ctx) as (ws, actor):
        stopped = change(ws, actor, name, role)
    typer.echo(f"{name} is now {role.strip().lower()}.")
    _stopped_note(stopped)


@app.command("remove")
def remove(ctx: typer.Context, name: str = typer.Argument(..., help="User name.")) -> None:
    """Remove a user (the audit log keeps their name)."""
    from segport.service.users import remove_user

    with opened(ctx) as (ws, actor):
        stopped = remove_user(ws, actor, name)
    typer.echo(f"Removed {name}.")
    _stopped_note(stopped)

"""`segport users ...` commands (admins; anyone for their own password)."""

from __future__ import annotations

import sys

import typer

from segport.cli.text import clean
from segport.cli.workspace import fail, opened, print_json, print_table, when

app = typer.Typer(
    help="Manage workspace users and their roles: admin, contributor, viewer.\n\n"
    "What protects what: on the command line, whoever can read the workspace folder (or "
    "its metadata database) holds it, like a database superuser. --as NAME (or "
    "SEGPORT_USER) says which user actions are attributed to in the audit log and whose "
    "role applies; it does not authenticate, and segport asks for no password here. "
    "Passwords (set-password) and API tokens (segport tokens) are for segport's server, "
    "which will authenticate with them.",
    no_args_is_help=True,
)

ROLE_HELP = (
    "admin (everything), contributor (segments, and exports on shared connections) "
    "or viewer (sees, changes nothing)."
)


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name.", metavar="NAME"),
    role: str = typer.Option(..., "--role", help=ROLE_HELP, metavar="ROLE"),
) -> None:
    """Add a user with a role."""
    from segport.service import add_user

    with opened(ctx) as (ws, actor):
        user = add_user(ws, actor, name, role)
    typer.echo(f"Added {user.name} ({user.role.value}).")


@app.command(
    "list",
    help="List users, their roles, passwords set, and connections they are export user "
    "of.\n\nWhether a user has a password is shown, never the password or its hash.",
)
def list_(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the users as JSON."),
) -> None:
    """List users (help: above)."""
    from segport.service import list_users

    with opened(ctx) as (ws, actor):
        users = list_users(ws, actor)
    if as_json:
        print_json(users)
        return
    print_table(
        ["name", "role", "password", "export user of", "added"],
        [
            [
                u.name + (" (default)" if u.is_default else ""),
                u.role.value,
                "set" if u.has_password else "-",
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
    name: str = typer.Argument(..., help="User name.", metavar="NAME"),
    role: str = typer.Argument(..., help=ROLE_HELP, metavar="ROLE"),
) -> None:
    """Change a user's role."""
    from segport.service import set_role as change

    with opened(ctx) as (ws, actor):
        stopped = change(ws, actor, name, role)
    typer.echo(f"{name} is now {role.strip().lower()}.")
    _stopped_note(stopped)


@app.command("remove")
def remove(
    ctx: typer.Context, name: str = typer.Argument(..., metavar="NAME", help="User name.")
) -> None:
    """Remove a user (the audit log keeps their name)."""
    from segport.service import remove_user

    with opened(ctx) as (ws, actor):
        stopped = remove_user(ws, actor, name)
    typer.echo(f"Removed {name}.")
    _stopped_note(stopped)


def _read_password(name: str, from_stdin: bool) -> str:
    """The new password: one line of standard input, or a hidden prompt, asked twice, on a
    terminal; never an argument, which other users of the machine see in the process
    list."""
    if from_stdin:
        value = sys.stdin.read()
        if value.endswith("\n"):
            value = value[:-1].removesuffix("\r")
        if "\n" in value or "\r" in value:
            fail("--password-stdin: give the password on one line")
        return value
    if sys.stdin.isatty():
        prompt = f"New password for {clean(name)}"
        return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True))
    fail("no terminal to ask for the password on: give it with --password-stdin")


@app.command(
    "set-password",
    help="Set a user's password (at least 12 characters), for segport's server.\n\n"
    "The server will log users in with it; the command line does not ask for it. Users set "
    "their own; admins anyone's. Asked twice, hidden, on a terminal; or one line from "
    "standard input with --password-stdin. The audit log records who set whose password, "
    "never the password.",
)
def set_password(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="User name."),
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help="Read the password from standard input (one line) instead of asking for it.",
    ),
) -> None:
    """Set a user's password (help: above)."""
    from segport.secret import Secret
    from segport.service import set_password as change

    password = Secret(_read_password(name, password_stdin), scrub=False)  # never sent anywhere
    with opened(ctx) as (ws, actor):
        change(ws, actor, name, password)
    typer.echo(f"Password set for {clean(name)}.")

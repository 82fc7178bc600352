"""`segport tokens ...`: API tokens for segport's server (create, list, revoke)."""

from __future__ import annotations

import typer

from segport.cli.text import clean
from segport.cli.workspace import opened, print_json, print_table, when

app = typer.Typer(
    help="Manage API tokens, which segport's server will authenticate scripts and clients "
    "with (the command line itself does not use them). A token is shown once, when it is "
    "created; segport keeps only its hash. Users manage their own tokens; admins anyone's.",
    no_args_is_help=True,
)


@app.command(
    "create",
    help="Create an API token and print it, once.\n\nOnly standard output holds the token, "
    "so `segport tokens create > FILE` keeps just the token; the note about it goes to "
    "standard error.",
)
def create(
    ctx: typer.Context,
    user: str | None = typer.Option(
        None, "--user", metavar="NAME", help="Whose token (default: you; others: admins)."
    ),
    name: str = typer.Option(
        "", "--name", metavar="LABEL", help="A label to recognise it by, e.g. 'nightly CI'."
    ),
    expires_in: int | None = typer.Option(
        None,
        "--expires-in",
        metavar="DAYS",
        min=1,
        max=3650,
        help="Expire after this many days (default: never; revoke it when done).",
    ),
) -> None:
    """Create an API token (help: above)."""
    from datetime import UTC, datetime, timedelta

    from segport.service import create_token

    now = datetime.now(UTC)
    expires_at = now + timedelta(days=expires_in) if expires_in is not None else None
    with opened(ctx) as (ws, actor):
        new = create_token(ws, actor, user, name=name, expires_at=expires_at)
    v = new.view
    label = f" {clean(repr(v.name))}" if v.name else ""
    typer.echo(
        f"Token {v.id}{label} for {clean(v.user)} (prefix {v.prefix}, expires "
        f"{when(v.expires_at) if v.expires_at else 'never'}). Copy it now: it is not shown "
        "again, segport keeps only its hash.",
        err=True,
    )
    typer.echo(new.token.reveal())


@app.command(
    "list",
    help="List API tokens: id, owner, label, prefix and status (never the token).\n\n"
    "Also when each was created, last used, expires and was revoked.",
)
def list_(
    ctx: typer.Context,
    user: str | None = typer.Option(
        None,
        "--user",
        metavar="NAME",
        help="Only this user's tokens (default: yours; an admin sees everyone's).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the tokens as JSON."),
) -> None:
    """List API tokens (help: above)."""
    from segport.service import list_tokens

    with opened(ctx) as (ws, actor):
        views = list_tokens(ws, actor, user)
    if as_json:
        print_json(views)
        return
    if not views:
        typer.echo("No API tokens: `segport tokens create` makes one.")
        return
    print_table(
        ["id", "user", "name", "prefix", "status", "created", "last used", "expires", "revoked"],
        [
            [
                str(v.id),
                v.user,
                v.name or "-",
                v.prefix,
                v.status,
                when(v.created_at),
                when(v.last_used_at),
                when(v.expires_at) if v.expires_at else "never",
                when(v.revoked_at),
            ]
            for v in views
        ],
    )


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: int = typer.Argument(..., metavar="ID", help="Token id (`segport tokens list`)."),
) -> None:
    """Revoke an API token for good (your own; admins anyone's)."""
    from segport.service import revoke_token

    with opened(ctx) as (ws, actor):
        v = revoke_token(ws, actor, token_id)
    typer.echo(f"Token {v.id} ({v.prefix}) of {clean(v.user)} is revoked ({when(v.revoked_at)}).")

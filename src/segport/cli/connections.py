"""`segport connections ...` commands (admins; contributors see shared names and types).

API keys are read from an environment variable (--api-key-env), from stdin
(--api-key-stdin) or from a hidden prompt, never from a command-line argument, which
would land in shell history and process lists.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from segport.secret import Secret

from segport.cli.context import HELP_SETTINGS
from segport.cli.workspace import (
    JSON_OPTION,
    fail,
    opened,
    print_json,
    print_table,
    when,
    with_hint,
)

app = typer.Typer(
    help="Manage connections to Brevo (Sendinblue) accounts.",
    no_args_is_help=True,
    context_settings=HELP_SETTINGS,
)

NAME_ARG = typer.Argument(..., metavar="NAME", help="The connection's name.")

KEY_ENV_HELP = "Read the API key from this environment variable."
KEY_STDIN_HELP = "Read the API key from standard input."


def read_api_key(env: str | None, from_stdin: bool, required: bool) -> Secret | None:
    from segport.secret import Secret

    if env and from_stdin:
        fail("give either --api-key-env or --api-key-stdin, not both")
    if env:
        if len(env) > 40 or "-" in env:  # not a variable name: the key itself? Don't echo it
            fail(
                "--api-key-env takes the NAME of an environment variable that holds the key "
                "(e.g. --api-key-env BREVO_KEY), not the key itself"
            )
        value = os.environ.get(env)
        if not value:
            fail(f"--api-key-env {env}: the environment variable {env} is not set or empty")
        return Secret(value)
    if from_stdin:
        value = sys.stdin.read().strip()
        if not value:
            fail("--api-key-stdin: nothing was read from standard input")
        return Secret(value)
    if not required:
        return None
    if sys.stdin.isatty():
        return Secret(str(typer.prompt("Brevo API key", hide_input=True)))
    fail("give the API key with --api-key-env VAR or --api-key-stdin")


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar="NAME", help="Display name: say its purpose and target."
    ),
    type_: str = typer.Option(
        ..., "--type", metavar="TYPE", help="brevo (sendinblue is accepted as the same type)."
    ),
    api_key_env: str | None = typer.Option(None, "--api-key-env", metavar="VAR", help=KEY_ENV_HELP),
    api_key_stdin: bool = typer.Option(False, "--api-key-stdin", help=KEY_STDIN_HELP),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        metavar="URL",
        help="Brevo API base URL (default https://api.brevo.com/v3; the sandbox: "
        "http://127.0.0.1:PORT/v3).",
    ),
    share: bool = typer.Option(
        False, "--share-with-contributors", help="Let contributors put exports on it."
    ),
    agree_privacy: bool = typer.Option(
        False,
        "--agree-privacy",
        help="Agree to the data privacy and compliance statement (shown without this option).",
    ),
    no_verify: bool = typer.Option(
        False, "--no-verify", help="Save the key without checking it with Brevo (offline setup)."
    ),
    rate: float | None = typer.Option(
        None, "--rate", metavar="N", help="Requests per second on contacts endpoints (default 10)."
    ),
) -> None:
    """Add a connection; you give the privacy consent and become its export user."""
    from segport.service import ConsentRequired, add_connection

    with opened(ctx) as (ws, actor):
        key = read_api_key(api_key_env, api_key_stdin, required=True) if agree_privacy else ""
        try:
            view = add_connection(
                ws,
                actor,
                name,
                type_,
                key or "",
                agree_privacy=agree_privacy,
                base_url=base_url,
                share_with_contributors=share,
                verify=not no_verify,
                requests_per_second=rate,
            )
        except ConsentRequired as exc:
            typer.echo(exc.statement)
            typer.echo("")
            fail(with_hint(exc))
    typer.echo(f"Connection {view.name!r} saved ({view.type}, shared with {view.shared_with}).")
    if view.account_email:
        typer.echo(f"  account: {view.account_email} — plan: {view.account_plan}")
    else:
        typer.echo("  the API key was not checked (--no-verify)")
    typer.echo(f"  export user: {view.export_user} (exports on it run as you)")
    typer.echo(f"  privacy consent: given by {view.consent_by} at {when(view.consent_at)}")


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List connections (contributors: names and types of those shared with them)."""
    from segport.service import visible_connections

    with opened(ctx) as (ws, actor):
        listing = visible_connections(ws, actor)
    if as_json:
        print_json(listing)
        return
    if not listing.detailed:
        if not listing.summaries:
            typer.echo("No connection is shared with contributors; ask an admin.")
            return
        print_table(["name", "type"], [[c.name, c.type] for c in listing.summaries])
        return
    if not listing.connections:
        typer.echo("No connections yet: add one with `segport connections add`.")
        return
    print_table(
        ["name", "type", "shared with", "export user", "exports", "created"],
        [
            [
                v.name,
                v.type,
                v.shared_with,
                v.export_user + (" (cannot run: take over)" if v.export_user_problem else ""),
                ", ".join(v.exports) or "-",
                when(v.created_at),
            ]
            for v in listing.connections
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    name: str = NAME_ARG,
    check: bool = typer.Option(
        False, "--check", help="Check the saved key with Brevo now and refresh account and plan."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a connection: its account and plan, sharing, consent, export user (never the key)."""
    from segport.service import check_connection, show_connection

    with opened(ctx) as (ws, actor):
        v = check_connection(ws, actor, name) if check else show_connection(ws, actor, name)
    if as_json:
        print_json(v)
        return
    lines = [
        ("name", v.name),
        ("type", v.type),
        ("base URL", v.base_url),  # the view's is redacted
        ("account", v.account_email or "not verified (added with --no-verify)"),
        ("company", v.account_company or "-"),
        ("plan", v.account_plan or "-"),
        ("key verified", when(v.verified_at)),
        ("API key", "saved, encrypted (never shown)"),
        ("shared with", v.shared_with),
        ("export user", v.export_user),
        ("rate", f"{v.requests_per_second:g} requests/s"),
        (
            "privacy consent",
            f"by {v.consent_by} at {when(v.consent_at)} (statement {v.consent_version})",
        ),
        ("exports", ", ".join(v.exports) or "-"),
        ("created", f"{when(v.created_at)} by {v.created_by}"),
    ]
    for label, value in lines:
        typer.echo(f"{label + ':':17}{value}")
    if v.export_user_problem:
        typer.echo(
            f"Runs on it fail: {v.export_user_problem}. An admin can take it over: "
            f"`segport connections take-over {v.name}`"
        )


@app.command("edit")
def edit(
    ctx: typer.Context,
    name: str = NAME_ARG,
    rename: str | None = typer.Option(None, "--rename", metavar="NAME", help="New display name."),
    api_key_env: str | None = typer.Option(
        None, "--api-key-env", metavar="VAR", help="New API key from this environment variable."
    ),
    api_key_stdin: bool = typer.Option(
        False, "--api-key-stdin", help="New API key from standard input."
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", metavar="URL", help="New API base URL."
    ),
    share: bool | None = typer.Option(
        None,
        "--share-with-contributors/--no-share-with-contributors",
        help="Share with contributors, or stop sharing.",
    ),
    no_verify: bool = typer.Option(False, "--no-verify", help="Do not check a new key."),
    rate: float | None = typer.Option(None, "--rate", metavar="N", help="Requests per second."),
) -> None:
    """Rename a connection, give it a new API key, change its sharing or URL."""
    from segport.service import edit_connection

    with opened(ctx) as (ws, actor):
        key = read_api_key(api_key_env, api_key_stdin, required=False)
        v = edit_connection(
            ws,
            actor,
            name,
            new_name=rename,
            api_key=key,
            base_url=base_url,
            share_with_contributors=share,
            verify=not no_verify,
            requests_per_second=rate,
        )
    if not v.changes:
        typer.echo(f"Connection {name!r}: nothing to change.")
        return
    typer.echo(f"Connection {name!r}: {'; '.join(v.changes)}.")
    if v.account_email and v.key_replaced:
        typer.echo(f"  account: {v.account_email} — plan: {v.account_plan}")


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: str = NAME_ARG,
    detach_exports: bool = typer.Option(
        False, "--detach-exports", help="Keep its exports, without a connection (they won't run)."
    ),
    remove_exports: bool = typer.Option(
        False, "--remove-exports", help="Remove its exports with it."
    ),
) -> None:
    """Remove a connection (refused while exports use it, unless told what to do with them)."""
    from segport.service import remove_connection

    with opened(ctx) as (ws, actor):
        exports = remove_connection(
            ws, actor, name, detach_exports=detach_exports, remove_exports=remove_exports
        )
    typer.echo(f"Connection {name!r} removed.")
    if exports:
        what = "removed" if remove_exports else "detached (they keep their settings)"
        typer.echo(f"  exports {what}: {', '.join(exports)}")


@app.command("take-over")
def take_over(ctx: typer.Context, name: str = NAME_ARG) -> None:
    """Become the connection's export user (its exports then run as you)."""
    from segport.service import take_over as take

    with opened(ctx) as (ws, actor):
        v = take(ws, actor, name)
    typer.echo(f"Connection {name!r}: {v.changes[0]}; its exports run as {v.export_user}.")


@app.command("rotate-key")
def rotate_key(ctx: typer.Context) -> None:
    """Re-encrypt every saved API key under a new secrets key (see docs/workspace.md)."""
    from segport.service import rotate_secret_key

    with opened(ctx) as (ws, actor):
        count = rotate_secret_key(ws, actor)
    typer.echo(f"Secrets key rotated; {count} API key(s) re-encrypted.")


@app.command("new-secret-key")
def new_secret_key(ctx: typer.Context) -> None:
    """Make a new secrets key when secret.key was lost with no backup (then give each
    connection its API key again)."""
    from segport.service import new_secret_key as create

    with opened(ctx) as (ws, actor):
        names = create(ws, actor)
    typer.echo("New secrets key written (readable by you only; back it up).")
    if names:
        typer.echo("The API keys saved with the lost key cannot be read; give each connection")
        typer.echo("its key again:")
        for name in names:
            typer.echo(f'  segport connections edit "{name}" --api-key-stdin')

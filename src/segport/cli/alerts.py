"""`segport alerts ...` (add, list, test, remove) and `segport smtp ...` (set, show): the
alerts raised when runs end, and the SMTP server e-mail alerts go through. Parsing and
rendering only: the services decide and send (docs/alerts.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from segport.cli.workspace import USAGE, fail, opened, print_json, print_table, when

if TYPE_CHECKING:
    from segport.service import AlertView, SmtpView

app = typer.Typer(
    help="Alerts: an e-mail or a signed webhook when a run ends failed, skipped, "
    "canceled, or with too many rejected rows. A failing alert is logged and never fails "
    "a run.",
    no_args_is_help=True,
)

smtp_app = typer.Typer(
    help="The SMTP server e-mail alerts go through (the password stays in an environment "
    "variable the workspace names).",
    no_args_is_help=True,
)


@app.command(
    "add",
    help="Add an alert.\n\n"
    "It goes to e-mail addresses (--email, through the server `segport smtp set` sets) "
    "or to a webhook (--webhook: a POST of the run record as JSON, signed with "
    "HMAC-SHA256 when --secret-env names the variable holding the secret). --on says "
    "which run endings raise it: failed, skipped, canceled, successful, "
    "rejected-over:N% or rejected-over:N, comma-separated. Admins only.",
)
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The alert's name."),
    on: str = typer.Option(
        ...,
        "--on",
        metavar="RULE",
        help="The endings that raise it, e.g. failed,skipped,rejected-over:5%.",
    ),
    email: str | None = typer.Option(
        None,
        "--email",
        metavar="ADDRESS",
        help="Mail it to this address (several: comma-separated).",
    ),
    webhook: str | None = typer.Option(
        None, "--webhook", metavar="URL", help="POST it to this http(s) URL."
    ),
    secret_env: str | None = typer.Option(
        None,
        "--secret-env",
        metavar="VAR",
        help="Sign the webhook's requests with the secret in this environment variable "
        "(its name is kept, read when the alert is sent; never the secret).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the alert as JSON."),
) -> None:
    """Add an alert (help: above)."""
    if (email is None) == (webhook is None):
        fail("give --email ADDRESS or --webhook URL (one of the two)", status=USAGE)
    from segport.service import add_alert

    with opened(ctx) as (ws, actor):
        view = add_alert(
            ws, actor, name, on=on, email=email, webhook=webhook, secret_env=secret_env
        )
    if as_json:
        print_json(view)
        return
    typer.echo(f"Alert {view.name!r} added: {_where(view)}, on {view.on}.")
    if view.kind == "email":
        typer.echo("E-mail goes through the SMTP server `segport smtp show` shows.")
    typer.echo(f"`segport alerts test {view.name}` sends one now.")


@app.command("list", help="List the alerts: where each goes and which endings raise it.")
def list_(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the alerts as JSON."),
) -> None:
    """List the alerts (help: above)."""
    from segport.service import list_alerts

    with opened(ctx) as (ws, actor):
        views = list_alerts(ws, actor)
    if as_json:
        print_json(views)
        return
    if not views:
        typer.echo("No alerts. `segport alerts add NAME --email ADDRESS --on failed` adds one.")
        return
    print_table(
        ["name", "on", "to", "signed with", "created"],
        [
            [
                v.name,
                v.on,
                _where(v),
                v.secret_env or "-",
                f"{when(v.created_at)} by {v.created_by}",
            ]
            for v in views
        ],
    )


@app.command(
    "test",
    help="Send the alert now about a made-up failed run (its rule aside), the way a run's "
    "alert is sent, and say what became of it. Exits 1 when it was not delivered. Admins "
    "only.",
)
def test(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The alert's name."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Test an alert (help: above)."""
    from segport.service import test_alert

    with opened(ctx) as (ws, actor):
        view = test_alert(ws, actor, name)
    if as_json:
        print_json(view)
    elif view.delivered:
        detail = f": {view.detail}" if view.detail else ""
        typer.echo(
            f"Alert {view.alert!r} delivered by {view.channel} "
            f"({view.attempts} attempt(s)){detail}."
        )
    if not view.delivered:
        fail(
            f"alert {view.alert!r} was not delivered by {view.channel} after "
            f"{view.attempts} attempt(s): {view.reason or 'unknown'}"
        )


@app.command("remove", help="Remove an alert. Admins only.")
def remove(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The alert's name."),
) -> None:
    """Remove an alert (help: above)."""
    from segport.service import remove_alert

    with opened(ctx) as (ws, actor):
        view = remove_alert(ws, actor, name)
    typer.echo(f"Alert {view.name!r} removed.")


def _where(view: AlertView) -> str:
    if view.kind == "email":
        return "e-mail to " + ", ".join(view.email)
    return f"webhook {view.webhook}"


@smtp_app.command(
    "set",
    help="Set the SMTP server e-mail alerts go through (replacing the one set).\n\n"
    "STARTTLS is on by default: the connection is upgraded and the server's certificate "
    "checked before anything is sent. A login (--user, with the password in the "
    "variable --password-env names) needs STARTTLS unless the server is on this "
    "machine. Admins only.",
)
def smtp_set(
    ctx: typer.Context,
    host: str = typer.Option(..., "--host", metavar="HOST", help="The server's host name."),
    port: int = typer.Option(
        587, "--port", metavar="PORT", help="The server's port (587: submission)."
    ),
    no_starttls: bool = typer.Option(
        False,
        "--no-starttls",
        help="Send without STARTTLS (a relay on this machine, or a network you trust).",
    ),
    user: str | None = typer.Option(None, "--user", metavar="USER", help="Log in as this user."),
    password_env: str | None = typer.Option(
        None,
        "--password-env",
        metavar="VAR",
        help="The environment variable holding the login's password, read when an alert "
        "is sent (its name is kept, never the password).",
    ),
    from_address: str = typer.Option(
        ..., "--from", metavar="ADDRESS", help="The sender's address."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the settings as JSON."),
) -> None:
    """Set the SMTP server (help: above)."""
    from segport.service import set_smtp

    with opened(ctx) as (ws, actor):
        view = set_smtp(
            ws,
            actor,
            host=host,
            port=port,
            starttls=not no_starttls,
            user=user,
            password_env=password_env,
            from_address=from_address,
        )
    if as_json:
        print_json(view)
        return
    typer.echo(f"SMTP server set: {_server(view)}.")


@smtp_app.command("show", help="Show the SMTP server e-mail alerts go through.")
def smtp_show(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the settings as JSON."),
) -> None:
    """Show the SMTP server (help: above)."""
    from segport.service import show_smtp

    with opened(ctx) as (ws, actor):
        view = show_smtp(ws, actor)
    if as_json:
        print_json(view)
        return
    if not view.configured:
        typer.echo(
            "No SMTP server is set: e-mail alerts cannot be sent. `segport smtp set --host "
            "HOST --from ADDRESS` sets one."
        )
        return
    typer.echo(f"SMTP server: {_server(view)}.")
    typer.echo(f"Set by {view.updated_by} at {when(view.updated_at)}.")


def _server(view: SmtpView) -> str:
    tls = "STARTTLS" if view.starttls else "no STARTTLS"
    login = (
        f", login {view.user} (password from ${view.password_env})" if view.user else ", no login"
    )
    return f"{view.host}:{view.port}, {tls}{login}, from {view.from_address}"

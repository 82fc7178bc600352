"""Top-level workspace commands: `segport init` and `segport audit`, and the helpers the
workspace command groups share (opening the workspace, turning service errors into
messages, plain tables)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from segport.cli import lifecycle
from segport.cli.context import get_state
from segport.cli.text import when

__all__ = [
    "ERROR",
    "FIELD_OPTIONS",
    "JSON_OPTION",
    "USAGE",
    "fail",
    "opened",
    "print_json",
    "print_table",
    "report_error",
    "service_errors",
    "when",
    "with_hint",
]

if TYPE_CHECKING:
    from segport.errors import SegportError
    from segport.service import Actor, Workspace


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("audit")(audit)


# Exit statuses: 1 for every error segport reports (whatever its kind), 2 when the
# command line cannot work as given (click's usage errors: an unknown option, a value of
# the wrong type; and a sandbox that cannot start with the options it was given).
ERROR = 1
USAGE = 2


def report_error(message: str) -> None:
    """The one way an error is shown: ``Error: <message>`` on stderr, cleaned of control
    characters, secrets redacted."""
    from segport.cli.text import clean_message
    from segport.secret import redact  # small; no query library

    typer.echo(f"Error: {clean_message(redact(message))}", err=True)


def fail(message: str, status: int = ERROR) -> NoReturn:
    """Report an error (:func:`report_error`), then exit with ``status``."""
    report_error(message)
    raise typer.Exit(status)


# The option (or variable) that sets each field a service error may name: the command
# line's own hint, added to the service's message (which names things, not options).
FIELD_OPTIONS: dict[str, str] = {
    "actor": "--as NAME (or SEGPORT_USER)",
    "role": "--role",
    "expires_in": "--expires-in DAYS",
    "token_name": "--name LABEL",
    "remove_attribute": "--remove-attribute",
    "password": "--password-stdin (or the prompt)",
    "token_id": "the token's ID (segport tokens list)",
    "limit": "--limit N",
    "offset": "--offset N",
    # the server's (segport serve): a run status to filter on, a sign-in's lifetime
    "status": "a run status: not_started, queued, processing, successful, failed, ...",
    "session_lifetime": "SEGPORT_SESSION_HOURS",
    # connections
    "type": "--type",
    "base_url": "--base-url URL",
    "api_key": "--api-key-env VAR or --api-key-stdin",
    "verify": "--no-verify",
    "agree_privacy": "--agree-privacy",
    "rate": "--rate N",
    "detach_exports": "--detach-exports or --remove-exports",
    "connection": "--connection NAME",
    # profiles
    "table": "--table TABLE",
    "id_column": "--id-column COLUMN",
    "url": "the URL argument (postgresql://USER@HOST:PORT/DATABASE)",
    "replace": "--replace",
    "into": "--into STORE",
    "encoding": "--encoding ENCODING",
    "rejects": "--rejects FILE",
    "strict": "--strict",
    "allow_schema_change": "--allow-schema-change",
    # segments
    "rule": "--where RULE, --file FILE or --combine COMBINATION",
    "combine": "--combine COMBINATION",
    "new_name": "the NEW_NAME argument",
    # exports and runs
    "email": "--email COLUMN",
    "first_name": "--first-name COLUMN",
    "last_name": "--last-name COLUMN",
    "phone": "--phone COLUMN",
    "phone_country_column": "--phone-country-column COLUMN",
    "phone_region": "--phone-region REGION",
    "attribute": "--attribute ATTRIBUTE=COLUMN",
    "segment": "--segment NAME",
    "mode": "--mode add|mirror",
    "schedule": "--schedule system|manual",
    "empty_values": "--empty-values clear|keep",
    "name": "the NAME argument",
    "profile_limit": "--limit N",
    "allow_mass_removal": "--allow-mass-removal",
    "list_id": "--list-id LIST_ID",
    "list_name": "--list-name NAME",
    "new_list": "--create-list NAME",
    "folder_id": "--folder ID",
    # the workspace
    "workspace": "--workspace FOLDER (or SEGPORT_WORKSPACE)",
    "database_url": "--database-url URL",
    "secret_key_file": "--secret-key-file FILE (or SEGPORT_SECRET_KEY)",
    "chunk_bytes": "--chunk-bytes BYTES",
    "run_id": "the run's ID (segport runs list)",
    "attribute_type": "--type text|date|float|boolean",
    # schedules
    "times": "--at HH:MM",
    "timezone": "--timezone ZONE",
    "days": "--weekly DAYS",
    "cron": "--cron EXPRESSION",
    "count": "--count N",
    # alerts and the SMTP server
    "alert_name": "the NAME argument (segport alerts list)",
    "alert_target": "--email ADDRESS or --webhook URL",
    "alert_email": "--email ADDRESS",
    "webhook": "--webhook URL",
    "secret_env": "--secret-env VAR",
    "on": "--on RULE",
    "smtp_host": "--host HOST",
    "smtp_port": "--port PORT",
    "smtp_from": "--from ADDRESS",
    "smtp_user": "--user USER",
    "smtp_password_env": "--password-env VAR",
    "smtp_starttls": "--no-starttls left out",
    # fixed by segport (30 s, 3 attempts; 10 s, 5 attempts): not options
    "smtp_timeout": "none: segport's own setting",
    "smtp_attempts": "none: segport's own setting",
    "webhook_timeout": "none: segport's own setting",
    "webhook_attempts": "none: segport's own setting",
}


# The command that does what an error's message asks for, by the error's code.
CODE_HINTS: dict[str, str] = {
    "user_exists": "`segport users set-role {user} ROLE` changes their role",
    "last_admin": "`segport users set-role NAME admin` makes another admin",
    "state_lost": "`segport exports rebuild-state {export}` rebuilds it",
    "state_damaged": "`segport exports rebuild-state {export}` rebuilds it",
    "list_shared": "`--list-id` another list, or `--share-list`",
    "brevo_attribute_missing": "add --create-attributes to let segport create it, or "
    "`segport brevo attributes create CONNECTION {attribute} --type {type}`",
    "brevo_list_not_found": "`segport brevo lists CONNECTION` shows them; --create-list NAME "
    "makes one",
    "brevo_list_ambiguous": "--list-id ID picks one",
    "profiles_not_loaded": "`segport profiles load FILE`, or `segport profiles use URL "
    "--table TABLE --id-column COLUMN`",
    "connection_not_shared": "an admin shares it: `segport connections edit NAME "
    "--share-with-contributors`",
    "workspace_not_found": "`segport init` makes one; or --workspace FOLDER (or "
    "SEGPORT_WORKSPACE) names an existing one",
    "metadata_damaged": "`segport doctor` checks it",
    "segment_exists": "`segport segments update NAME` changes it",
    "saved_rule_unusable": "`segport segments update {segment} --where RULE`",
    "saved_api_key_refused": "`segport connections edit {connection} --api-key-stdin`",
    "schema_change_refused": "`segport segments update NAME --where RULE`, `segport exports "
    "edit NAME`; or --allow-schema-change",
    "secret_key_missing": "`segport connections new-secret-key`, then `segport connections "
    "edit NAME --api-key-stdin` for each connection",
    "api_key_unreadable": "`segport connections edit {connection} --api-key-stdin`",
    "secret_key_exists": "to rotate: `segport connections rotate-key`; to give a key again: "
    "`segport connections edit NAME --api-key-stdin`",
}


class _Names(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "NAME"

    def __getitem__(self, key: str) -> object:
        value = super().get(key)
        if value is None:
            return self.__missing__(key)
        text = str(value)  # quoted for the shell when it holds a space
        return f'"{text}"' if any(c.isspace() for c in text) else text


def with_hint(exc: SegportError) -> str:
    """The error's message, with the option that sets its field when there is one (and
    the command to run, for an error that asks for one)."""
    option = FIELD_OPTIONS.get(exc.field or "")
    message = str(exc)
    command = CODE_HINTS.get(exc.code)
    if command:  # names the error's details give fill it in; NAME stands for the others
        message += f" ({command.format_map(_Names(exc.details))})"
    elif option and option.split()[0] not in message:
        message += f" (option: {option})"
    return message


@contextmanager
def service_errors() -> Iterator[None]:
    """Service errors become one clear line on stderr and exit status 1."""
    from sqlalchemy.exc import DBAPIError

    from segport.errors import SegportError

    try:
        yield
    except SegportError as exc:
        fail(with_hint(exc))
    except DBAPIError as exc:
        # The metadata database failed in the middle of a command (a damaged page, a lost
        # server): what the driver said, without the statement or a traceback.
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else "?"
        fail(
            f"the metadata database failed ({type(exc.orig).__name__}: {reason}); nothing "
            "more was done. Run `segport doctor` to check the workspace"
        )


@contextmanager
def opened(ctx: typer.Context) -> Iterator[tuple[Workspace, Actor]]:
    """The workspace given by --workspace and the acting user given by --as (else the
    workspace's default user), closed afterwards. Naming the user is how the command
    line acts: whoever can read the workspace holds it (docs/workspace.md)."""
    from segport.service import actor_named, open_workspace

    lifecycle.started()  # the command has imported its services by now
    state = get_state(ctx)
    with service_errors():
        ws = open_workspace(state.workspace)
        for notice in ws.notices:
            typer.echo(f"Note: {notice}", err=True)
        try:
            actor = actor_named(ws, state.actor)
            yield ws, actor
        finally:
            ws.close()


JSON_OPTION: bool = typer.Option(
    False, "--json", help="Print it as JSON (the same shape as the service's view)."
)


def print_json(view: object) -> None:
    """A service view as JSON on stdout: the one serializer every face uses."""
    from segport.service import to_json

    typer.echo(json.dumps(to_json(view), indent=2, ensure_ascii=False))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain, aligned table: readable on a terminal, stable in pipes and tests. Cells
    are cleaned of terminal control characters (they hold names and messages)."""
    from segport.cli.text import clean

    rows = [[clean(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    for row in [list(headers), *rows]:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def init(
    ctx: typer.Context,
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        metavar="URL",
        help="Keep the metadata in this PostgreSQL database (postgresql://...) instead of a "
        "SQLite file in the workspace.",
    ),
    admin: str = typer.Option(
        "admin",
        "--admin",
        metavar="NAME",
        help="Name of the first admin; commands act as this user unless --as says otherwise.",
    ),
    join: bool = typer.Option(
        False,
        "--join",
        help="Join the existing workspace in the PostgreSQL database --database-url from this "
        "folder (a worker on another machine) instead of creating one.",
    ),
    secret_key_file: Path | None = typer.Option(
        None,
        "--secret-key-file",
        metavar="FILE",
        help="With --join: a copy of the workspace's secret.key (or set SEGPORT_SECRET_KEY).",
    ),
) -> None:
    """Create a workspace: metadata database, secrets key, first admin and profile store.

    With --join, make this folder a folder of an existing workspace whose metadata is in
    PostgreSQL (for a worker on another machine; docs/worker.md).
    """
    from segport.service import create_workspace

    lifecycle.started()
    state = get_state(ctx)
    if join or secret_key_file is not None:
        _join(state.workspace, database_url, secret_key_file, join)
        return
    with service_errors():
        made = create_workspace(state.workspace, database_url, admin=admin)
    typer.echo(f"Workspace created at {made.path}")
    kind = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[made.metadata_kind]
    typer.echo(f"  metadata: {made.metadata} ({kind})")
    typer.echo(f"  profile store: {made.profile_store}")
    if made.secrets_key_from_environment:
        typer.echo(f"  secrets key: from {made.secrets_key}")
    else:
        typer.echo(
            f"  secrets key: {made.secrets_key} (readable by you only; back it up: "
            "saved API keys cannot be used without it)"
        )
    typer.echo(f"  admin: {made.admin} (commands act as this user unless --as is given)")


def _join(folder: Path, database_url: str | None, key: Path | None, join: bool) -> None:
    from segport.service import join_workspace

    if not join:
        fail("--secret-key-file is for --join only", USAGE)
    if database_url is None:
        fail("--join needs --database-url postgresql://... (the workspace's database)", USAGE)
    with service_errors():
        joined = join_workspace(folder, database_url, key)
    typer.echo(f"Joined the workspace in {joined.metadata} from {joined.path}")
    typer.echo(f"  secrets key: {joined.secrets_key} (opens {joined.connections} saved API keys)")
    typer.echo(f"  profiles: {joined.profiles}")
    typer.echo("  export states: shared through the database, cached in state/")
    if joined.warning:
        typer.echo(f"Warning: {joined.warning}", err=True)


def audit(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", metavar="N", help="How many entries, newest first."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show the audit log: who changed what, when (admins)."""
    from segport.service import list_entries

    with opened(ctx) as (ws, actor):
        entries = list_entries(ws, actor, limit)
    if as_json:
        print_json(entries)
        return
    rows = [
        [
            when(e.at),
            e.actor,
            e.action,
            e.target,
            json.dumps(e.details, ensure_ascii=False, sort_keys=True) if e.details else "",
        ]
        for e in entries
    ]
    if not rows:
        typer.echo("The audit log is empty.")
        return
    print_table(["when", "who", "action", "target", "details"], rows)

"""Top-level workspace commands: `segport init` and `segport audit`, and the helpers the
workspace command groups share (opening the workspace, turning service errors into
messages, plain tables)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

import typer

from segport.cli import lifecycle
from segport.cli.context import get_state

if TYPE_CHECKING:
    from segport.errors import SegportError
    from segport.service.access import Actor
    from segport.service.workspace import Workspace


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("audit")(audit)


def fail(message: str) -> NoReturn:
    from segport.cli.text import clean_message
    from segport.secret import redact  # small; no query library

    typer.echo(f"Error: {clean_message(redact(message))}", err=True)
    raise typer.Exit(1)


# The option (or variable) that sets each field a service error may name: the command
# line's own hint, added to the service's message (which names things, not options).
FIELD_OPTIONS: dict[str, str] = {
    "actor": "--as NAME (or SEGPORT_USER)",
    "role": "--role",
    "chunk_bytes": "--chunk-bytes BYTES",
}


def with_hint(exc: SegportError) -> str:
    """The error's message, with the option that sets its field when there is one."""
    option = FIELD_OPTIONS.get(exc.field or "")
    message = str(exc)
    if option and option.split()[0] not in message:
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
    from segport.service.access import actor_named
    from segport.service.workspace import open_workspace

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


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


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
        help="Keep the metadata in this PostgreSQL database (postgresql://...) instead of a "
        "SQLite file in the workspace.",
    ),
    admin: str = typer.Option(
        "admin",
        "--admin",
        help="Name of the first admin; commands act as this user unless --as says otherwise.",
    ),
) -> None:
    """Create a workspace: metadata database, secrets key, first admin and profile store."""
    from segport.service.secrets import SECRET_KEY_ENV, key_file, key_from_environment
    from segport.service.workspace import init_workspace

    lifecycle.started()
    state = get_state(ctx)
    with service_errors():
        ws = init_workspace(state.workspace, database_url, admin=admin)
    typer.echo(f"Workspace created at {ws.path}")
    kind = "SQLite" if ws.engine.dialect.name == "sqlite" else "PostgreSQL"
    typer.echo(f"  metadata: {ws.metadata_display} ({kind})")
    typer.echo(f"  profile store: {ws.profile_store_path}")
    if key_from_environment():
        typer.echo(f"  secrets key: from {SECRET_KEY_ENV}")
    else:
        typer.echo(
            f"  secrets key: {key_file(ws.path)} (readable by you only; back it up: "
            "saved API keys cannot be used without it)"
        )
    typer.echo(f"  admin: {admin.strip()} (commands act as this user unless --as is given)")
    ws.close()


def audit(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", help="How many entries, newest first."),
) -> None:
    """Show the audit log: who changed what, when (admins)."""
    from segport.service.audit import list_entries

    with opened(ctx) as (ws, actor):
        entries = list_entries(ws, actor, limit)
    rows = [
        [
            e.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
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

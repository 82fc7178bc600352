"""`segport worker` (fire the schedules and execute requested runs until stopped) and
`segport workers` (the live workers). Parsing and rendering only: the services decide
(:mod:`segport.service.worker`, :mod:`segport.service.workers`); docs/worker.md."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer

from segport.cli.text import clean
from segport.cli.workspace import fail, opened, print_table, when


def register(app: typer.Typer) -> None:
    """Add `worker` and `workers` to the top-level app."""
    app.command("worker")(worker)
    app.command("workers")(workers)


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--now {value!r} is not an ISO 8601 time; give e.g. 2026-12-07T08:31:00+00:00")
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def worker(
    ctx: typer.Context,
    once: bool = typer.Option(
        False,
        "--once",
        help="Do what is due now (a due refresh, every queued run), then exit: for cron and tests.",
    ),
    poll: float = typer.Option(
        5.0,
        "--poll",
        min=0.1,
        max=3600,
        metavar="SECONDS",
        help="How often to look for due schedules and requested runs when idle.",
    ),
    chunk_bytes: int = typer.Option(
        8_000_000,
        "--chunk-bytes",
        metavar="BYTES",
        help="Largest import request body in bytes (Brevo refuses over 10 MB).",
    ),
    now: str | None = typer.Option(None, "--now", hidden=True, help="Tests: the time to fire at."),
) -> None:
    """Fire the system refresh when due and execute requested runs, one at a time.

    On a SQLite workspace one worker runs at a time (a second is refused, naming the
    first). On PostgreSQL metadata any number of workers, on any number of machines,
    share the runs through procrastinate's job queue (docs/worker.md).

    SIGTERM or Ctrl-C: the run going on stops after its current chunk, is handed back
    (queued again, to resume) and the worker exits 0; a second signal stops at once.
    """
    from segport.service import RunOptions, Worker

    fixed = _parse_now(now)

    def log(line: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(f"{stamp} {clean(line)}", err=True)

    with opened(ctx) as (ws, actor):
        loop = Worker(
            ws,
            actor,
            poll=poll,
            now=(lambda: fixed) if fixed is not None else None,
            log=log,
            options=RunOptions(max_bytes=chunk_bytes),
        )
        loop.run(once=once)


def workers(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the workers as JSON."),
) -> None:
    """List the live workers: host, pid, started, last heartbeat, current run."""
    from segport.service import list_workers

    with opened(ctx) as (ws, actor):
        views = list_workers(ws, actor)
    if as_json:
        typer.echo(json.dumps([v.to_dict() for v in views], indent=2, sort_keys=True))
        return
    if not views:
        typer.echo("No worker is running: start one with `segport worker` (docs/worker.md).")
        return
    print_table(
        ["host", "pid", "started", "heartbeat", "current run"],
        [
            [
                v.host,
                str(v.pid),
                when(v.started_at),
                when(v.heartbeat_at),
                "-" if v.current_run_id is None else str(v.current_run_id),
            ]
            for v in views
        ],
    )

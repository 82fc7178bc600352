"""`segport runs ...`: runs by their id, across exports, the files each run left, and the
run lifecycle's commands (cancel, recover, retry). Parsing and rendering only: the services
decide."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from segport.cli.export_run import render_summary, run_record
from segport.cli.run_requests import retry
from segport.cli.text import clean, clean_repr
from segport.cli.workspace import opened, print_table, when

if TYPE_CHECKING:
    from segport.service import RunView

app = typer.Typer(
    help="Show, cancel, retry and recover runs by their id, and the files they left.",
    no_args_is_help=True,
)


@app.command("show")
def show(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., metavar="ID", help="Run id (`segport runs list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run and its files as JSON."),
) -> None:
    """Show a run: its record, its summary and the files it left."""
    from segport.service import show_run

    with opened(ctx) as (ws, actor):
        detail = show_run(ws, actor, run_id)
    v = detail.run
    if as_json:
        data = run_record(v)
        data["files"] = [
            {"name": f.name, "path": str(f.path), "rows": f.rows, "description": f.description}
            for f in detail.files
        ]
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    if v.summary is not None:
        render_summary(v.summary)
    else:
        typer.echo(_title(v))
        if v.message:
            typer.echo(f"  {clean(v.message)}")
    by = f"{clean(v.actor) or '-'} ({clean(v.trigger)})"
    typer.echo(f"  by {by}, created {when(v.created_at)}, finished {when(v.finished_at)}")
    if v.reason:
        typer.echo(f"  reason: {clean(v.reason)}")
    if v.status == "processing":
        beat = when(v.heartbeat_at)
        typer.echo(f"  claimed by {clean(v.claimed_by) or '-'}, last heartbeat {beat}")
        if v.cancel_requested_at is not None:
            who = clean(v.cancel_requested_by) or "-"
            typer.echo(f"  cancel requested by {who} at {when(v.cancel_requested_at)}")
    typer.echo("")
    if not detail.files:
        typer.echo("No files: the run left none, or they were deleted.")
        return
    typer.echo("Files:")
    for f in detail.files:
        rows = f" ({f.rows:,} rows)" if f.rows is not None else ""
        typer.echo(f"  {clean(f.path)}{rows}: {f.description}")


@app.command("list")
def list_(
    ctx: typer.Context,
    export: str | None = typer.Option(
        None, "--export", help="Only the runs of this export.", metavar="NAME"
    ),
    limit: int = typer.Option(
        20, "--limit", min=1, max=10_000, help="How many of the latest.", metavar="N"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the runs as JSON."),
) -> None:
    """List the latest runs of every export (or of one), newest first."""
    from segport.service import list_all_runs

    with opened(ctx) as (ws, actor):
        views = list_all_runs(ws, actor, export, limit=limit)
    if as_json:
        data = [run_record(v) for v in views]
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    if not views:
        typer.echo("No runs yet: `segport exports run NAME` runs an export.")
        return
    print_table(
        ["id", "export", "run", "status", "started", "sent", "removed", "not sent", "note"],
        [
            [
                str(v.id),
                v.export_name,
                str(v.number),
                v.status,
                when(v.started_at or v.created_at),
                _num(v.sent),
                _num(v.removed),
                _num(v.summary.not_sent_total if v.summary else None),
                (v.message or "")[:60],
            ]
            for v in views
        ],
    )


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., metavar="ID", help="Run id (`segport runs list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run as JSON."),
) -> None:
    """Cancel a run: a queued one at once; a processing one stops at its next safe point
    (between chunks), recording what Brevo accepted. Running the export again resumes."""
    from segport.service import cancel_run

    with opened(ctx) as (ws, actor):
        v = cancel_run(ws, actor, run_id)
    if as_json:
        typer.echo(json.dumps(run_record(v), indent=2, sort_keys=True))
    elif v.status == "processing":
        typer.echo(f"{_title(v)}: asked to stop; it stops at its next safe point.")
    else:
        typer.echo(f"{_title(v)}: {clean(v.status)}.")


@app.command("recover")
def recover(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the recovered runs as JSON."),
) -> None:
    """End, as failed (worker_lost), the processing runs whose process died: no heartbeat
    within the timeout and, on this host, no such process. The next run resumes them."""
    from segport.service import recover_runs

    with opened(ctx) as (ws, actor):
        views = recover_runs(ws, actor)
    if as_json:
        typer.echo(json.dumps([run_record(v) for v in views], indent=2, sort_keys=True))
        return
    if not views:
        typer.echo("No lost runs: every processing run has a live process.")
    for v in views:
        typer.echo(f"{_title(v)}: failed (worker_lost). {clean(v.message)}")


app.command("retry")(retry)


def _title(v: RunView) -> str:
    return f"Run {v.number} of export {clean_repr(v.export_name)} (id {v.id})"


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"

"""`segport runs ...`: runs by their id, across exports, and the files each run left."""

from __future__ import annotations

import json

import typer

from segport.cli.export_run import render_summary, run_record
from segport.cli.text import clean, clean_repr
from segport.cli.workspace import opened, print_table, when

app = typer.Typer(
    help="Show runs by their id and the files they left (rejected rows, changes).",
    no_args_is_help=True,
)


@app.command("show")
def show(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., metavar="ID", help="Run id (`segport runs list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run and its files as JSON."),
) -> None:
    """Show a run: its record, its summary and the files it left."""
    from segport.service.run_records import show_run

    with opened(ctx) as (ws, actor):
        detail = show_run(ws, actor, run_id)
    v = detail.run
    if as_json:
        data = run_record(v)
        data["export"] = v.export_name
        data["files"] = [
            {"name": f.name, "path": str(f.path), "rows": f.rows, "description": f.description}
            for f in detail.files
        ]
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    if v.summary is not None:
        render_summary(v.summary)
    else:
        typer.echo(f"Run {v.id} of export {clean_repr(v.export_name)}: {clean(v.status)}")
        if v.message:
            typer.echo(f"  {clean(v.message)}")
    by = f"{clean(v.actor) or '-'} ({clean(v.trigger)})"
    typer.echo(f"  by {by}, created {when(v.created_at)}, finished {when(v.finished_at)}")
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
    export: str | None = typer.Option(None, "--export", help="Only the runs of this export."),
    limit: int = typer.Option(20, "--limit", min=1, max=10_000, help="How many of the latest."),
    as_json: bool = typer.Option(False, "--json", help="Print the runs as JSON."),
) -> None:
    """List the latest runs of every export (or of one), newest first."""
    from segport.service.run_records import list_all_runs

    with opened(ctx) as (ws, actor):
        views = list_all_runs(ws, actor, export, limit=limit)
    if as_json:
        data = [{**run_record(v), "export": v.export_name} for v in views]
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    if not views:
        typer.echo("No runs yet: `segport exports run NAME` runs an export.")
        return
    print_table(
        ["run", "export", "status", "started", "sent", "removed", "not sent", "note"],
        [
            [
                str(v.id),
                v.export_name,
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


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"

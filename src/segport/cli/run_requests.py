"""`segport exports run --all` and `exports run NAME --queue`: request runs for a worker,
execute them here when no worker runs (--all), wait for them (--wait); and
`segport runs retry ID`. Parsing and rendering only: the services decide.

Exit status once the runs ended (``--wait``, or executed here): 0 when every run was
successful, else 1 if one failed, 130 if one was canceled, 3 if one was skipped (the
codes of `exports run NAME`). Requested without waiting: 0 once requested.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

import typer

from segport.cli.export_run import EXIT_CODES, run_record
from segport.cli.text import clean, clean_repr
from segport.cli.workspace import opened

if TYPE_CHECKING:
    from segport.service import Actor, RunView, Workspace

# Which status decides the exit code when several runs ended differently.
_WORST_FIRST = ("failed", "canceled", "skipped")


def exit_code(statuses: Sequence[str]) -> int:
    """0 when every run was successful; else the code of the worst status."""
    for status in _WORST_FIRST:
        if status in statuses:
            return EXIT_CODES[status]
    return 0 if all(s == "successful" for s in statuses) else 1


def request_and_maybe_wait(
    ctx: typer.Context,
    name: str | None,
    *,
    wait: bool,
    as_json: bool,
    full: bool,
    allow_mass_removal: bool,
    chunk_bytes: int,
) -> NoReturn:
    """``name`` None: Run all (and execute here when no worker runs); else request a run of
    ``name`` for a worker (--queue)."""
    from segport.service import list_workers, request_all_runs, request_run

    with opened(ctx) as (ws, actor):
        if name is None:
            requested = request_all_runs(ws, actor)
            for r in requested:
                if r.busy is not None:
                    typer.echo(f"Export {clean_repr(r.export_name)}: {clean(r.busy)}", err=True)
            ids = [r.run_id for r in requested if r.run_id is not None]
            if not requested:
                typer.echo(
                    "No export has its schedule on (every one is manual): nothing to run. "
                    "`segport exports run NAME` runs one.",
                    err=True,
                )
                raise typer.Exit(0)
        else:
            ids = [
                request_run(ws, actor, name, full=full, allow_mass_removal=allow_mass_removal).id
            ]
        live = list_workers(ws, actor)
        if name is None and not live:
            typer.echo(
                f"No worker is running: executing the {len(ids)} runs here, one after the other.",
                err=True,
            )
            views = _execute_here(ws, actor, ids, chunk_bytes)
        elif wait:
            who = ", ".join(f"{w.host} pid {w.pid}" for w in live)
            typer.echo(
                f"Waiting for the worker ({who}) to execute {_runs(len(ids))}."
                if live
                else f"Waiting for {_runs(len(ids))}: no worker is running; start one with "
                "`segport worker`.",
                err=True,
            )
            views = _wait(ws, actor, ids)
        else:
            views = [_view(ws, actor, i) for i in ids]
            who = f"worker {live[0].host} pid {live[0].pid}" if live else "`segport worker`"
            _show(views, as_json, single=name is not None)
            if not as_json:
                typer.echo(f"Requested {_runs(len(ids))}; {who} executes them.", err=True)
            raise typer.Exit(0)
    _show(views, as_json, single=name is not None)
    raise typer.Exit(exit_code([v.status for v in views]))


def _runs(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def _view(ws: Workspace, actor: Actor, run_id: int) -> RunView:
    from segport.service import show_run

    return show_run(ws, actor, run_id).run


def _execute_here(ws: Workspace, actor: Actor, ids: list[int], chunk_bytes: int) -> list[RunView]:
    """Execute the requested runs in this process, one after the other (a run another
    process claimed first is left to it), then wait for every one to end."""
    from segport.service import RunOptions, execute_requested, signals_cancel

    for run_id in ids:
        try:
            with signals_cancel():
                execute_requested(ws, actor, run_id, options=RunOptions(max_bytes=chunk_bytes))
        except KeyboardInterrupt:
            typer.echo("Canceled: run the same command again to resume.", err=True)
            raise typer.Exit(EXIT_CODES["canceled"]) from None
        except Exception as exc:  # recorded on the run (failed); go on with the next
            typer.echo(f"Run id {run_id}: {clean(str(exc))}", err=True)
    return _wait(ws, actor, ids)


def _wait(ws: Workspace, actor: Actor, ids: list[int]) -> list[RunView]:
    from segport.service import wait_for_runs

    try:
        return wait_for_runs(ws, actor, ids, poll=0.5)
    except KeyboardInterrupt:
        typer.echo("Stopped waiting; the runs go on (`segport runs list`).", err=True)
        raise typer.Exit(EXIT_CODES["canceled"]) from None


def _show(views: list[RunView], as_json: bool, *, single: bool) -> None:
    if as_json:
        data = (
            run_record(views[0]) if single and len(views) == 1 else [run_record(v) for v in views]
        )
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for v in views:
        typer.echo(f"{clean(v.title)}: {clean(v.status)}")
        if v.message:
            typer.echo(f"  {clean(v.message)}")


def retry(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., metavar="ID", help="Run id (`segport runs list`)."),
    wait: bool = typer.Option(
        False, "--wait", help="Wait for the new run to end; exit with its status."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the new run as JSON."),
) -> None:
    """Request a new run of a run's export (any ended run, a successful one too: run it
    again), for a worker to execute; refused while the export has a run queued or
    processing. The retry of a full run is full too."""
    from segport.service import list_workers, retry_run

    with opened(ctx) as (ws, actor):
        view = retry_run(ws, actor, run_id)
        live = list_workers(ws, actor)
        if wait:
            if not live:
                typer.echo(
                    "Waiting: no worker is running; start one with `segport worker`.", err=True
                )
            view = _wait(ws, actor, [view.id])[0]
    _show([view], as_json, single=True)
    if not wait:
        if not as_json and not live:
            typer.echo("No worker is running: start one with `segport worker`.", err=True)
        raise typer.Exit(0)
    raise typer.Exit(exit_code([view.status]))

"""`segport schedule ...`: the system refresh's schedule (set, show, off). Parsing and
rendering only: the services decide, :mod:`segport.scheduler` computes the times."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer

from segport.cli.workspace import USAGE, fail, opened, print_json, print_table, when

if TYPE_CHECKING:
    from segport.service import SystemScheduleView

app = typer.Typer(
    help="When the system refresh runs: every day or on some weekdays, at up to four times "
    "of day, in a time zone (off until set). A refresh re-evaluates the active segments, "
    "then runs every export on the system schedule.",
    no_args_is_help=True,
)


@app.command(
    "set",
    help="Set the system refresh's schedule and turn it on.\n\n"
    "Every day (--daily) or on some weekdays (--weekly mon,thu), at one to four times of "
    "day (--at, once per time) read in --timezone. A time that does not exist on a "
    "daylight-saving day fires at the first instant after the gap; one that happens "
    "twice fires once (docs/schedules.md). Admins only.",
)
def set_(
    ctx: typer.Context,
    daily: bool = typer.Option(False, "--daily", help="Every day."),
    weekly: str | None = typer.Option(
        None,
        "--weekly",
        metavar="DAYS",
        help="Only on these weekdays, comma-separated: mon,tue,wed,thu,fri,sat,sun.",
    ),
    at: list[str] = typer.Option(
        ...,
        "--at",
        metavar="HH:MM",
        help="A time of day on the 24-hour clock; give --at up to four times.",
    ),
    timezone: str = typer.Option(
        ...,
        "--timezone",
        metavar="ZONE",
        help="The IANA time zone the times are read in, e.g. Europe/Amsterdam or UTC.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the schedule as JSON."),
) -> None:
    """Set the system refresh's schedule (help: above)."""
    if daily == (weekly is not None):
        both = "not both" if daily else "e.g. --weekly mon,thu"
        fail(f"give --daily or --weekly DAYS ({both})", status=USAGE)
    from segport.service import set_system_schedule

    with opened(ctx) as (ws, actor):
        view = set_system_schedule(ws, actor, times=at, timezone=timezone, days=weekly)
    if as_json:
        print_json(view)
        return
    typer.echo(f"The system refresh is on: {view.description}.")
    _firings(view)


@app.command(
    "show",
    help="Show the system refresh's schedule and its next firings, on the schedule's "
    "clock and in UTC.",
)
def show(
    ctx: typer.Context,
    count: int = typer.Option(
        5, "--count", min=1, max=100, metavar="N", help="How many next firings."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the schedule as JSON."),
) -> None:
    """Show the system schedule (help: above)."""
    from segport.service import show_system_schedule

    with opened(ctx) as (ws, actor):
        view = show_system_schedule(ws, actor, count=count)
    if as_json:
        print_json(view)
        return
    if not view.configured:
        typer.echo(
            "The system refresh is off: it was never set. `segport schedule set --daily "
            "--at HH:MM --timezone ZONE` sets it."
        )
        return
    state = "on:" if view.enabled else "off; it was"
    typer.echo(f"The system refresh is {state} {view.description}.")
    typer.echo(f"Set by {view.updated_by} at {when(view.updated_at)}.")
    if view.last_fired_at is not None:
        typer.echo(f"Last fired for {when(view.last_fired_at)}.")
    if view.enabled:
        _firings(view)
    else:
        typer.echo("`segport schedule set` turns it on again.")


@app.command("off", help="Turn the system refresh off (its days and times are kept). Admins only.")
def off(ctx: typer.Context) -> None:
    """Turn the system refresh off (help: above)."""
    from segport.service import turn_off_system_schedule

    with opened(ctx) as (ws, actor):
        view = turn_off_system_schedule(ws, actor)
    typer.echo(f"The system refresh is off; it was {view.description}.")


def _firings(view: SystemScheduleView) -> None:
    typer.echo("Next firings:")
    print_table(
        ["local", "UTC"],
        [
            [
                f"{f.local:%a %Y-%m-%d %H:%M} {f.local.tzname()} ({_offset(f.local)})",
                f.utc.strftime("%Y-%m-%d %H:%M"),
            ]
            for f in view.next_firings
        ],
    )


def _offset(value: datetime) -> str:
    """``+05:30``: the offset as ISO 8601 writes it (``%:z`` needs Python 3.12)."""
    return value.isoformat(timespec="minutes")[-6:] if value.utcoffset() else "+00:00"

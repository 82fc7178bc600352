"""`segport exports schedule NAME`: when an export runs by itself (its own cron schedule,
the system refresh, or only on demand), and how the CLI writes a next firing. Parsing and
rendering only: the services decide, :mod:`segport.scheduler` computes the times."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from segport.cli.workspace import JSON_OPTION, USAGE, fail, opened, print_json

if TYPE_CHECKING:
    from segport.service import NextFiring

CRON_HELP = (
    "Run on this cron schedule of its own: minute hour day-of-month month day-of-week, "
    "e.g. '0 6 * * 1-5' (06:00 on weekdays); give --timezone with it."
)
TIMEZONE_HELP = "The IANA time zone --cron is read in, e.g. Europe/Paris or UTC (required)."


def register(app: typer.Typer) -> None:
    app.command(
        "schedule",
        help="Set when an export runs by itself: on a cron schedule of its own (--cron "
        "EXPRESSION --timezone ZONE), with the system refresh (--system, the default for "
        "new exports), or only on demand (--off). Times that do not exist on a "
        "daylight-saving day fire at the first instant after the gap; times that happen "
        "twice fire once (docs/schedules.md). Whoever may edit the export may.",
    )(schedule)


def schedule(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The export's name."),
    cron: str | None = typer.Option(None, "--cron", metavar="EXPRESSION", help=CRON_HELP),
    timezone: str | None = typer.Option(None, "--timezone", metavar="ZONE", help=TIMEZONE_HELP),
    system: bool = typer.Option(False, "--system", help="Run with the system refresh."),
    off: bool = typer.Option(False, "--off", help="Manual: run only on demand."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set an export's schedule (help: above)."""
    choices = (("--cron", cron is not None), ("--system", system), ("--off", off))
    given = [option for option, chosen in choices if chosen]
    if len(given) != 1:
        but = f" (not {' and '.join(given)})" if given else ""
        fail(
            "give one of --cron EXPRESSION --timezone ZONE (its own schedule), --system "
            f"(with the system refresh) or --off (only on demand){but}",
            USAGE,
        )
    if timezone is not None and cron is None:
        fail("--timezone is the zone --cron's expression is read in: give --cron too", USAGE)
    if cron is not None and timezone is None:
        fail(
            "--cron needs --timezone ZONE, the IANA time zone its times are read in "
            "(e.g. Europe/Paris or UTC)",
            USAGE,
        )
    from segport.service import schedule_export

    kind = "cron" if cron is not None else "system" if system else "manual"
    with opened(ctx) as (ws, actor):
        view = schedule_export(ws, actor, name, kind, cron=cron, timezone=timezone)
    if as_json:
        print_json(view)
        return
    firing = view.next_firing
    assert firing is not None  # (the service's views carry it)
    if firing.kind == "cron":
        typer.echo(f"Export {name!r} runs on its own schedule: {firing.description}.")
    elif firing.kind == "system":
        typer.echo(f"Export {name!r} runs {firing.description}.")
    else:
        typer.echo(f"Export {name!r} is manual: it runs only on demand (`segport exports run`).")
    if firing.at is not None:
        typer.echo(f"Next firing: {firing_text(firing)}.")
    elif firing.kind == "system":
        typer.echo("It runs only on demand until `segport schedule set` turns the refresh on.")


def firing_text(firing: NextFiring) -> str:
    """The next firing on the schedule's clock and in UTC, or why there is none."""
    if firing.at is None or firing.local is None:
        if firing.kind == "manual":
            return "manual"
        if firing.kind == "system":
            return "system refresh is off"
        return firing.description  # (a cron schedule that cannot fire says why)
    local = f"{firing.local:%a %Y-%m-%d %H:%M} {firing.local.tzname()}"
    if firing.local.utcoffset() == firing.at.utcoffset() and firing.local.tzname() == "UTC":
        return local
    return f"{local} ({firing.at:%Y-%m-%d %H:%M} UTC)"

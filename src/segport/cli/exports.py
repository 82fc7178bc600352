"""`segport exports ...` commands: export configurations (running them: cli/export_run.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from segport.cli.export_schedule import CRON_HELP, TIMEZONE_HELP, firing_text
from segport.cli.export_text import (
    LIST_HEADERS,
    describe,
    empty_values,
    last_fired,
    mapping_lines,
    region_label,
    schedule,
    shared,
)
from segport.cli.text import clean
from segport.cli.workspace import (
    JSON_OPTION,
    USAGE,
    fail,
    opened,
    print_json,
    print_table,
    when,
)

if TYPE_CHECKING:
    from segport.service import Clear

app = typer.Typer(help="Manage exports of segments into Brevo lists.", no_args_is_help=True)

CONNECTION_HELP = "Connection to send through (`segport connections list` shows yours)."
SEGMENT_HELP = "Segment to export; repeat for several (their members are combined)."
ATTRIBUTE_HELP = "More data matching: Brevo attribute = profile column, e.g. CITY=city; repeat."
MODE_HELP = "add: only add and update contacts; mirror: also remove those who left the segments."
REGION_HELP = "Region for phone numbers written without a country code, e.g. FR (default GB)."
COUNTRY_HELP = (
    "Profile column with each row's ISO 3166 country code (e.g. FR): national numbers are "
    "read in it; --phone-region serves rows whose country is blank."
)
LIMIT_HELP = "Most profiles one run may send; a bigger segment skips the run."
SCHEDULE_HELP = (
    "system: runs with every refresh (default); manual: runs only on demand; --cron gives "
    "it a schedule of its own (`segport exports schedule` changes it alone)."
)
EMPTY_VALUES_HELP = (
    "clear: a value emptied in the profiles is emptied in Brevo by the next run; "
    "keep: Brevo keeps its value."
)
FOLDER_HELP = "Brevo folder of the list --create-list makes (default: the account's first)."
CREATE_ATTRIBUTES_HELP = (
    "Create mapped attributes the Brevo account lacks, typed from their columns "
    "(number: float, date: date, boolean: boolean, else text)."
)
SHARE_LIST_HELP = (
    "Share the Brevo list with another export of the workspace knowingly (a mirror export "
    "then removes only contacts it added and no other export holds)."
)


def _no_connection_help(ws: Any, actor: Any) -> str:
    from segport.service import usable_connections

    usable = usable_connections(ws, actor)
    if not usable:
        return (
            "--connection is required, and no connection is available to you: ask an admin to "
            "add one or share one with contributors"
        )
    names = ", ".join(f"{c.name} ({c.type})" for c in usable)
    return f"--connection is required; connections you can use: {names}"


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Export name.", metavar="NAME"),
    connection: str | None = typer.Option(
        None, "--connection", help=CONNECTION_HELP, metavar="NAME"
    ),
    list_id: int | None = typer.Option(
        None, "--list-id", help="ID of an existing Brevo list.", metavar="LIST_ID"
    ),
    list_name: str | None = typer.Option(
        None, "--list-name", help="Name of an existing Brevo list.", metavar="NAME"
    ),
    create_list: str | None = typer.Option(
        None, "--create-list", help="Create a Brevo list of this name for it.", metavar="NAME"
    ),
    folder: int | None = typer.Option(None, "--folder", help=FOLDER_HELP, metavar="ID"),
    segments: list[str] = typer.Option(..., "--segment", help=SEGMENT_HELP, metavar="SEGMENT"),
    email: str = typer.Option(
        ..., "--email", help="Profile column holding the email address.", metavar="COLUMN"
    ),
    first_name: str | None = typer.Option(
        None, "--first-name", help="Column: first name.", metavar="COLUMN"
    ),
    last_name: str | None = typer.Option(
        None, "--last-name", help="Column: last name.", metavar="COLUMN"
    ),
    phone: str | None = typer.Option(
        None, "--phone", help="Column: phone number (SMS).", metavar="COLUMN"
    ),
    attributes: list[str] = typer.Option(
        [], "--attribute", metavar="ATTR=COL", help=ATTRIBUTE_HELP
    ),
    mode: str = typer.Option("add", "--mode", help=MODE_HELP, metavar="add|mirror"),
    phone_region: str | None = typer.Option(
        None, "--phone-region", help=REGION_HELP, metavar="REGION"
    ),
    phone_country_column: str | None = typer.Option(
        None, "--phone-country-column", metavar="COL", help=COUNTRY_HELP
    ),
    limit: int = typer.Option(1_000_000, "--limit", help=LIMIT_HELP, metavar="N"),
    schedule: str | None = typer.Option(
        None, "--schedule", help=SCHEDULE_HELP, metavar="system|manual"
    ),
    cron: str | None = typer.Option(None, "--cron", metavar="EXPRESSION", help=CRON_HELP),
    timezone: str | None = typer.Option(None, "--timezone", metavar="ZONE", help=TIMEZONE_HELP),
    empty_values: str = typer.Option(
        "clear", "--empty-values", help=EMPTY_VALUES_HELP, metavar="clear|keep"
    ),
    share_list: bool = typer.Option(False, "--share-list", help=SHARE_LIST_HELP),
    create_attributes: bool = typer.Option(
        False, "--create-attributes", help=CREATE_ATTRIBUTES_HELP
    ),
) -> None:
    """Add an export; everything is checked (Brevo list and attributes included). It is not run.

    Give its Brevo list by --list-id, by --list-name, or make one with --create-list."""
    from segport.service import ExportConfig, ExportMapping, NewList, add_export, parse_attributes

    given = [
        o
        for o, v in (
            ("--list-id", list_id),
            ("--list-name", list_name),
            ("--create-list", create_list),
        )
        if v is not None
    ]
    if len(given) != 1:
        fail(
            "give the Brevo list with one of --list-id LIST_ID, --list-name NAME or "
            f"--create-list NAME{' (not ' + ' and '.join(given) + ')' if given else ''}; "
            "`segport brevo lists CONNECTION` shows the account's lists",
            USAGE,
        )
    if folder is not None and create_list is None:
        fail("--folder is the folder of the list --create-list makes; give --create-list", USAGE)
    with opened(ctx) as (ws, actor):
        if connection is None:
            fail(_no_connection_help(ws, actor))
        mapping = ExportMapping(
            email=email,
            first_name=first_name,
            last_name=last_name,
            phone=phone,
            attributes=parse_attributes(attributes),
        )
        config = ExportConfig(
            name=name,
            connection=connection,
            list_id=list_id or 0,
            segments=tuple(segments),
            mapping=mapping,
            mode=mode,
            phone_region=phone_region,
            phone_country_column=phone_country_column,
            profile_limit=limit,
            schedule=schedule or ("cron" if cron is not None else "system"),
            cron=cron,
            timezone=timezone,
            empty_values=empty_values,
            share_list=share_list,
        )
        view = add_export(
            ws,
            actor,
            config,
            list_name=list_name,
            new_list=NewList(create_list, folder) if create_list is not None else None,
            create_attributes=create_attributes,
        )
    typer.echo(f"Export {view.config.name!r} saved (not run): {describe(view)}")
    typer.echo(f"Run it with `segport exports run {view.config.name}`.")


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List exports: connection, segments, schedule and next firing, last run, your rights."""
    from segport.service import list_exports

    with opened(ctx) as (ws, actor):
        views = list_exports(ws, actor)
    if as_json:
        print_json(views)
        return
    if not views:
        typer.echo("No exports yet: add one with `segport exports add`.")
        return
    print_table(
        LIST_HEADERS,
        [
            [
                v.config.name,
                v.connection_label,
                ", ".join(v.config.segments),
                schedule(v),
                firing_text(v.next_firing) if v.next_firing else "-",
                v.last_status or "not_started",
                when(v.last_run_at),
                ", ".join(v.permissions),
            ]
            for v in views
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The export's name."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an export's settings."""
    from segport.service import show_export

    with opened(ctx) as (ws, actor):
        v = show_export(ws, actor, name)
    if as_json:
        print_json(v)
        return
    c = v.config
    connection = v.connection_label
    if c.connection is None:
        connection += " (detached: it does not run until given one with `exports edit`)"
    rows = [
        ("name", c.name),
        ("connection", connection),
        ("list", str(c.list_id)),
        ("segments", ", ".join(c.segments)),
        ("mode", c.mode),
        ("phone region", region_label(v)),
        ("phone country", c.phone_country_column or "-"),
        ("profile limit", f"{c.profile_limit:,}"),
        ("schedule", v.next_firing.description if v.next_firing else c.schedule),
        ("next firing", firing_text(v.next_firing) if v.next_firing else "-"),
        ("empty values", empty_values(c.empty_values)),
        ("shared list", shared(v)),
        *last_fired(v),
        ("last status", v.last_status or "not_started"),
        ("last run", when(v.last_run_at)),
        ("you may", ", ".join(v.permissions)),
        ("created", f"{when(v.created_at)} by {v.created_by}"),
        ("updated", when(v.updated_at)),
    ]
    for label, value in rows:
        typer.echo(f"{label + ':':15}{clean(value)}")
    typer.echo("data matching:")
    for line in mapping_lines(v):  # profile column names come from the loaded files
        typer.echo(f"  {clean(line)}")
    if v.next_run_note:
        typer.echo(f"next run:      {clean(v.next_run_note)}")


def _clearable(value: str | None) -> str | Clear | None:
    """Options an edit may clear by giving an empty value."""
    from segport.service import CLEAR

    return None if value is None else value.strip() or CLEAR


@app.command("edit")
def edit(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME"),
    rename: str | None = typer.Option(
        None, "--rename", help="New export name.", metavar="NEW_NAME"
    ),
    connection: str | None = typer.Option(
        None, "--connection", help=CONNECTION_HELP, metavar="NAME"
    ),
    list_id: int | None = typer.Option(
        None, "--list-id", help="Another Brevo list ID.", metavar="LIST_ID"
    ),
    list_name: str | None = typer.Option(
        None, "--list-name", help="Another Brevo list, by its name.", metavar="NAME"
    ),
    segments: list[str] = typer.Option(
        [], "--segment", help="Replace the segments; repeat.", metavar="SEGMENT"
    ),
    email: str | None = typer.Option(None, "--email", help="Column: email.", metavar="COLUMN"),
    first_name: str | None = typer.Option(
        None, "--first-name", help="Column; '' clears it.", metavar="COLUMN"
    ),
    last_name: str | None = typer.Option(
        None, "--last-name", help="Column; '' clears it.", metavar="COLUMN"
    ),
    phone: str | None = typer.Option(
        None, "--phone", help="Column; '' clears it.", metavar="COLUMN"
    ),
    attributes: list[str] = typer.Option(
        [], "--attribute", metavar="ATTR=COL", help="Set one attribute mapping; repeat."
    ),
    remove_attributes: list[str] = typer.Option(
        [], "--remove-attribute", metavar="ATTR", help="Drop one attribute mapping; repeat."
    ),
    mode: str | None = typer.Option(None, "--mode", help=MODE_HELP, metavar="add|mirror"),
    phone_region: str | None = typer.Option(
        None, "--phone-region", help=f"{REGION_HELP} '' clears it (back to GB).", metavar="REGION"
    ),
    phone_country_column: str | None = typer.Option(
        None, "--phone-country-column", metavar="COL", help=COUNTRY_HELP + " '' clears it."
    ),
    limit: int | None = typer.Option(None, "--limit", help=LIMIT_HELP, metavar="N"),
    schedule: str | None = typer.Option(
        None, "--schedule", help=SCHEDULE_HELP, metavar="system|manual"
    ),
    cron: str | None = typer.Option(None, "--cron", metavar="EXPRESSION", help=CRON_HELP),
    timezone: str | None = typer.Option(
        None, "--timezone", metavar="ZONE", help="The IANA time zone --cron is read in."
    ),
    empty_values: str | None = typer.Option(
        None, "--empty-values", help=EMPTY_VALUES_HELP, metavar="clear|keep"
    ),
    share_list: bool | None = typer.Option(
        None, "--share-list/--no-share-list", help=SHARE_LIST_HELP
    ),
) -> None:
    """Change an export's settings; the result is checked like a new export."""
    from segport.service import ExportEdit, edit_export, parse_attributes

    with opened(ctx) as (ws, actor):
        changes = ExportEdit(
            name=rename,
            connection=connection,
            list_id=list_id,
            segments=tuple(segments) or None,
            email=email,
            first_name=_clearable(first_name),
            last_name=_clearable(last_name),
            phone=_clearable(phone),
            add_attributes=parse_attributes(attributes),
            remove_attributes=tuple(remove_attributes),
            mode=mode,
            phone_region=_clearable(phone_region),
            phone_country_column=_clearable(phone_country_column),
            profile_limit=limit,
            schedule=schedule,
            cron=cron,
            timezone=timezone,
            empty_values=empty_values,
            share_list=share_list,
        )
        view = edit_export(ws, actor, name, changes=changes, list_name=list_name)
    typer.echo(f"Export {name!r} updated: {describe(view)}")
    if view.next_run_note:
        typer.echo(f"Next run: {view.next_run_note}.")


@app.command("duplicate")
def duplicate(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Export to copy.", metavar="NAME"),
    new_name: str = typer.Argument(..., help="Name of the copy.", metavar="NEW_NAME"),
    list_id: int | None = typer.Option(
        None, "--list-id", help="Put the copy on another list.", metavar="LIST_ID"
    ),
    list_name: str | None = typer.Option(
        None, "--list-name", help="Put the copy on another list, by its name.", metavar="NAME"
    ),
    share_list: bool = typer.Option(False, "--share-list", help=SHARE_LIST_HELP),
) -> None:
    """Copy an export's settings under a new name (onto another list with --list-id or
    --list-name)."""
    from segport.service import duplicate_export

    with opened(ctx) as (ws, actor):
        view = duplicate_export(
            ws, actor, name, new_name, list_id=list_id, list_name=list_name, share_list=share_list
        )
    typer.echo(f"Export {view.config.name!r} created from {name!r}: {describe(view)}")


@app.command("detach")
def detach(ctx: typer.Context, name: str = typer.Argument(..., metavar="NAME")) -> None:
    """Remove an export's connection; it keeps its settings and does not run until given one."""
    from segport.service import detach_export

    with opened(ctx) as (ws, actor):
        detach_export(ws, actor, name)
    typer.echo(
        f"Export {name!r} detached: settings kept; it will not run until you give it a "
        f"connection (`segport exports edit {name} --connection NAME`)."
    )


@app.command("remove")
def remove(ctx: typer.Context, name: str = typer.Argument(..., metavar="NAME")) -> None:
    """Remove an export (contacts already in Brevo stay there)."""
    from segport.service import remove_export

    with opened(ctx) as (ws, actor):
        remove_export(ws, actor, name)
    typer.echo(f"Export {name!r} removed; contacts it sent stay in Brevo.")

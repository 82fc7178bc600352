"""`segport brevo ...`: the lists, folders and attributes of a connection's Brevo account,
seen and created without leaving segport. Parsing and rendering only."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from segport.cli.workspace import JSON_OPTION, opened, print_json, print_table

CONNECTION_HELP = "Connection whose Brevo account to use (`segport connections list`)."
FOLDER_HELP = "Folder ID (`segport brevo folders CONNECTION`)."


class _ShowByDefault(TyperGroup):
    """`lists CONNECTION` shows; `lists create CONNECTION NAME` creates (the same for
    attributes): a first word that is not a subcommand is the connection to show."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    help="See and create lists, folders and attributes in a connection's Brevo account.",
    no_args_is_help=True,
)
lists = typer.Typer(
    cls=_ShowByDefault,
    help="The account's lists: `segport brevo lists CONNECTION`; "
    "`segport brevo lists create CONNECTION NAME`.",
    no_args_is_help=True,
)
attributes = typer.Typer(
    cls=_ShowByDefault,
    help="The account's contact attributes: `segport brevo attributes CONNECTION`; "
    "`segport brevo attributes create CONNECTION NAME --type text|date|float|boolean`.",
    no_args_is_help=True,
)
app.add_typer(lists, name="lists")
app.add_typer(attributes, name="attributes")


@lists.command("show")
def show_lists(
    ctx: typer.Context,
    connection: str = typer.Argument(..., metavar="CONNECTION", help=CONNECTION_HELP),
    folder: int | None = typer.Option(None, "--folder", metavar="FOLDER_ID", help=FOLDER_HELP),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the account's lists: id, name, folder, contacts."""
    from segport.service import list_brevo_lists

    with opened(ctx) as (ws, actor):
        views = list_brevo_lists(ws, actor, connection, folder_id=folder)
    if as_json:
        print_json(views)
        return
    if not views:
        typer.echo("No lists: `segport brevo lists create CONNECTION NAME` makes one.")
        return
    print_table(
        ["id", "name", "folder", "contacts"],
        [
            [
                str(v.id),
                v.name,
                str(v.folder_id or "-"),
                "-" if v.contacts is None else f"{v.contacts:,}",
            ]
            for v in views
        ],
    )


@lists.command("create")
def create_list(
    ctx: typer.Context,
    connection: str = typer.Argument(..., metavar="CONNECTION", help=CONNECTION_HELP),
    name: str = typer.Argument(..., metavar="NAME", help="Name of the new list."),
    folder: int | None = typer.Option(
        None, "--folder", metavar="FOLDER_ID", help=FOLDER_HELP + " Default: the first."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a list in the account (give its ID to `exports add --list-id`)."""
    from segport.service import create_brevo_list

    with opened(ctx) as (ws, actor):
        view = create_brevo_list(ws, actor, connection, name, folder_id=folder)
    if as_json:
        print_json(view)
        return
    typer.echo(f"Created list {view.id} {view.name!r} in folder {view.folder_id}.")


@app.command("folders")
def folders(
    ctx: typer.Context,
    connection: str = typer.Argument(..., metavar="CONNECTION", help=CONNECTION_HELP),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the account's contact folders."""
    from segport.service import list_brevo_folders

    with opened(ctx) as (ws, actor):
        views = list_brevo_folders(ws, actor, connection)
    if as_json:
        print_json(views)
        return
    print_table(["id", "name"], [[str(v.id), v.name] for v in views])


@attributes.command("show")
def show_attributes(
    ctx: typer.Context,
    connection: str = typer.Argument(..., metavar="CONNECTION", help=CONNECTION_HELP),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the account's contact attributes: name, category, type."""
    from segport.service import list_brevo_attributes

    with opened(ctx) as (ws, actor):
        views = list_brevo_attributes(ws, actor, connection)
    if as_json:
        print_json(views)
        return
    print_table(["name", "category", "type"], [[v.name, v.category, v.type or "-"] for v in views])


@attributes.command("create")
def create_attribute(
    ctx: typer.Context,
    connection: str = typer.Argument(..., metavar="CONNECTION", help=CONNECTION_HELP),
    name: str = typer.Argument(..., metavar="NAME", help="Attribute name (upper case in Brevo)."),
    type_: str = typer.Option(
        ..., "--type", metavar="text|date|float|boolean", help="The attribute's type."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a normal contact attribute in the account."""
    from segport.service import create_brevo_attribute

    with opened(ctx) as (ws, actor):
        view = create_brevo_attribute(ws, actor, connection, name, type_)
    if as_json:
        print_json(view)
        return
    typer.echo(f"Created attribute {view.name} ({view.type}).")


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"

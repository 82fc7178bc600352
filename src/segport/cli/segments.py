"""`segport segments ...` commands.

Thin face: parse options, call one service in segport.service.segment_definitions, print.
"""

from __future__ import annotations

from pathlib import Path

import typer

from segport.cli.context import HELP_SETTINGS
from segport.cli.profiles import cells, opened, print_rows
from segport.cli.text import clean, when
from segport.cli.workspace import JSON_OPTION, print_json

app = typer.Typer(
    help="Define segments of profiles and look at their members.",
    no_args_is_help=True,
    context_settings=HELP_SETTINGS,
)

NAME_ARG = typer.Argument(..., metavar="NAME", help="Segment name.")

WHERE_HELP = (
    "Rule, e.g. \"country = 'GB' and lifetime_value > 100 and last_purchase >= today() - "
    'interval 30 days" (see docs/segments.md).'
)


@app.command("create")
def create(
    ctx: typer.Context,
    name: str = NAME_ARG,
    where: str | None = typer.Option(None, "--where", metavar="RULE", help=WHERE_HELP),
    rule_file: Path | None = typer.Option(
        None, "--file", metavar="FILE", help="Rule document (.yaml/.json)."
    ),
    combine: str | None = typer.Option(
        None,
        "--combine",
        metavar="COMBINATION",
        help='Combination, e.g. "high_value except churned".',
    ),
    description: str | None = typer.Option(
        None, "--description", metavar="DESCRIPTION", help="What it is for."
    ),
) -> None:
    """Create a segment from a rule, a rule document, or a combination of segments."""
    from segport.service import create_segment

    with opened(ctx) as (ws, actor):
        info = create_segment(
            ws,
            actor,
            name,
            where=where,
            rule_file=rule_file,
            combine=combine,
            description=description,
        )
    typer.echo(f"Created segment {info.name}: {clean(info.expression)}")


@app.command("update")
def update(
    ctx: typer.Context,
    name: str = NAME_ARG,
    where: str | None = typer.Option(None, "--where", metavar="RULE", help=WHERE_HELP),
    rule_file: Path | None = typer.Option(
        None, "--file", metavar="FILE", help="Rule document (.yaml/.json)."
    ),
    combine: str | None = typer.Option(
        None, "--combine", metavar="COMBINATION", help="Combination of segments."
    ),
    description: str | None = typer.Option(
        None, "--description", metavar="DESCRIPTION", help="New description."
    ),
) -> None:
    """Change a segment's rule, combination or description."""
    from segport.service import update_segment

    with opened(ctx) as (ws, actor):
        info = update_segment(
            ws,
            actor,
            name,
            where=where,
            rule_file=rule_file,
            combine=combine,
            description=description,
        )
    typer.echo(f"Updated segment {info.name}: {clean(info.expression)}")


@app.command("list")
def list_(
    ctx: typer.Context,
    refresh: bool = typer.Option(False, "--refresh", help="Count the members of each now."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Segments with state, members and when they were last evaluated."""
    from rich.console import Console
    from rich.table import Table

    from segport.service import list_segments

    with opened(ctx) as (ws, actor):
        segments = list_segments(ws, actor, refresh)
    if as_json:
        print_json(segments)
        return
    if not segments:
        typer.echo("No segments yet: create one with `segport segments create NAME --where ...`")
        return
    grid = Table("name", "state", "members", "last evaluated", "definition")
    for s in segments:
        members = f"{s.member_count:,}" if s.member_count is not None else "-"
        evaluated = when(s.evaluated_at, "never")
        grid.add_row(*cells(s.name, s.state, members, evaluated, s.expression))
    Console().print(grid)


@app.command("show")
def show(ctx: typer.Context, name: str = NAME_ARG, as_json: bool = JSON_OPTION) -> None:
    """A segment's definition, state, last count and what uses it."""
    import json

    from segport.service import show_segment

    with opened(ctx) as (ws, actor):
        s = show_segment(ws, actor, name)
    if as_json:
        print_json(s)
        return
    lines = [
        ("name", s.name),
        ("state", s.state),
        ("description", s.description or "-"),
        ("kind", s.kind),
        ("where" if s.kind == "rule" else "combine", s.expression),
        ("members", f"{s.member_count:,}" if s.member_count is not None else "not counted yet"),
        ("last evaluated", when(s.evaluated_at, "never")),
        ("created by", s.created_by or "-"),
        ("created at", when(s.created_at)),
        ("used by combinations", ", ".join(s.used_by) or "-"),
        ("used by exports", ", ".join(s.exports) or "-"),
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        typer.echo(f"{key:<{width}}  {clean(value)}")
    if s.kind == "rule":
        typer.echo("document:")
        typer.echo(json.dumps(s.definition, indent=2))


@app.command("preview")
def preview(
    ctx: typer.Context,
    name: str = NAME_ARG,
    limit: int = typer.Option(10, "--limit", metavar="N", help="How many members to show."),
    columns: str | None = typer.Option(
        None,
        "--columns",
        metavar="COLUMN,...",
        help="Comma-separated attributes to show (default: all).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """The first members of a segment, by id."""
    from segport.service import preview_segment

    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    with opened(ctx) as (ws, actor):
        rows = preview_segment(ws, actor, name, limit, cols)
    if as_json:
        print_json(rows)
        return
    print_rows(rows)


@app.command("count")
def count(ctx: typer.Context, name: str = NAME_ARG, as_json: bool = JSON_OPTION) -> None:
    """Count a segment's members now."""
    from segport.service import count_segment

    with opened(ctx) as (ws, actor):
        n = count_segment(ws, actor, name)
    if as_json:
        print_json({"segment": name, "members": n})
        return
    typer.echo(f"{n}")


@app.command("activate")
def activate(ctx: typer.Context, name: str = NAME_ARG) -> None:
    """Mark a segment active."""
    from segport.service import set_state

    with opened(ctx) as (ws, actor):
        set_state(ws, actor, name, True)
    typer.echo(f"Segment {name} is active")


@app.command("deactivate")
def deactivate(ctx: typer.Context, name: str = NAME_ARG) -> None:
    """Mark a segment inactive."""
    from segport.service import set_state

    with opened(ctx) as (ws, actor):
        set_state(ws, actor, name, False)
    typer.echo(f"Segment {name} is inactive")


@app.command("rename")
def rename(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="Current name."),
    new_name: str = typer.Argument(..., metavar="NEW_NAME", help="New name."),
) -> None:
    """Rename a segment (combinations using it follow)."""
    from segport.service import rename_segment

    with opened(ctx) as (ws, actor):
        rename_segment(ws, actor, name, new_name)
    typer.echo(f"Renamed segment {name} to {new_name}")


@app.command("delete")
def delete(ctx: typer.Context, name: str = NAME_ARG) -> None:
    """Delete a segment that no export or combination uses."""
    from segport.service import delete_segment

    with opened(ctx) as (ws, actor):
        delete_segment(ws, actor, name)
    typer.echo(f"Deleted segment {name}")

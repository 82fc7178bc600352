"""`segport exports ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Manage exports.", no_args_is_help=True)

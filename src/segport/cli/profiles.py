"""`segport profiles ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Manage profiles.", no_args_is_help=True)

"""`segport segments ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Manage segments.", no_args_is_help=True)

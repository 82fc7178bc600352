"""`segport exports run NAME`: run one export now."""

from __future__ import annotations

import typer


def register(exports_app: typer.Typer) -> None:
    """Add the run commands to the `exports` group."""

"""`segport sandbox`: serve the Brevo-compatible sandbox API on loopback."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("sandbox")(sandbox)


def sandbox() -> None:
    """Serve a Brevo-compatible API under http://HOST:PORT/v3 (Ctrl-C stops it)."""
    raise typer.Exit(1)

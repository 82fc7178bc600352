"""How ``--help`` names what a command takes: the way a user expects (``NAME``,
``--limit N``), not Typer's own ``{NAME}``, ``NAME <str>`` or ``<int>``.

Typer (0.29) writes a required argument ``{NAME}`` in the usage line and appends the
Python type (``<str>``) to every argument and to options without a metavar. Every
parameter of segport's commands gives a metavar, which says more than the type; so an
argument with a metavar shows just that, and the usage line shows ``NAME`` (required) or
``[NAME]`` (optional), as click and most tools do. Installed once, by :mod:`segport.cli`.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument

_installed = False


def install() -> None:
    """Patch Typer's argument rendering (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    typed = TyperArgument.display_type_rich

    def display_type_rich(self: TyperArgument, ctx: Any) -> str | None:
        if self.metavar is not None:
            return None  # the metavar says what it is
        return typed(self, ctx)

    def usage_name(self: TyperArgument) -> str:
        name = self.display_name_raw
        if not self.required:
            name = f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    TyperArgument.display_type_rich = display_type_rich  # type: ignore[method-assign,assignment]
    TyperArgument._usage_display_name = usage_name  # type: ignore[method-assign]

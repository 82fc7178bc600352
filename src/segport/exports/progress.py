"""Progress events a run emits, for faces to render (a bar on a terminal, lines otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Stages, in the order a run goes through them.
STAGES = ("count", "read", "prepare", "plan", "send", "process", "remove", "report")


@dataclass(frozen=True, slots=True)
class Progress:
    """``done`` of ``total`` units (None: unknown) in ``stage``; ``note`` is a short text."""

    stage: str
    done: int
    total: int | None = None
    unit: str = "rows"
    note: str | None = None


ProgressCallback = Callable[[Progress], None]


def no_progress(_event: Progress) -> None:
    """The default callback: ignore progress."""

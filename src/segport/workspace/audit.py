"""The audit log: who changed what, when. Never holds a secret. (Stub until the workspace issue.)"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from segport.workspace.access import Actor


def record(
    session: Session, actor: Actor, action: str, target: str, details: dict[str, Any] | None = None
) -> None:
    """Write one audit entry in the caller's transaction."""
    return None

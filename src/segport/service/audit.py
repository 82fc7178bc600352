"""The audit log: who changed what, when. Never holds a secret.

Services call :func:`record` inside the transaction that makes the change, so a change and
its entry commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport.service.access import Action, Actor, authorize
from segport.service.models import AuditEntry
from segport.service.workspace import Workspace, WorkspaceError, redact_url

# Detail keys that could carry a secret are dropped whatever a caller passes: the log is
# readable by every admin and is copied into backups.
_SECRET_WORDS = ("key", "secret", "password", "token", "credential")


@dataclass(frozen=True)
class AuditView:
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


def _clean(details: dict[str, Any] | None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in (details or {}).items():
        if any(word in key.lower() for word in _SECRET_WORDS):
            continue
        if isinstance(value, dict):
            value = _clean(value)
        elif isinstance(value, str) and "://" in value:
            value = redact_url(value)  # a database URL's password, wherever a caller put it
        elif not isinstance(value, str | int | float | bool | list | type(None)):
            value = str(value)
        clean[key] = value
    return clean


def record(
    session: Session, actor: Actor, action: str, target: str, details: dict[str, Any] | None = None
) -> None:
    """Write one audit entry in the caller's transaction."""
    session.add(AuditEntry(actor=actor.name, action=action, target=target, details=_clean(details)))


def list_entries(ws: Workspace, actor: Actor, limit: int = 50) -> list[AuditView]:
    """The newest ``limit`` entries, newest first (admins only)."""
    if not 1 <= limit <= 2**63 - 1:  # a 64-bit integer in SQL
        raise WorkspaceError(
            f"the limit must be 1 or more, and below 2**63 (got {limit})",
            code="limit_invalid",
            field="limit",
        )
    authorize(ws, actor, Action.AUDIT_READ)
    with ws.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).all()
        return [AuditView(r.at, r.actor, r.action, r.target, dict(r.details)) for r in rows]

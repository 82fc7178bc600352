"""What uses what: questions the services ask before removing something. (Stub.)"""

from __future__ import annotations

from sqlalchemy.orm import Session


def exports_using_segment(session: Session, segment_name: str) -> list[str]:
    """Names of the exports that send ``segment_name`` (a segment in use cannot be deleted)."""
    return []

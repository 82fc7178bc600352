"""What uses what: questions the services ask before removing something."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport.service.models import Export, ExportSegment


def exports_using_segment(session: Session, segment_name: str) -> list[str]:
    """Names of the exports that send ``segment_name`` (a segment in use cannot be deleted)."""
    rows = session.scalars(
        select(Export.name)
        .join(ExportSegment, ExportSegment.export_id == Export.id)
        .where(ExportSegment.segment_name == segment_name)
        .order_by(Export.name)
    ).all()
    return list(rows)


def exports_using_connection(session: Session, connection_id: int) -> list[str]:
    """Names of the exports set to run on the connection."""
    rows = session.scalars(
        select(Export.name).where(Export.connection_id == connection_id).order_by(Export.name)
    ).all()
    return list(rows)

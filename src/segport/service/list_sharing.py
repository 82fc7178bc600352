"""Exports that send to one Brevo list: a list is one export's unless shared knowingly.

Two connections verified against one Brevo account reach the same lists, so peers are
found by account, not by connection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport.exports.config import ExportConfig
from segport.service.export_checks import ExportInvalid
from segport.service.models import Connection, Export
from segport.service.workspace import Workspace

__all__ = ["busy_peers", "list_peers", "refuse_shared_list", "same_account", "target_of"]


def same_account(a: Connection, b: Connection) -> bool:
    """One Brevo account: the same connection, or two whose verified account is one."""
    if a.id == b.id:
        return True
    return (
        a.base_url.rstrip("/") == b.base_url.rstrip("/")
        and bool(a.account_email)
        and (a.account_email or "").lower() == (b.account_email or "").lower()
    )


def list_peers(
    session: Session, conn: Connection | None, list_id: int, own: int | None
) -> list[Export]:
    """The other exports sending to list ``list_id`` of ``conn``'s account."""
    if conn is None:
        return []
    candidates = session.scalars(
        select(Export).where(Export.list_id == list_id).order_by(Export.name)
    ).all()
    return [
        e
        for e in candidates
        if e.id != own and e.connection is not None and same_account(e.connection, conn)
    ]


def refuse_shared_list(
    session: Session, d: ExportConfig, conn: Connection | None, own: int | None
) -> None:
    """Refuse ``d``'s list when another export of the account sends to it, unless ``d``
    shares it knowingly (``own``: the export being edited, not a peer of itself)."""
    if d.share_list:
        return
    peers = list_peers(session, conn, d.list_id, own)
    if peers:
        names = ", ".join(repr(e.name) for e in peers)
        raise ExportInvalid(
            f"list {d.list_id} of this Brevo account is already the list of export {names}; "
            "a mirror export on a shared list would remove the other's contacts. Pick "
            "another list, or share the list knowingly (a mirror export then removes only "
            "contacts it added and no other export holds)",
            code="list_shared",
            field="list_id",
        )


def target_of(e: Export) -> dict[str, Any]:
    """The Brevo list ``e`` sends to, as the export's state records its target."""
    from segport.exports.target import target_identity

    conn = e.connection
    return target_identity(
        conn.id if conn else None,
        conn.base_url if conn else "",
        conn.account_email if conn else None,
        e.list_id,
    )


def busy_peers(ws: Workspace, session: Session, peers: list[Export]) -> tuple[str, ...]:
    """With states shared through the database, the peers with a run processing: their
    state files here are copies, which no run's lock guards (service.state_copies)."""
    from segport.service.run_model import Run
    from segport.service.state_copies import shared_states

    if not peers or not shared_states(ws):
        return ()
    busy = set(
        session.scalars(
            select(Run.export_id).where(
                Run.export_id.in_([e.id for e in peers]), Run.status == "processing"
            )
        )
    )
    return tuple(e.name for e in peers if e.id in busy)

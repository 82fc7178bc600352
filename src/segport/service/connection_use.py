"""Using a connection: who may put exports on it, whether its export user can still act,
and the decrypted credentials a run needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport.errors import NotFound
from segport.secret import Secret
from segport.service import secrets
from segport.service.access import Action, Actor, PermissionDenied, Role, require
from segport.service.models import Connection
from segport.service.workspace import Workspace, WorkspaceError

if TYPE_CHECKING:
    from segport.brevo import BrevoClient


class ConnectionNotFound(NotFound, WorkspaceError):
    default_code = "connection_not_found"


@dataclass(frozen=True)
class ConnectionCredentials:
    """What a run needs to talk to Brevo. ``api_key`` never shows itself in str/repr."""

    name: str
    base_url: str
    api_key: Secret
    requests_per_second: float = 10.0
    export_user: str = ""

    def client(self, *, max_retries: int = 5, timeout: float | None = None) -> BrevoClient:
        """A Brevo client of this connection: its key, base URL and pace. A check made
        while a user waits passes fewer retries and a timeout; a run keeps the defaults."""
        from segport.brevo import BrevoClient

        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        return BrevoClient(
            self.api_key,
            self.base_url,
            max_retries=max_retries,
            requests_per_second=self.requests_per_second,
            **extra,
        )


def export_user_problem(conn: Connection) -> str | None:
    """Why runs on ``conn`` cannot act as its export user, or None when they can."""
    user = conn.export_user
    if user is None:
        return f"its export user {conn.export_user_name} was removed from the workspace"
    if user.role != Role.ADMIN.value:
        return f"its export user {user.name} is no longer an admin (now {user.role})"
    return None


def credentials(ws: Workspace, conn: Connection) -> ConnectionCredentials:
    return ConnectionCredentials(
        name=conn.name,
        base_url=conn.base_url,
        api_key=secrets.decrypt(ws.path, conn.api_key_token, conn.name),
        requests_per_second=conn.requests_per_second,
        export_user=conn.export_user.name if conn.export_user else conn.export_user_name,
    )


def may_use(actor: Actor, conn: Connection | None) -> bool:
    """Whether ``actor`` may manage and run exports on ``conn`` (None: detached)."""
    if not actor.may(Action.EXPORTS_WRITE):
        return False
    return actor.role is Role.ADMIN or conn is None or conn.shared_with_contributors


def connection_for_export(session: Session, actor: Actor, name: str) -> Connection:
    """The connection ``name`` if ``actor`` may put exports on it; else a clear refusal."""
    require(actor, Action.EXPORTS_WRITE)
    conn = session.scalars(select(Connection).where(Connection.name == name)).one_or_none()
    if conn is not None and may_use(actor, conn):
        return conn
    query = select(Connection.name).order_by(Connection.name)
    if actor.role is not Role.ADMIN:
        query = query.where(Connection.shared_with_contributors.is_(True))
    usable = session.scalars(query).all()
    listing = ", ".join(usable) if usable else "none"
    if conn is not None:
        raise PermissionDenied(
            f"connection {name!r} is not shared with contributors, so {actor.name} "
            f"({actor.role.value}) cannot use it; connections you can use: {listing}. "
            "Ask an admin to share it with contributors",
            code="connection_not_shared",
            field="connection",
        )
    raise ConnectionNotFound(
        f"no connection {name!r} is available to you; connections you can use: {listing}"
        + ("" if usable else " (ask an admin to add one or share one with contributors)"),
        field="connection",
    )

"""Web sessions: signing in to `segport serve` with a password, the session a browser
then holds, and signing out.

The server's cookie carries a random session id (signed by the server, docs/server.md);
the workspace keeps only the id's SHA-256, whose user it is, when it expires, whether it
was revoked, and the CSRF token bound to it. A session is worth what the user is worth
now: a user removed since loses their sessions with the row (ON DELETE CASCADE), and a
role changed since applies at once (the actor is read from the user's row on every use).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, select

from segport.errors import Forbidden, Invalid
from segport.service import audit
from segport.service.access import Actor, Role
from segport.service.models import utcnow
from segport.service.passwords import verify_password
from segport.service.web_session_model import WebSession

if TYPE_CHECKING:
    from segport.secret import Secret
    from segport.service.workspace import Workspace

__all__ = [
    "NewWebSession",
    "SessionInvalid",
    "WebSessionView",
    "end_web_session",
    "sign_in",
    "web_session",
]

# A session expired or revoked this long ago is deleted at the next sign-in.
_KEEP_ENDED = timedelta(days=7)
# last_seen_at is written at most this often, not on every request.
_SEEN_EVERY = timedelta(minutes=1)


class SessionInvalid(Forbidden):
    """A session id that is unknown, expired or revoked: sign in again. One message for
    every reason."""

    default_code = "session_invalid"


@dataclass(frozen=True)
class WebSessionView:
    """A live session: who it signs in, its CSRF token, when it ends."""

    actor: Actor
    csrf_token: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class NewWebSession:
    """A session just made: ``session_id`` goes into the cookie and is never kept."""

    session_id: str
    view: WebSessionView


def _digest(session_id: str) -> str:
    # SHA-256, not a password hash: the id is 256 random bits.
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _view(row: WebSession) -> WebSessionView:
    user = row.user
    actor = Actor(id=user.id, name=user.name, role=Role(user.role))
    return WebSessionView(actor, row.csrf_token, row.created_at, row.expires_at)


def sign_in(ws: Workspace, name: str, password: Secret, *, lifetime: timedelta) -> NewWebSession:
    """A new session for ``name`` if ``password`` is theirs (argon2id, see
    :func:`verify_password`: one answer for an unknown user and a wrong password), valid
    for ``lifetime``. Sessions that ended a while ago are deleted on the way."""
    if lifetime <= timedelta(0):
        raise Invalid("a session's lifetime must be positive", field="session_lifetime")
    actor = verify_password(ws, name, password)
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    with ws.session() as session:
        session.execute(
            delete(WebSession).where(
                or_(
                    WebSession.expires_at < now - _KEEP_ENDED,
                    WebSession.revoked_at < now - _KEEP_ENDED,
                )
            )
        )
        row = WebSession(
            session_hash=_digest(session_id),
            user_id=actor.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
        session.add(row)
        session.flush()
        audit.record(session, actor, "sessions.sign_in", actor.name, {"session": row.id})
        return NewWebSession(session_id, _view(row))


def web_session(ws: Workspace, session_id: str, *, now: datetime | None = None) -> WebSessionView:
    """The live session ``session_id`` (its user as they are now); else
    :class:`SessionInvalid`."""
    now = now or utcnow()
    with ws.session() as session:
        row = session.scalars(
            select(WebSession).where(WebSession.session_hash == _digest(session_id))
        ).one_or_none()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise SessionInvalid("the session is unknown, expired or ended: sign in again")
        if now - row.last_seen_at >= _SEEN_EVERY:
            row.last_seen_at = now
        return _view(row)


def end_web_session(ws: Workspace, session_id: str, csrf_token: str | None = None) -> None:
    """Revoke the session ``session_id`` (sign-out); with ``csrf_token``, only if it is the
    session's own. Ending a session that already ended does nothing."""
    now = utcnow()
    with ws.session() as session:
        row = session.scalars(
            select(WebSession).where(WebSession.session_hash == _digest(session_id))
        ).one_or_none()
        if row is None or row.revoked_at is not None:
            return
        if csrf_token is not None and not hmac.compare_digest(row.csrf_token, csrf_token):
            raise SessionInvalid("the CSRF token is not this session's", code="csrf_invalid")
        row.revoked_at = now
        user = row.user
        actor = Actor(id=user.id, name=user.name, role=Role(user.role))
        audit.record(session, actor, "sessions.sign_out", actor.name, {"session": row.id})

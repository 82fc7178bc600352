"""API tokens: what a script or the server's clients authenticate with.

A token is ``sgp_`` and 32 random bytes (URL-safe base64), shown once when it is made.
The workspace keeps only its SHA-256 and a short prefix that identifies it in lists. A
user manages their own tokens, admins anyone's; every change is audited, never the token.
The command line does not authenticate with tokens (whoever can read the workspace holds
it); :func:`authenticate_token` is for the faces that do (the REST API, the web app).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport.errors import Invalid, NotFound
from segport.secret import Secret, reveal
from segport.service import audit
from segport.service.access import Action, Actor, Role, current
from segport.service.models import ApiToken, User, utcnow
from segport.service.passwords import BadCredentials, own_or_admin
from segport.service.workspace import Workspace

TOKEN_PREFIX = "sgp_"
# What lists show of a token: "sgp_" and 6 characters (36 of its 256 random bits). Kept
# under the 12 characters from which segport.secret.redact masks the start of a secret,
# so a prefix printed in a message stays readable.
_SHOWN = len(TOKEN_PREFIX) + 6
_MAX_NAME = 100


class TokenNotFound(NotFound):
    default_code = "token_not_found"


@dataclass(frozen=True)
class TokenView:
    """A token as lists show it: never the token, never its hash."""

    id: int
    user: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    # "active", "expired" or "revoked", as of when the view was made.
    status: str


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``token`` is the only time its value is known."""

    token: Secret
    view: TokenView


def _digest(token: str) -> str:
    # A plain SHA-256, not a password hash: the token is 256 random bits, so there is
    # nothing to guess and no dictionary to slow down; a slow hash would only make every
    # API request slow. (Passwords, chosen by people, get argon2: service.passwords.)
    return hashlib.sha256(token.encode()).hexdigest()


def _status(row: ApiToken, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"


def _view(row: ApiToken, now: datetime) -> TokenView:
    return TokenView(
        id=row.id,
        user=row.user.name,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        status=_status(row, now),
    )


def create_token(
    ws: Workspace,
    actor: Actor,
    user: str | None = None,
    *,
    name: str = "",
    expires_at: datetime | None = None,
) -> NewToken:
    """A new token for ``user`` (default: the actor); a user makes their own, admins
    anyone's. ``expires_at`` (aware) must be in the future; None: it does not expire."""
    name = name.strip()
    if len(name) > _MAX_NAME:
        raise Invalid(
            f"the token's name is too long: use at most {_MAX_NAME} characters",
            code="token_name_too_long",
            field="token_name",
        )
    now = utcnow()
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise Invalid(
            "a token's expiry must be a time zone-aware moment in the future "
            f"(got {expires_at.isoformat()})",
            code="token_expiry_invalid",
            field="expires_in",
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with ws.session() as session:
        fresh, owner = own_or_admin(session, actor, user if user is not None else actor.name)
        row = ApiToken(
            user_id=owner.id,
            name=name,
            prefix=token[:_SHOWN],
            token_hash=_digest(token),
            created_at=now,
            expires_at=expires_at,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            fresh,
            "tokens.create",
            owner.name,
            {
                "id": row.id,
                "name": name,
                "prefix": row.prefix,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
        return NewToken(Secret(token), _view(row, now))


def list_tokens(ws: Workspace, actor: Actor, user: str | None = None) -> list[TokenView]:
    """Tokens, oldest first: ``user``'s (their own, or anyone's for an admin); without
    ``user``, an admin sees every user's and others their own."""
    now = utcnow()
    with ws.session() as session:
        query = select(ApiToken).order_by(ApiToken.id)
        if user is not None:
            _, owner = own_or_admin(session, actor, user)
            query = query.where(ApiToken.user_id == owner.id)
        else:
            fresh = current(session, actor)
            if not fresh.may(Action.USERS_MANAGE):
                query = query.where(ApiToken.user_id == fresh.id)
        return [_view(row, now) for row in session.scalars(query).unique()]


def _token(session: Session, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise TokenNotFound(f"no API token with id {token_id}", field="token_id")
    return row


def revoke_token(ws: Workspace, actor: Actor, token_id: int) -> TokenView:
    """Revoke a token for good (its owner, or an admin). Revoking a revoked token changes
    nothing and writes no audit entry."""
    now = utcnow()
    with ws.session() as session:
        row = _token(session, token_id)
        fresh, _ = own_or_admin(session, actor, row.user.name)
        if row.revoked_at is None:
            row.revoked_at = now
            audit.record(
                session, fresh, "tokens.revoke", row.user.name, {"id": row.id, "name": row.name}
            )
        return _view(row, now)


def authenticate_token(ws: Workspace, token: Secret | str, *, now: datetime | None = None) -> Actor:
    """The user a token belongs to, as an :class:`Actor`, if the token is known, not
    revoked and not expired (at ``now``, default: the current time); else
    :class:`BadCredentials`, with one message for every reason. Records when it was used."""
    value = reveal(token)
    now = now or utcnow()
    refused = BadCredentials("the API token is unknown, revoked or expired")
    if not value.startswith(TOKEN_PREFIX) or len(value) > 200:
        raise refused
    with ws.session() as session:
        # Looked up by its digest: an index lookup reveals nothing useful through its
        # timing, since a caller cannot choose digests that share a start.
        row = session.scalars(
            select(ApiToken).join(User).where(ApiToken.token_hash == _digest(value))
        ).one_or_none()
        if row is None or _status(row, now) != "active":
            raise refused
        row.last_used_at = now
        return Actor(id=row.user.id, name=row.user.name, role=Role(row.user.role))

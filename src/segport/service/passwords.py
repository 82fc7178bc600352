"""Users' passwords: set them, and check them (what the server will log people in with).

Passwords are hashed with argon2id through ``argon2-cffi`` at its default parameters
(RFC 9106's low-memory profile); the hash is stored in its PHC string form, which carries
the parameters and the salt. The command line never checks a password: whoever can read
the workspace holds it (``docs/workspace.md``). :func:`verify_password` is for the faces
that authenticate (the REST API and the web app).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport.errors import Forbidden, Invalid
from segport.service import audit
from segport.service.access import Action, Actor, Role, current, require
from segport.service.models import User, utcnow
from segport.service.users import get_user

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from segport.secret import Secret
    from segport.service.workspace import Workspace

MIN_PASSWORD_LENGTH = 12
# argon2 takes any length; the bound keeps one request from hashing a megabyte.
MAX_PASSWORD_LENGTH = 1024


class BadCredentials(Forbidden):
    """A user name and password, or an API token, that do not authenticate anyone. One
    message for every reason, so a caller cannot tell a known user from an unknown one."""

    default_code = "bad_credentials"


class PasswordRefused(Invalid):
    """A new password that breaks the rule (at least MIN_PASSWORD_LENGTH characters)."""

    default_code = "password_refused"


@functools.cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash made with the current parameters, checked against when there is no user or
    no password, so that answering takes as long as for a real user (no timing hint)."""
    return _hasher().hash("segport: no such user, or no password set")


def own_or_admin(session: Session, actor: Actor, name: str) -> tuple[Actor, User]:
    """The acting user as the database knows them, and the user ``name``, if the actor is
    that user or may manage users; else :class:`PermissionDenied`."""
    fresh = current(session, actor)
    if fresh.name != name:
        require(fresh, Action.USERS_MANAGE)
    return fresh, get_user(session, name)


def check_password_rule(password: Secret) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRefused(
            f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters "
            f"(got {len(password)})",
            code="password_too_short",
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordRefused(
            f"the password is too long: use at most {MAX_PASSWORD_LENGTH} characters",
            code="password_too_long",
            field="password",
        )


def set_password(ws: Workspace, actor: Actor, name: str, password: Secret) -> None:
    """Set (or replace) the password of user ``name``: a user may set their own, admins
    anyone's. The audit entry says who set whose, never the password or its hash."""
    check_password_rule(password)
    hashed = _hasher().hash(password.reveal())  # before the transaction: ~0.1 s of work
    with ws.session() as session:
        fresh, user = own_or_admin(session, actor, name)
        replaced = user.password_hash is not None
        user.password_hash = hashed
        user.password_set_at = utcnow()
        audit.record(session, fresh, "users.set_password", user.name, {"replaced": replaced})


def verify_password(ws: Workspace, name: str, password: Secret) -> Actor:
    """The user ``name`` as an :class:`Actor` if ``password`` is theirs; else
    :class:`BadCredentials`, with the same message whether the user is unknown, has no
    password or gave a wrong one. A hash made with older argon2 parameters is replaced by
    one made with the current ones."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    with ws.session() as session:
        user = session.scalars(select(User).where(User.name == name)).one_or_none()
        stored = user.password_hash if user is not None else None
        try:
            # Checked against a dummy hash when there is nothing to check against, so an
            # unknown user costs as much time as a known one.
            hasher.verify(stored or _dummy_hash(), password.reveal())
            ok = user is not None and stored is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or user is None or stored is None:
            raise BadCredentials("unknown user or wrong password")
        if hasher.check_needs_rehash(stored):
            user.password_hash = hasher.hash(password.reveal())
        return Actor(id=user.id, name=user.name, role=Role(user.role))

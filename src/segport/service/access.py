"""Who may do what: roles, actions and the one check every service calls.

Every service function of the workspace layer calls :func:`authorize` first, so the CLI,
the API and the web pages enforce the same rules. Roles are the platform's:

- viewer: sees profiles, segments and exports; changes nothing.
- contributor: also creates segments, and creates, manages and runs exports on connections
  shared with contributors (the connection check is in the exports service).
- admin: everything, including users, connections, sharing, the system refresh's schedule,
  and the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from segport.errors import Forbidden, Invalid
from segport.service.models import User
from segport.service.workspace import Workspace, WorkspaceError

DEFAULT_USER_KEY = "default_user"


class PermissionDenied(Forbidden, WorkspaceError):
    """The acting user's role does not allow the action; the message names both."""

    default_code = "permission_denied"


class Role(StrEnum):
    ADMIN = "admin"
    CONTRIBUTOR = "contributor"
    VIEWER = "viewer"


class Action(StrEnum):
    PROFILES_READ = "profiles.read"
    PROFILES_WRITE = "profiles.write"
    SEGMENTS_READ = "segments.read"
    SEGMENTS_WRITE = "segments.write"
    USERS_MANAGE = "users.manage"
    CONNECTIONS_MANAGE = "connections.manage"
    EXPORTS_READ = "exports.read"
    EXPORTS_WRITE = "exports.write"
    EXPORTS_RUN = "exports.run"
    AUDIT_READ = "audit.read"
    SCHEDULE_MANAGE = "schedule.manage"
    ALERTS_MANAGE = "alerts.manage"


_VIEWER = {Action.PROFILES_READ, Action.SEGMENTS_READ, Action.EXPORTS_READ}
_CONTRIBUTOR = _VIEWER | {Action.SEGMENTS_WRITE, Action.EXPORTS_WRITE, Action.EXPORTS_RUN}
ALLOWED: dict[Role, frozenset[Action]] = {
    Role.VIEWER: frozenset(_VIEWER),
    Role.CONTRIBUTOR: frozenset(_CONTRIBUTOR),
    Role.ADMIN: frozenset(Action),
}

_WHAT = {
    Action.PROFILES_READ: "see profiles",
    Action.PROFILES_WRITE: "load or change profiles",
    Action.SEGMENTS_READ: "see segments",
    Action.SEGMENTS_WRITE: "create or change segments",
    Action.USERS_MANAGE: "manage users",
    Action.CONNECTIONS_MANAGE: "manage connections",
    Action.EXPORTS_READ: "see exports",
    Action.EXPORTS_WRITE: "create or change exports",
    Action.EXPORTS_RUN: "run exports",
    Action.AUDIT_READ: "read the audit log",
    Action.SCHEDULE_MANAGE: "set the system refresh's schedule",
    Action.ALERTS_MANAGE: "manage alerts and the SMTP server",
}


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str
    role: Role

    def may(self, action: Action) -> bool:
        return action in ALLOWED[self.role]


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise Invalid(
            f"unknown role {value!r}: use one of {', '.join(r.value for r in Role)}",
            code="role_invalid",
            field="role",
        ) from None


def default_user_name(session: Session) -> str | None:
    row = session.execute(
        text("SELECT value FROM workspace_info WHERE key = :k"), {"k": DEFAULT_USER_KEY}
    ).first()
    return str(row[0]) if row else None


def resolve_actor(session: Session, actor_name: str | None) -> Actor:
    """The user named ``actor_name``; when None, the workspace's default user.

    This is how the command line names its actor (``--as``, else the default user made by
    ``init``): it attributes actions and applies a role, it does not authenticate. Other
    faces authenticate first (password, API token) and pass the :class:`Actor` they got.
    """
    name = actor_name.strip() if actor_name else None
    if not name:
        name = default_user_name(session)
        if name is None:
            raise PermissionDenied(
                "this workspace has no default user: name the acting user",
                code="actor_required",
                field="actor",
            )
        via = "the workspace's default user"
    else:
        via = "the acting user"
    user = session.scalars(select(User).where(User.name == name)).one_or_none()
    if user is None:
        known = session.scalars(select(User.name).order_by(User.name)).all()
        same = [k for k in known if k.casefold() == name.casefold()]
        hint = f" (did you mean {same[0]!r}? names are case-sensitive)" if same else ""
        raise PermissionDenied(
            f"no user named {name!r}{hint} in this workspace ({via}); users: "
            f"{', '.join(known) or 'none'}. Act as one of them, or ask an admin to add "
            f"{name!r}",
            code="unknown_actor",
            field="actor",
        )
    return Actor(id=user.id, name=user.name, role=Role(user.role))


def actor_named(ws: Workspace, name: str | None) -> Actor:
    """The acting user by name (None: the workspace's default user); see :func:`resolve_actor`."""
    with ws.session() as session:
        return resolve_actor(session, name)


def require(actor: Actor, action: Action) -> Actor:
    if not actor.may(action):
        needs = [r.value for r in Role if action in ALLOWED[r]]
        raise PermissionDenied(
            f"{actor.name} is a {actor.role.value} and may not {_WHAT[action]} "
            f"(needs role {' or '.join(needs)}); ask an admin"
        )
    return actor


def current(session: Session, actor: Actor) -> Actor:
    """``actor`` as the database knows them now: a user removed or given another role
    since the actor was made (a long-lived server session, say) is not trusted as made."""
    if not isinstance(actor, Actor):  # a name where an Actor belongs: a bug in a face
        raise TypeError(f"services take an authenticated Actor, not {type(actor).__name__}")
    user = session.get(User, actor.id) if actor.id is not None else None
    if user is None or user.name != actor.name:
        raise PermissionDenied(
            f"the user {actor.name!r} no longer exists in this workspace",
            code="unknown_actor",
            field="actor",
        )
    return Actor(id=user.id, name=user.name, role=Role(user.role))


def authorize(ws: Workspace, actor: Actor, action: Action) -> Actor:
    """The acting user, as the database knows them now, if their role allows ``action``;
    else :class:`PermissionDenied`. Every service function calls this first."""
    with ws.session() as session:
        fresh = current(session, actor)
    return require(fresh, action)

"""Who may do what: roles, actions and the one check every service calls.

Every service function of the workspace layer calls :func:`authorize` first, so the CLI,
the API and the web pages enforce the same rules. Roles are the platform's:

- viewer: sees profiles, segments and exports; changes nothing.
- contributor: also creates segments, and creates, manages and runs exports on connections
  shared with contributors (the connection check is in the exports service).
- admin: everything, including users, connections, sharing and the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from segport.service.models import User
from segport.service.workspace import Workspace, WorkspaceError

DEFAULT_USER_KEY = "default_user"


class PermissionDenied(WorkspaceError):
    """The acting user's role does not allow the action; the message names both."""


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
        raise WorkspaceError(
            f"unknown role {value!r}: use one of {', '.join(r.value for r in Role)}"
        ) from None


def default_user_name(session: Session) -> str | None:
    row = session.execute(
        text("SELECT value FROM workspace_info WHERE key = :k"), {"k": DEFAULT_USER_KEY}
    ).first()
    return str(row[0]) if row else None


def resolve_actor(session: Session, actor_name: str | None) -> Actor:
    """The user named ``actor_name`` (the workspace's default user when None)."""
    name = actor_name.strip() if actor_name else None
    if not name:
        name = default_user_name(session)
        if name is None:
            raise PermissionDenied(
                "this workspace has no default user: pass --as NAME (or set SEGPORT_USER)"
            )
        via = "the workspace's default user (used when --as is not given)"
    else:
        via = "--as / SEGPORT_USER"
    user = session.scalars(select(User).where(User.name == name)).one_or_none()
    if user is None:
        known = session.scalars(select(User.name).order_by(User.name)).all()
        same = [k for k in known if k.casefold() == name.casefold()]
        hint = f" (did you mean {same[0]!r}? names are case-sensitive)" if same else ""
        raise PermissionDenied(
            f"no user named {name!r}{hint} in this workspace ({via}); users: "
            f"{', '.join(known) or 'none'}. Pass --as with one of them, or ask an admin to "
            f"run `segport users add {name} --role ...`"
        )
    return Actor(id=user.id, name=user.name, role=Role(user.role))


def require(actor: Actor, action: Action) -> Actor:
    if not actor.may(action):
        needs = [r.value for r in Role if action in ALLOWED[r]]
        raise PermissionDenied(
            f"{actor.name} is a {actor.role.value} and may not {_WHAT[action]} "
            f"(needs role {' or '.join(needs)}); ask an admin"
        )
    return actor


def authorize(ws: Workspace, actor_name: str | None, action: Action) -> Actor:
    """The acting user, if their role allows ``action``; else :class:`PermissionDenied`."""
    with ws.session() as session:
        actor = resolve_actor(session, actor_name)
    return require(actor, action)

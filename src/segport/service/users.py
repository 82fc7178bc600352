"""Workspace users and their roles (admins manage them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, undefer

from segport.errors import Conflict, NotFound
from segport.service import audit
from segport.service.access import (
    DEFAULT_USER_KEY,
    Action,
    Actor,
    Role,
    authorize,
    default_user_name,
    parse_role,
)
from segport.service.models import Connection, User
from segport.service.workspace import Workspace, WorkspaceError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


class UserNotFound(NotFound, WorkspaceError):
    default_code = "user_not_found"


@dataclass(frozen=True)
class UserView:
    name: str
    role: Role
    created_at: datetime
    is_default: bool
    export_user_of: list[str]
    # Whether the user has a password (for the server; the hash is never shown), and when
    # it was set.
    has_password: bool = False
    password_set_at: datetime | None = None


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise WorkspaceError(
            f"invalid user name {name!r}: use 1 to 100 letters, digits or . _ @ + - "
            "(starting with a letter or digit)"
        )
    return name


def create_first_admin(session: Session, name: str) -> None:
    """Make ``name`` an admin and the workspace's default user (``init`` and upgrades)."""
    name = check_name(name)
    session.add(User(name=name, role=Role.ADMIN.value))
    session.execute(text("DELETE FROM workspace_info WHERE key = :k"), {"k": DEFAULT_USER_KEY})
    session.execute(
        text("INSERT INTO workspace_info (key, value) VALUES (:k, :v)"),
        {"k": DEFAULT_USER_KEY, "v": name},
    )
    session.flush()
    system = Actor(id=None, name=name, role=Role.ADMIN)
    audit.record(session, system, "users.add", name, {"role": "admin", "first_admin": True})


def ensure_users(ws: Workspace, admin_name: str = "admin") -> None:
    """A workspace made before users existed gets its first admin when it is opened."""
    with ws.session() as session:
        if session.scalar(select(func.count()).select_from(User)) == 0:
            create_first_admin(session, admin_name)


def get_user(session: Session, name: str) -> User:
    """The user named ``name``, else :class:`UserNotFound` listing the users."""
    user = session.scalars(select(User).where(User.name == name)).one_or_none()
    if user is None:
        known = session.scalars(select(User.name).order_by(User.name)).all()
        same = [k for k in known if k.casefold() == name.casefold()]
        hint = f" (did you mean {same[0]!r}? names are case-sensitive)" if same else ""
        raise UserNotFound(f"no user named {name!r}{hint}; users: {', '.join(known)}")
    return user


def _admins(session: Session) -> int:
    return (
        session.scalar(select(func.count()).select_from(User).where(User.role == Role.ADMIN.value))
        or 0
    )


def add_user(ws: Workspace, actor: Actor, name: str, role: str) -> UserView:
    actor = authorize(ws, actor, Action.USERS_MANAGE)
    name = check_name(name)
    new_role = parse_role(role)
    with ws.session() as session:
        if session.scalars(select(User).where(User.name == name)).one_or_none():
            raise Conflict(
                f"a user named {name!r} already exists; change their role instead",
                code="user_exists",
                field="name",
                details={"user": name},
            )
        user = User(name=name, role=new_role.value)
        session.add(user)
        session.flush()
        audit.record(session, actor, "users.add", name, {"role": new_role.value})
        return UserView(user.name, new_role, user.created_at, False, [])


def list_users(ws: Workspace, actor: Actor) -> list[UserView]:
    authorize(ws, actor, Action.USERS_MANAGE)
    with ws.session() as session:
        default = default_user_name(session)
        export_user_of: dict[int, list[str]] = {}
        for conn in session.scalars(select(Connection).order_by(Connection.name)):
            if conn.export_user_id is not None:
                export_user_of.setdefault(conn.export_user_id, []).append(conn.name)
        return [
            UserView(
                u.name,
                Role(u.role),
                u.created_at,
                u.name == default,
                export_user_of.get(u.id, []),
                has_password=u.password_hash is not None,
                password_set_at=u.password_set_at,
            )
            for u in session.scalars(
                select(User)
                .options(undefer(User.password_hash), undefer(User.password_set_at))
                .order_by(User.name)
            )
        ]


def _refuse_last_admin(session: Session, user: User, what: str) -> None:
    if user.role == Role.ADMIN.value and _admins(session) <= 1:
        raise Conflict(
            f"{user.name} is the only admin, so they cannot be {what}: make another user an "
            "admin first",
            code="last_admin",
        )


def _export_user_note(session: Session, user: User) -> list[str]:
    return list(
        session.scalars(select(Connection.name).where(Connection.export_user_id == user.id)).all()
    )


def set_role(ws: Workspace, actor: Actor, name: str, role: str) -> list[str]:
    """Change a user's role; the connections whose runs stop because of it are returned."""
    actor = authorize(ws, actor, Action.USERS_MANAGE)
    new_role = parse_role(role)
    with ws.session() as session:
        user = get_user(session, name)
        old = user.role
        if old == new_role.value:
            return []
        if new_role is not Role.ADMIN:
            _refuse_last_admin(session, user, f"made a {new_role.value}")
        user.role = new_role.value
        stopped = [] if new_role is Role.ADMIN else _export_user_note(session, user)
        audit.record(
            session,
            actor,
            "users.set_role",
            user.name,
            {"from": old, "to": new_role.value, "export_user_of": stopped},
        )
        return stopped


def remove_user(ws: Workspace, actor: Actor, name: str) -> list[str]:
    """Remove a user; the connections whose runs stop because of it are returned."""
    actor = authorize(ws, actor, Action.USERS_MANAGE)
    with ws.session() as session:
        user = get_user(session, name)
        _refuse_last_admin(session, user, "removed")
        stopped = _export_user_note(session, user)
        was_default = default_user_name(session) == user.name
        session.delete(user)
        session.flush()
        if was_default:
            # The default user (acting when --as is not given) passes to an admin.
            successor = actor.name if actor.name != user.name else None
            if successor is None:
                successor = session.scalars(
                    select(User.name).where(User.role == Role.ADMIN.value).order_by(User.id)
                ).first()
            session.execute(
                text("UPDATE workspace_info SET value = :v WHERE key = :k"),
                {"k": DEFAULT_USER_KEY, "v": successor},
            )
        audit.record(session, actor, "users.remove", name, {"export_user_of": stopped})
        return stopped

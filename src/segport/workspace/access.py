"""Who may do what: roles, actions and the one check every service calls.

Every service function of the workspace layer calls :func:`authorize` first, so the CLI,
the API and the web pages enforce the same rules. (Stub: the workspace issue fills in
users and roles; until then every action is allowed as the anonymous admin.)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from segport.workspace.workspace import Workspace, WorkspaceError


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


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str
    role: Role


def authorize(ws: Workspace, actor_name: str | None, action: Action) -> Actor:
    """The acting user, if their role allows ``action``; else :class:`PermissionDenied`."""
    return Actor(id=None, name=actor_name or "admin", role=Role.ADMIN)

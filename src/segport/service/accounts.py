"""Users as the web pages manage them: one user with their API tokens, and a new user
given a first password in the same step.

Built on :mod:`segport.service.users`, :mod:`segport.service.passwords` and
:mod:`segport.service.tokens`, which check the roles and write the audit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from segport.secret import Secret
from segport.service.access import Action, Actor, authorize
from segport.service.passwords import check_password_rule, set_password
from segport.service.tokens import TokenView, list_tokens
from segport.service.users import UserNotFound, UserView, add_user, list_users
from segport.service.workspace import Workspace


@dataclass(frozen=True)
class UserDetail:
    """A user and their API tokens (oldest first; never a token's value or hash)."""

    user: UserView
    tokens: list[TokenView]


def user_detail(ws: Workspace, actor: Actor, name: str) -> UserDetail:
    """One user with their tokens (admins)."""
    for view in list_users(ws, actor):  # admins only
        if view.name == name:
            return UserDetail(view, list_tokens(ws, actor, name))
    raise UserNotFound(f"no user named {name!r}", field="name")


def add_user_with_password(
    ws: Workspace, actor: Actor, name: str, role: str, password: Secret
) -> UserView:
    """A new user who can sign in at once (admins). The password's rule is checked
    before the user is made: a refused password makes no user."""
    who = authorize(ws, actor, Action.USERS_MANAGE)
    check_password_rule(password)
    view = add_user(ws, who, name, role)
    set_password(ws, who, view.name, password)
    return replace(view, has_password=True)

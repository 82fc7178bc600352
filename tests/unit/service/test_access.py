"""The role matrix: who may do what."""

from __future__ import annotations

import pytest

from segport.errors import Invalid
from segport.service.access import Action, Actor, PermissionDenied, Role, parse_role, require

READ = {Action.PROFILES_READ, Action.SEGMENTS_READ, Action.EXPORTS_READ}
CONTRIBUTE = {Action.SEGMENTS_WRITE, Action.EXPORTS_WRITE, Action.EXPORTS_RUN}
ADMIN_ONLY = {
    Action.PROFILES_WRITE,
    Action.USERS_MANAGE,
    Action.CONNECTIONS_MANAGE,
    Action.AUDIT_READ,
    Action.SCHEDULE_MANAGE,
    Action.ALERTS_MANAGE,
}


def test_every_action_is_classified() -> None:
    assert set(Action) == READ | CONTRIBUTE | ADMIN_ONLY


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.VIEWER, READ),
        (Role.CONTRIBUTOR, READ | CONTRIBUTE),
        (Role.ADMIN, set(Action)),
    ],
)
def test_role_matrix(role: Role, allowed: set[Action]) -> None:
    actor = Actor(id=1, name="u", role=role)
    for action in Action:
        assert actor.may(action) == (action in allowed), action
        if action not in allowed:
            with pytest.raises(PermissionDenied, match=f"u is a {role.value} and may not"):
                require(actor, action)


def test_refusal_names_the_roles_that_may() -> None:
    viewer = Actor(id=1, name="vic", role=Role.VIEWER)
    with pytest.raises(PermissionDenied, match=r"needs role admin or contributor"):
        require(viewer, Action.EXPORTS_WRITE)
    with pytest.raises(PermissionDenied, match=r"may not manage connections \(needs role admin\)"):
        require(viewer, Action.CONNECTIONS_MANAGE)


def test_parse_role() -> None:
    assert parse_role(" Admin ") is Role.ADMIN
    with pytest.raises(Invalid, match="use one of admin, contributor, viewer"):
        parse_role("owner")

"""Users: admins list, add, change the role of and remove them, and reset passwords; a
user may set their own password. The services decide who may (roles, the last admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from segport.errors import NotFound
from segport.secret import Secret
from segport.server.api.admin_models import (
    NewPassword,
    NewUser,
    RoleChange,
    UserChanged,
    UserOut,
    UserPage,
)
from segport.server.auth import ActorDep
from segport.server.context import Server, server
from segport.server.problems import problem_responses
from segport.service import add_user, list_users, remove_user, set_password, set_role, to_json

router = APIRouter(prefix="/users", tags=["users"])
ServerDep = Annotated[Server, Depends(server)]
Name = Annotated[str, Path(min_length=1, max_length=200, description="The user's name.")]
Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Skip this many items first.")]


@router.get("", responses=problem_responses(401, 403, 422), summary="List the users (admins)")
def get_users(who: ActorDep, srv: ServerDep, limit: Limit = 50, offset: Offset = 0) -> UserPage:
    views = list_users(srv.ws, who)
    return UserPage(
        total=len(views),
        offset=offset,
        limit=limit,
        items=[UserOut.model_validate(to_json(v)) for v in views[offset : offset + limit]],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
    summary="Add a user (admins)",
)
def post_user(body: NewUser, who: ActorDep, srv: ServerDep) -> UserOut:
    """The user has no password yet: set one with `PUT /users/{name}/password`. 409
    `user_exists` for a name taken."""
    return UserOut.model_validate(to_json(add_user(srv.ws, who, body.name, body.role)))


@router.get("/{name}", responses=problem_responses(401, 403, 404, 422), summary="One user (admins)")
def get_user(name: Name, who: ActorDep, srv: ServerDep) -> UserOut:
    # No service shows one user: the list (admins only, as a user's details are) has it.
    for view in list_users(srv.ws, who):
        if view.name == name:
            return UserOut.model_validate(to_json(view))
    raise NotFound(f"no user named {name!r}", code="user_not_found", field="name")


@router.patch(
    "/{name}",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Change a user's role (admins)",
)
def patch_user(name: Name, body: RoleChange, who: ActorDep, srv: ServerDep) -> UserChanged:
    """409 `last_admin` for the only admin. `stopped_connections`: the connections this
    user runs exports for, which stop running until an admin takes them over."""
    stopped = set_role(srv.ws, who, name, body.role)
    return UserChanged(name=name, role=body.role, stopped_connections=stopped)


@router.delete(
    "/{name}",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Remove a user (admins)",
)
def delete_user(name: Name, who: ActorDep, srv: ServerDep) -> UserChanged:
    """409 `last_admin` for the only admin; the user's sessions and tokens stop working."""
    return UserChanged(name=name, stopped_connections=remove_user(srv.ws, who, name))


@router.put(
    "/{name}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
    summary="Set a user's password (your own, or anyone's for admins)",
)
def put_password(name: Name, body: NewPassword, who: ActorDep, srv: ServerDep) -> Response:
    """At least 12 characters (422 `password_too_short`)."""
    # Not scrubbed from messages: no server ever echoes a password (see Secret).
    set_password(srv.ws, who, name, Secret(body.password.get_secret_value(), scrub=False))
    return Response(status_code=status.HTTP_204_NO_CONTENT)

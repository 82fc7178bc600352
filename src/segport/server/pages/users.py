"""Users (admins): the list with roles, Add user (with a first password), and one user
with their role, a new password, their API tokens (made, shown once, revoked) and
removal (with a confirmation step). The services refuse everyone but admins.

A password is only read from a posted form and handed to the service: no page renders
one. A new token is shown on the page that answers its creation, and never again (the
workspace keeps its hash).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from segport.errors import Invalid, SegportError
from segport.secret import Secret
from segport.server.pages.base import (
    Form,
    PageRoute,
    Posted,
    ServerDep,
    SignedIn,
    item_path,
    render,
    see_other,
)
from segport.server.problems import status_of
from segport.service import (
    NewToken,
    Role,
    add_user_with_password,
    create_token,
    list_users,
    remove_user,
    revoke_token,
    set_password,
    set_role,
    user_detail,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
NOTICES = {  # fixed texts only: a query parameter never puts its own words on a page
    "added": "User added: they can sign in with the password you gave.",
    "role": "Role changed.",
    "password": "Password set: the user signs in with the new one.",
    "revoked": "Token revoked: it no longer works.",
    "removed": "User removed: their sessions and tokens no longer work.",
}
ROLES = [r.value for r in Role]
EXPIRIES = {"": "never", "30": "in 30 days", "90": "in 90 days", "365": "in a year"}


def _link(name: str) -> str:
    return item_path("users", name)


def _users_page(
    request: Request,
    who: SignedIn,
    srv: ServerDep,
    *,
    notice: str | None = None,
    form: dict[str, str] | None = None,
    error: SegportError | None = None,
) -> Response:
    users = list_users(srv.ws, who.actor)
    values = form or {}
    return render(
        request,
        "users.html",
        http_status=status_of(error) if error else 200,
        area="users",
        notice=notice,
        error=error,
        users=users,
        roles=ROLES,
        # what the admin typed, shown again after a refusal; never the password
        name=values.get("name", ""),
        role=values.get("role", "viewer"),
    )


@router.get("/users")
def users_page(request: Request, who: SignedIn, srv: ServerDep, notice: str = "") -> Response:
    return _users_page(request, who, srv, notice=NOTICES.get(notice))


@router.post("/users/new")
def new_user_post(request: Request, who: Posted, srv: ServerDep, form: Form) -> Response:
    try:
        view = add_user_with_password(
            srv.ws,
            who.actor,
            form.get("name", ""),
            form.get("role", ""),
            Secret(form.get("password", ""), scrub=False),
        )
    except SegportError as exc:
        if exc.kind == "forbidden":
            raise
        return _users_page(request, who, srv, form=form, error=exc)
    return see_other(_link(view.name) + "?notice=added")


def _user_page(
    request: Request,
    who: SignedIn,
    srv: ServerDep,
    name: str,
    *,
    notice: str | None = None,
    error: SegportError | None = None,
    http_status: int | None = None,
    **extra: Any,
) -> Response:
    detail = user_detail(srv.ws, who.actor, name)
    extra.setdefault("new_token", None)
    extra.setdefault("confirm", False)
    extra.setdefault("token_name", "")
    extra.setdefault("stopped", [])
    return render(
        request,
        "user.html",
        http_status=http_status or (status_of(error) if error else 200),
        area="users",
        notice=notice,
        error=error,
        detail=detail,
        account=detail.user,
        tokens=detail.tokens,
        link=_link(detail.user.name),
        roles=ROLES,
        expiries=EXPIRIES,
        **extra,
    )


def _refused(
    request: Request, who: SignedIn, srv: ServerDep, name: str, exc: SegportError, **extra: Any
) -> Response:
    """A refusal of an action on a user, shown on their page (a missing user or a
    forbidden action gets the error page)."""
    if exc.kind in ("not_found", "forbidden") and exc.field != "token_id":
        raise exc
    return _user_page(request, who, srv, name, error=exc, **extra)


@router.get("/users/{name}")
def user_page(
    request: Request, who: SignedIn, srv: ServerDep, name: str, notice: str = ""
) -> Response:
    return _user_page(request, who, srv, name, notice=NOTICES.get(notice))


@router.post("/users/{name}/role")
def role_post(request: Request, who: Posted, srv: ServerDep, form: Form, name: str) -> Response:
    try:
        stopped = set_role(srv.ws, who.actor, name, form.get("role", ""))
    except SegportError as exc:
        return _refused(request, who, srv, name, exc)
    if stopped:  # said on the page that answers: the notice texts are fixed
        return _user_page(request, who, srv, name, stopped=stopped)
    return see_other(_link(name) + "?notice=role")


@router.post("/users/{name}/password")
def password_post(request: Request, who: Posted, srv: ServerDep, form: Form, name: str) -> Response:
    try:
        set_password(srv.ws, who.actor, name, Secret(form.get("password", ""), scrub=False))
    except SegportError as exc:
        return _refused(request, who, srv, name, exc)
    return see_other(_link(name) + "?notice=password")


@router.post("/users/{name}/tokens")
def token_post(request: Request, who: Posted, srv: ServerDep, form: Form, name: str) -> Response:
    """Make a token: the page that answers shows it, once."""
    expiry = form.get("expires_in", "")
    try:
        if expiry not in EXPIRIES:
            raise Invalid(
                "choose when the token expires from the list",
                code="token_expiry_invalid",
                field="expires_in",
            )
        expires_at = datetime.now(UTC) + timedelta(days=int(expiry)) if expiry else None
        new: NewToken = create_token(
            srv.ws, who.actor, name, name=form.get("token_name", ""), expires_at=expires_at
        )
    except SegportError as exc:
        return _refused(request, who, srv, name, exc, token_name=form.get("token_name", ""))
    return _user_page(request, who, srv, name, new_token=new)


@router.post("/users/{name}/tokens/{token_id}/revoke")
def revoke_post(
    request: Request, who: Posted, srv: ServerDep, name: str, token_id: int
) -> Response:
    try:
        revoke_token(srv.ws, who.actor, token_id)
    except SegportError as exc:
        return _refused(request, who, srv, name, exc)
    return see_other(_link(name) + "?notice=revoked")


@router.post("/users/{name}/remove")
def remove_post(request: Request, who: Posted, srv: ServerDep, form: Form, name: str) -> Response:
    """Two steps: the first post asks to confirm; the second (``confirm=yes``) removes."""
    if form.get("confirm") != "yes":
        return _user_page(request, who, srv, name, confirm=True)
    try:
        remove_user(srv.ws, who.actor, name)
    except SegportError as exc:
        return _refused(request, who, srv, name, exc)
    return see_other("/users?notice=removed")

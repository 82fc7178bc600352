"""Signing in and out, and who is signed in: ``/session`` and ``/me``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from segport.errors import Conflict, SegportError
from segport.secret import Secret
from segport.server import csrf
from segport.server.api.models import Me, SessionOut, SignIn, User
from segport.server.auth import CallerDep
from segport.server.context import Server, server
from segport.server.problems import problem_responses
from segport.service import end_web_session, sign_in

router = APIRouter(tags=["session"])
ServerDep = Annotated[Server, Depends(server)]


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/session",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 422, 429),
    summary="Sign in with a user name and password",
)
def create_session(
    body: SignIn, request: Request, response: Response, srv: ServerDep
) -> SessionOut:
    """Starts a session: sets the session cookie (HttpOnly, SameSite=Lax) and returns the
    CSRF token to send as `X-CSRF-Token`. A wrong password and an unknown user get the
    same 401; repeated failures get 429 with `Retry-After`."""
    csrf.check_origin(request)  # a page of another site must not sign a browser in
    address = _address(request)
    srv.limiter.check(body.name, address)
    try:
        new = sign_in(
            srv.ws,
            body.name,
            Secret(body.password, scrub=False),
            lifetime=srv.settings.session_lifetime,
        )
    except SegportError as exc:
        if exc.code == "bad_credentials":
            srv.limiter.failed(body.name, address)
        raise
    srv.limiter.succeeded(body.name)
    previous = srv.cookie.session_id(request)
    if previous is not None:  # a new id at every sign-in (no session fixation)
        end_web_session(srv.ws, previous)
    srv.cookie.set(response, new.session_id)
    view = new.view
    return SessionOut(
        user=User(name=view.actor.name, role=view.actor.role.value),
        csrf_token=view.csrf_token,
        expires_at=view.expires_at,
    )


@router.delete(
    "/session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 409),
    summary="Sign out",
)
def delete_session(who: CallerDep, srv: ServerDep) -> Response:
    """Ends the session: revoked in the workspace (the cookie no longer signs anyone in,
    even if kept) and the cookie cleared."""
    if who.session_id is None:
        raise Conflict(
            "this request used an API token, not a session: there is nothing to sign out of "
            "(an admin revokes tokens)",
            code="no_session",
        )
    end_web_session(srv.ws, who.session_id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    srv.cookie.clear(response)
    return response


@router.get("/me", responses=problem_responses(401, 403), summary="Who is signed in")
def me(who: CallerDep) -> Me:
    return Me(
        user=User(name=who.actor.name, role=who.actor.role.value),
        auth="session" if who.session_id else "token",
        csrf_token=who.csrf_token,
    )

"""Who is acting: an API token (``Authorization: Bearer``) or the session cookie.

Either gives an :class:`Actor` the services take; the services decide what that actor may
do (roles are theirs). A request with neither is refused 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from segport.errors import Forbidden
from segport.secret import Secret
from segport.server import csrf
from segport.server.context import Server, server
from segport.service import Actor, authenticate_token, web_session

# Declared so the OpenAPI document names both ways in (Swagger UI's Authorize button).
bearer = HTTPBearer(auto_error=False, description="An API token (`segport tokens create`).")
# The name as documented; the app reads the cookie its settings name (__Host- behind TLS).
cookie = APIKeyCookie(
    name="segport_session", auto_error=False, description="The session cookie set at sign-in."
)


class NotSignedIn(Forbidden):
    default_code = "authentication_required"


@dataclass(frozen=True)
class Caller:
    """The acting user and how they got in: ``session_id`` and ``csrf_token`` for a
    session, None for a token."""

    actor: Actor
    session_id: str | None = None
    csrf_token: str | None = None


def caller(
    request: Request,
    srv: Annotated[Server, Depends(server)],
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    _cookie: Annotated[str | None, Depends(cookie)],
) -> Caller:
    if token is not None:
        return Caller(authenticate_token(srv.ws, Secret(token.credentials, scrub=False)))
    session_id = srv.cookie.session_id(request)
    if session_id is None:
        raise NotSignedIn(
            "sign in (POST /api/v1/session) or send an API token: Authorization: Bearer TOKEN"
        )
    view = web_session(srv.ws, session_id)
    csrf.protect(request, view.csrf_token)
    return Caller(view.actor, session_id, view.csrf_token)


def actor(who: Annotated[Caller, Depends(caller)]) -> Actor:
    return who.actor


CallerDep = Annotated[Caller, Depends(caller)]
ActorDep = Annotated[Actor, Depends(actor)]

"""What every request handler shares: the open workspace, the settings, the cookie and
the sign-in limiter (one of each per app, kept on ``app.state``)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from segport.server.ratelimit import LoginLimiter
from segport.server.sessions import SessionCookie
from segport.server.settings import Settings
from segport.service import Workspace


@dataclass
class Server:
    settings: Settings
    ws: Workspace
    cookie: SessionCookie
    limiter: LoginLimiter


def server(request: Request) -> Server:
    srv: Server = request.app.state.server
    return srv

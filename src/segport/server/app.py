"""The app: ``create_app(settings)`` builds the FastAPI application `segport serve` runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from segport import __version__
from segport.server import api, docs, pages, problems
from segport.server.context import Server
from segport.server.ratelimit import LoginLimiter
from segport.server.security import SecurityHeaders, TrustedHostMiddleware
from segport.server.sessions import SessionCookie
from segport.server.settings import Settings
from segport.service import Workspace, open_workspace

STATIC_DIR = Path(__file__).parent / "static"
OPENAPI_URL = f"{api.PREFIX}/openapi.json"
DOCS_URL = f"{api.PREFIX}/docs"


def create_app(settings: Settings, ws: Workspace | None = None) -> FastAPI:
    """The application. With ``ws``, it serves that open workspace (the caller closes it);
    without, it opens ``settings.workspace`` at start-up and closes it at shutdown."""

    def serving(workspace: Workspace) -> Server:
        limiter = LoginLimiter(
            settings.login_attempts,
            settings.login_address_attempts,
            settings.login_window.total_seconds(),
        )
        return Server(settings, workspace, SessionCookie(settings), limiter)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if ws is not None:
            yield
            return
        opened = open_workspace(settings.workspace)
        app.state.server = serving(opened)
        try:
            yield
        finally:
            opened.close()

    app = FastAPI(
        title="segport",
        version=__version__,
        description=(
            "Export segments of customer profiles into Brevo contact lists. Errors are "
            "RFC 9457 problem details (`application/problem+json`) whose `code` is stable. "
            "Sign in (`POST /api/v1/session`) for a session cookie, sending the CSRF token "
            "it returns as `X-CSRF-Token` on requests that change something, or send an "
            "API token as `Authorization: Bearer`."
        ),
        openapi_url=OPENAPI_URL,
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN: ours is local
        redoc_url=None,
        lifespan=lifespan,
    )
    if ws is not None:
        app.state.server = serving(ws)
    problems.install(app)
    app.include_router(api.router())
    docs.install(app, OPENAPI_URL, DOCS_URL)
    app.include_router(pages.router())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Outermost last: every response, the Host check's refusals included, gets the headers.
    # The Host check: a page of another site whose name resolves to this address (DNS
    # rebinding) must not reach the server.
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    return app

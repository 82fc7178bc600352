"""The Starlette application: routes, Brevo-shaped error answers, and the gateway."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Scope

from segport.brevo.sandbox import (
    routes_account,
    routes_attributes,
    routes_contacts,
    routes_folders,
    routes_lists,
    routes_segments,
)
from segport.brevo.sandbox.config import SandboxConfig
from segport.brevo.sandbox.errors import ApiProblem, json_response, problem_response
from segport.brevo.sandbox.faults import FaultInjector
from segport.brevo.sandbox.gateway import Gateway, RequestLog
from segport.brevo.sandbox.params import Context
from segport.brevo.sandbox.ratelimit import RateLimiter
from segport.brevo.sandbox.routes_unsupported import unsupported_routes

# Literal /contacts/... paths (segments, folders, lists, attributes) come before
# /contacts/{identifier}, which would otherwise take them for a contact.
IMPLEMENTED = [
    *routes_account.routes,
    *routes_attributes.routes,
    *routes_folders.routes,
    *routes_segments.routes,
    *routes_lists.routes,
    *routes_contacts.routes,
]
ROUTES = [*IMPLEMENTED, *unsupported_routes(IMPLEMENTED)]


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return problem_response(exc)


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return json_response(
            {"code": "method_not_allowed", "message": f"{request.method} is not allowed here"},
            405,
        )
    if exc.status_code == 404:
        return json_response(
            {"code": "document_not_found", "message": f"No route for {request.url.path}"}, 404
        )
    return json_response({"code": "bad_request", "message": str(exc.detail)}, exc.status_code)


def build_app(
    config: SandboxConfig,
    context: Context,
    log: RequestLog,
    drop_connection: Callable[[Scope], None],
) -> ASGIApp:
    app = Starlette(
        routes=ROUTES,
        exception_handlers={ApiProblem: _on_problem, HTTPException: _on_http},
    )
    app.state.sandbox = context
    limiter = RateLimiter() if config.rate_limits == "brevo" else None
    return Gateway(
        app,
        api_keys=config.api_keys,
        limiter=limiter,
        faults=FaultInjector(config.faults, config.seed),
        log=log,
        drop_connection=drop_connection,
    )

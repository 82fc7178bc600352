"""Routes: a clear `501 not_supported` for every real Brevo endpoint the sandbox lacks.

Without them such a call would get a 404 "no route", a 405, or worse be taken for
another endpoint (`/contacts/{identifier}`). The endpoints come from the spec, through
the generated `spec_endpoints` module (no YAML parsing at start).

Why 501 and `not_supported`: 501 is HTTP's "the server does not support the
functionality"; the code is not one of Brevo's (its errorModel has none for this), so a
client can never mistake the answer for something the real Brevo said.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from segport.brevo.sandbox.errors import json_response
from segport.brevo.sandbox.spec_endpoints import BREVO_ENDPOINTS

NOT_SUPPORTED_STATUS = 501
NOT_SUPPORTED_CODE = "not_supported"
_PARAM = re.compile(r"\{[^}]*\}")


def not_supported_message(method: str, spec_path: str) -> str:
    return (
        f"{method} {spec_path} is a real Brevo endpoint that the segport sandbox does not support"
    )


def _shape(path: str) -> str:
    """The path with its parameters unnamed: `/contacts/{identifier}` → `/contacts/{}`."""
    return _PARAM.sub("{}", path)


def _literals_first(endpoint: tuple[str, str]) -> list[bool]:
    """Sort key: at each segment a literal comes before a parameter, so that
    `/whatsappCampaigns/template-list` is not taken for `/whatsappCampaigns/{campaignId}`."""
    return [segment.startswith("{") for segment in endpoint[1].split("/")]


def implemented(routes: Iterable[BaseRoute]) -> set[tuple[str, str]]:
    """(METHOD, path shape after /v3) of every implemented route."""
    out: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Route) and route.path.startswith("/v3/"):
            for method in route.methods or ():
                out.add((method, _shape(route.path.removeprefix("/v3"))))
    return out


def _answer(method: str, spec_path: str) -> Route:
    body = {"code": NOT_SUPPORTED_CODE, "message": not_supported_message(method, spec_path)}

    async def not_supported(request: Request) -> Response:
        return json_response(body, NOT_SUPPORTED_STATUS)

    return Route(f"/v3{spec_path}", not_supported, methods=[method])


def unsupported_routes(routes: Iterable[BaseRoute]) -> list[Route]:
    """A not_supported route for each spec endpoint that `routes` do not implement.

    Put them after the implemented routes: Starlette takes the first route that matches
    path and method, and keeps looking past one that matches the path only, so a literal
    spec path (`POST /contacts/export`) still reaches its answer here.
    """
    done = implemented(routes)
    out: list[Route] = []
    for method, path in sorted(BREVO_ENDPOINTS, key=_literals_first):
        key = (method, _shape(path))
        if key not in done:
            # (the spec has a few paths twice under two parameter names, e.g.
            # /smtp/emailStatus/{batchId} and /{messageId}: the first one answers)
            done.add(key)
            out.append(_answer(method, path))
    return out

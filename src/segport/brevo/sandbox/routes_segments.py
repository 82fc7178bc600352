"""Route: contact segments. The sandbox has none: every page is empty, but correctly shaped
and its `limit`, `offset` and `sort` are checked as Brevo checks them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segport.brevo.sandbox.errors import json_response
from segport.brevo.sandbox.params import query_int, query_sort


async def get_segments(request: Request) -> Response:
    # SPEC marks limit and offset required but gives defaults, and PY5 sends them only
    # when asked: the sandbox takes the defaults (10 and 0).
    query_int(request, "limit", 10, 0, 50)
    query_int(request, "offset", 0)
    query_sort(request)
    return json_response({"segments": [], "count": 0})


routes = [Route("/v3/contacts/segments", get_segments, methods=["GET"])]

"""Routes: account, background processes and import reports."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segport.brevo.sandbox.errors import ApiProblem, bad_request, json_response
from segport.brevo.sandbox.params import ctx, path_int, query_int, query_sort
from segport.brevo.sandbox.records import REPORT_KINDS

_ACCOUNT: dict[str, Any] = {
    "organization_id": "sandbox-organization",
    "user_id": 1,
    "enterprise": False,
    "email": "sandbox@segport.invalid",
    "firstName": "Sandbox",
    "lastName": "Account",
    "companyName": "segport sandbox",
    "address": {
        "street": "1 Loopback Road",
        "city": "Localhost",
        "zipCode": "127",
        "country": "FR",
    },
    "plan": [{"type": "free", "creditsType": "sendLimit", "credits": 300.0}],
    "relay": {"enabled": False, "data": {"userName": "", "relay": "", "port": 587}},
    "marketingAutomation": {"enabled": False},
}


def base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


async def get_account(request: Request) -> Response:
    return json_response(_ACCOUNT)


async def get_processes(request: Request) -> Response:
    limit = query_int(request, "limit", 10, 0, 50)
    offset = query_int(request, "offset", 0)
    sort = query_sort(request)
    state = ctx(request).state
    base = base_url(request)
    with state.lock:
        procs = sorted(state.processes.values(), key=lambda p: p.id, reverse=sort == "desc")
        items = [p.to_api(base) for p in procs[offset : offset + limit]]
        return json_response({"processes": items, "count": len(procs)})


async def get_process(request: Request) -> Response:
    raw = request.path_params["processId"]
    if not raw.isdigit():
        raise bad_request(f"processId should be an integer, got {raw!r}")
    state = ctx(request).state
    with state.lock:
        proc = state.processes.get(int(raw))
        if proc is None:
            raise ApiProblem(404, "invalid_parameter", "processId is invalid")
        return json_response(proc.to_api(base_url(request)))


async def get_report(request: Request) -> Response:
    """The CSV behind an `info.import` link (public, like Brevo's signed report URLs)."""
    kind = request.path_params["kind"]
    pid = path_int(request, "processId")
    state = ctx(request).state
    with state.lock:
        proc = state.processes.get(pid)
        text = proc.reports.get(kind) if proc is not None and kind in REPORT_KINDS else None
    if text is None:
        return Response("Not Found", status_code=404, media_type="text/plain")
    return Response(text, media_type="text/csv; charset=utf-8")


routes = [
    Route("/v3/account", get_account, methods=["GET"]),
    Route("/v3/processes", get_processes, methods=["GET"]),
    Route("/v3/processes/{processId}", get_process, methods=["GET"]),
    Route("/reports/{processId}/{kind}.csv", get_report, methods=["GET"]),
]

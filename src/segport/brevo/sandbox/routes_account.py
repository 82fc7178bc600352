"""Routes: account, contact attributes, background processes and import reports."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segport.brevo.sandbox.errors import ApiProblem, bad_request, json_response
from segport.brevo.sandbox.params import ctx, json_body, path_int, query_int, query_sort
from segport.brevo.sandbox.records import REPORT_KINDS, Attribute

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

_CATEGORIES = ("normal", "transactional", "category", "calculated", "global")
_NORMAL_TYPES = ("text", "date", "float", "boolean", "multiple-choice")
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,49}")


def base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


async def get_account(request: Request) -> Response:
    return json_response(_ACCOUNT)


async def get_attributes(request: Request) -> Response:
    state = ctx(request).state
    with state.lock:
        return json_response({"attributes": [a.to_api() for a in state.attributes.values()]})


async def create_attribute(request: Request) -> Response:
    category = request.path_params["category"]
    name = request.path_params["name"]
    body, _ = await json_body(request)
    if category not in _CATEGORIES:
        raise bad_request(f"attributeCategory should be one of {', '.join(_CATEGORIES)}")
    if not _NAME_RE.fullmatch(name):
        raise bad_request(
            f"attributeName {name!r}: use letters, digits, _ and -, starting with a letter"
        )
    attr_type = body.get("type")
    enumeration = body.get("enumeration")
    options = body.get("multiCategoryOptions")
    value = body.get("value")
    if category == "normal":
        if attr_type not in _NORMAL_TYPES:
            raise bad_request(f"type should be one of {', '.join(_NORMAL_TYPES)} for normal")
        if attr_type == "multiple-choice" and (
            not isinstance(options, list) or not all(isinstance(o, str) for o in options)
        ):
            raise bad_request("multiCategoryOptions is required for a multiple-choice attribute")
    elif category == "category":
        if not isinstance(enumeration, list) or not enumeration:
            raise bad_request("enumeration is required for a category attribute")
        for item in enumeration:
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("value"), int)
                or not isinstance(item.get("label"), str)
            ):
                raise bad_request("enumeration items should be {value: integer, label: string}")
    elif category in ("calculated", "global"):
        if not isinstance(value, str) or not value:
            raise bad_request(f"value is required for a {category} attribute", "missing_parameter")
    elif category == "transactional":
        attr_type = attr_type or "float"
    state = ctx(request).state
    with state.lock:
        key = name.upper()
        if key in state.attributes:
            raise bad_request(f"Attribute name {key} already exists")
        state.attributes[key] = Attribute(
            name=key,
            category=category,
            type=attr_type if category != "calculated" else (attr_type or "float"),
            enumeration=enumeration if category == "category" else None,
            multi_category_options=options if attr_type == "multiple-choice" else None,
            calculated_value=value if category in ("calculated", "global") else None,
        )
    return Response(status_code=201)


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
    Route("/v3/contacts/attributes", get_attributes, methods=["GET"]),
    Route("/v3/contacts/attributes/{category}/{name}", create_attribute, methods=["POST"]),
    Route("/v3/processes", get_processes, methods=["GET"]),
    Route("/v3/processes/{processId}", get_process, methods=["GET"]),
    Route("/reports/{processId}/{kind}.csv", get_report, methods=["GET"]),
]

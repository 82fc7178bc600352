"""docs/sandbox.md's Contacts endpoints table matches the spec and the sandbox, and every
real Brevo endpoint answers: as implemented, or with the clear `501 not_supported` error.

The spec is read with test_spec_schema.load_spec (SEGPORT_BREVO_SPEC may point at another
copy); every request goes to a sandbox on loopback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Match, Route
from tests.integration.sandbox.test_spec_schema import load_spec

from segport.brevo.sandbox import SandboxServer
from segport.brevo.sandbox.app import IMPLEMENTED, ROUTES
from segport.brevo.sandbox.routes_unsupported import implemented, not_supported_message

DOC = Path(__file__).resolve().parents[3] / "docs" / "sandbox.md"
METHODS = ("get", "post", "put", "patch", "delete")
STATUSES = ("implemented", "deliberately different", "not supported")

# A value for each path parameter that makes the request reach its handler.
SAMPLES = {
    "identifier": "nobody@example.com",
    "attributeCategory": "normal",
    "attributeName": "NO_SUCH_ATTRIBUTE",
    "email": "nobody@example.com",
}
_ROW = re.compile(r"^\| `([A-Z]+)` \| `([^`]+)` \| ([a-z ]+) \|")


def doc_table() -> dict[tuple[str, str], str]:
    """(METHOD, path) → status, from the table under '## Contacts endpoints'."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Contacts endpoints", 1)[1].split("\n## ", 1)[0]
    rows: dict[tuple[str, str], str] = {}
    for line in section.splitlines():
        m = _ROW.match(line)
        if m is None:
            continue
        key = (m[1], m[2])
        assert key not in rows, f"{m[1]} {m[2]} is twice in the table"
        assert m[3] in STATUSES, f"{m[1]} {m[2]}: status {m[3]!r} is not one of {STATUSES}"
        rows[key] = m[3]
    assert rows, "no rows found under '## Contacts endpoints' in docs/sandbox.md"
    return rows


def spec_operations(tag: str | None = None) -> list[tuple[str, str]]:
    spec = load_spec()
    return [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method in METHODS and (tag is None or tag in operation.get("tags", []))
    ]


def shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def concrete(path: str) -> str:
    return re.sub(r"\{([^}]*)\}", lambda m: SAMPLES.get(m[1], "1"), path)


def call(api: httpx.Client, method: str, path: str) -> httpx.Response:
    body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
    return api.request(method, concrete(path), json=body)


def is_not_supported(response: httpx.Response, method: str, path: str) -> bool:
    # The spec has a few paths twice under two parameter names (/smtp/emailStatus/{batchId}
    # and /{messageId}); the answer names one of them.
    twins = [p for m, p in spec_operations() if m == method and shape(p) == shape(path)]
    return response.status_code == 501 and response.json() in [
        {"code": "not_supported", "message": not_supported_message(method, twin)} for twin in twins
    ]


def reached_a_handler(response: httpx.Response) -> bool:
    """Not the router's 404 (no route) or 405, and not the not_supported answer."""
    if response.status_code in (405, 501):
        return False
    if response.status_code == 404:
        return not response.json().get("message", "").startswith("No route for")
    return True


@pytest.fixture
def api(sandbox: SandboxServer) -> Any:
    with httpx.Client(base_url=sandbox.base_url, headers={"api-key": sandbox.api_key}) as c:
        yield c


def test_the_table_lists_every_contacts_operation_and_nothing_else() -> None:
    table = set(doc_table())
    spec = set(spec_operations("Contacts"))
    assert not spec - table, f"Contacts operations missing from the table: {sorted(spec - table)}"
    assert not table - spec, f"rows that are not Contacts operations: {sorted(table - spec)}"


def test_the_table_agrees_with_the_routes() -> None:
    routes = implemented(IMPLEMENTED)
    for (method, path), status in doc_table().items():
        has_route = (method, shape(path)) in routes
        if status == "not supported":
            assert not has_route, f"{method} {path} has a route but is marked not supported"
        else:
            assert has_route, f"{method} {path} is marked {status} but has no route"


def test_every_contacts_operation_answers_as_the_table_says(api: httpx.Client) -> None:
    table = doc_table()
    for method, path in spec_operations("Contacts"):
        response = call(api, method, path)
        status = table[(method, path)]
        if status == "not supported":
            assert is_not_supported(response, method, path), (
                f"{method} {path} ({status}) answered {response.status_code} {response.text}"
            )
        else:
            assert reached_a_handler(response), (
                f"{method} {path} ({status}) answered {response.status_code} {response.text}"
            )


def test_every_brevo_endpoint_answers_as_implemented_or_not_supported(
    api: httpx.Client,
) -> None:
    routes = implemented(IMPLEMENTED)
    counted = {"implemented": 0, "not supported": 0}
    for method, path in spec_operations():
        response = call(api, method, path)
        if (method, shape(path)) in routes:
            counted["implemented"] += 1
            assert reached_a_handler(response), (
                f"{method} {path} is implemented but answered {response.status_code} "
                f"{response.text}"
            )
        else:
            counted["not supported"] += 1
            assert is_not_supported(response, method, path), (
                f"{method} {path} answered {response.status_code} {response.text}"
            )
    assert counted["implemented"] >= 20 and counted["not supported"] >= 150, counted


def test_each_endpoint_reaches_its_own_route() -> None:
    """Route order: `GET /contacts/segments` is not taken for `/contacts/{identifier}`, nor
    `/whatsappCampaigns/template-list` for `/whatsappCampaigns/{campaignId}`."""
    for method, path in spec_operations():
        scope = {"type": "http", "method": method, "path": "/v3" + concrete(path)}
        first = next(r for r in ROUTES if r.matches(scope)[0] == Match.FULL)
        assert isinstance(first, Route)
        assert shape(first.path) == shape("/v3" + path), (
            f"{method} {path} is answered by the route {first.path}"
        )


def test_paths_brevo_does_not_have_still_answer_404_or_405(api: httpx.Client) -> None:
    missing = api.get("/no/such/endpoint")
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "document_not_found",
        "message": "No route for /v3/no/such/endpoint",
    }
    wrong_method = api.patch("/contacts/lists", json={})
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"


def test_not_supported_needs_the_api_key(sandbox: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox.base_url) as anonymous:
        response = anonymous.post("/contacts/export", json={})
    assert response.status_code == 401

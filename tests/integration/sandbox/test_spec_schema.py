"""The sandbox's answers match the response schemas of Brevo's official spec (Swagger 2.0).

The spec is the repository's copy, `tests/data/brevo/swagger.yaml` (its README says where
it came from and how to refresh it); SEGPORT_BREVO_SPEC points the test at another copy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft4Validator

from segport.brevo.sandbox import SandboxServer

SPEC = Path(__file__).resolve().parents[2] / "data" / "brevo" / "swagger.yaml"


def spec_path() -> Path:
    override = os.environ.get("SEGPORT_BREVO_SPEC")
    return Path(override) if override else SPEC


@cache
def load_spec() -> dict[str, Any]:
    path = spec_path()
    # A missing copy is a broken checkout (or a wrong override), not a reason to skip.
    assert path.is_file(), f"Brevo spec not found at {path} (see tests/data/brevo/README.md)"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as f:
        spec: dict[str, Any] = yaml.load(f, Loader=loader)
    return spec


def _template(spec: dict[str, Any], path: str) -> str:
    """The spec path (`/contacts/lists/{listId}`) that a concrete path matches."""
    candidates = []
    for template in spec["paths"]:
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            candidates.append(template)
    assert candidates, f"{path} is not in the spec"
    return min(candidates, key=lambda t: t.count("{"))  # literal segments win


def check(spec: dict[str, Any], response: httpx.Response) -> None:
    path = response.request.url.path.removeprefix("/v3")
    method = response.request.method.lower()
    operation = spec["paths"][_template(spec, path)][method]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, (
        f"{method.upper()} {path} answered {response.status_code}, which the spec does not list"
    )
    schema = documented.get("schema")
    if schema is None:
        assert response.content == b"", f"{method.upper()} {path}: expected an empty body"
        return
    validator = Draft4Validator({**schema, "definitions": spec["definitions"]})
    errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.path))
    assert not errors, f"{method.upper()} {path} {response.status_code}: " + "; ".join(
        f"{list(e.path)}: {e.message}" for e in errors[:5]
    )


@contextmanager
def recording_client(
    sandbox: SandboxServer,
) -> Iterator[tuple[httpx.Client, list[httpx.Response]]]:
    """A client of ``sandbox`` with its key, and every response it got (read), in order."""
    seen: list[httpx.Response] = []

    def keep(response: httpx.Response) -> None:
        response.read()
        seen.append(response)

    with httpx.Client(
        base_url=sandbox.base_url,
        headers={"api-key": sandbox.api_key},
        event_hooks={"response": [keep]},
    ) as api:
        yield api, seen


def test_answers_match_the_spec(sandbox: SandboxServer) -> None:
    spec = load_spec()
    with recording_client(sandbox) as (api, seen):
        api.get("/account")
        api.get("/contacts/attributes")
        api.post("/contacts/attributes/normal/LOYALTY", json={"type": "float"})
        api.post("/contacts/attributes/normal/LOYALTY", json={"type": "float"})  # 400
        folder = api.post("/contacts/folders", json={"name": "F"}).json()["id"]
        api.post("/contacts/folders", json={})  # 400
        api.get("/contacts/folders")
        list_id = api.post("/contacts/lists", json={"name": "L", "folderId": folder}).json()["id"]
        api.post("/contacts/lists", json={"name": "L"})  # 400
        api.get("/contacts/lists")
        api.get(f"/contacts/lists/{list_id}")
        api.get("/contacts/lists/9999")  # 404
        api.put(f"/contacts/lists/{list_id}", json={"name": "L2"})
        pid = api.post(
            "/contacts/import",
            json={
                "listIds": [list_id],
                "fileBody": "EMAIL;FIRSTNAME;SMS\na@example.com;A;+33612345678\nbad;B;\n",
            },
        ).json()["processId"]
        api.post("/contacts/import", json={"listIds": [list_id]})  # 400
        sandbox.state.wait_idle()
        api.get(f"/processes/{pid}")
        api.get("/processes/9999")  # 404
        api.get("/processes")
        api.get(f"/contacts/lists/{list_id}/contacts")
        api.get("/contacts/lists/9999/contacts")  # 404
        api.post("/contacts", json={"email": "b@example.com", "attributes": {"FIRSTNAME": "B"}})
        api.post("/contacts", json={"email": "b@example.com", "updateEnabled": True})  # 204
        api.post("/contacts", json={"email": "b@example.com"})  # 400 duplicate
        api.post(f"/contacts/lists/{list_id}/contacts/add", json={"emails": ["b@example.com"]})
        api.post(f"/contacts/lists/{list_id}/contacts/add", json={"emails": ["b@example.com"]})
        api.post(f"/contacts/lists/{list_id}/contacts/remove", json={"emails": ["b@example.com"]})
        api.post(f"/contacts/lists/{list_id}/contacts/remove", json={"all": True})
        api.get("/contacts")
        api.get("/contacts/a@example.com")
        api.get("/contacts/nobody@example.com")  # 404
        api.put("/contacts/a@example.com", json={"attributes": {"FIRSTNAME": "Ann"}})
        api.put("/contacts/a@example.com", json={"attributes": {"SMS": "06"}})  # 400
        api.delete("/contacts/b@example.com")
        api.delete(f"/contacts/lists/{list_id}")
    statuses = {(r.request.method, r.status_code) for r in seen}
    assert {("GET", 200), ("POST", 201), ("POST", 202), ("POST", 204), ("DELETE", 204)} <= statuses
    assert {("GET", 404), ("POST", 400), ("PUT", 400)} <= statuses
    for response in seen:
        check(spec, response)


def test_the_check_catches_a_wrong_answer() -> None:
    spec = load_spec()
    request = httpx.Request("GET", "http://127.0.0.1/v3/processes/3")
    wrong = httpx.Response(200, json={"id": "3", "status": "done"}, request=request)
    with pytest.raises(AssertionError, match="name"):
        check(spec, wrong)
    undocumented = httpx.Response(418, json={}, request=request)
    with pytest.raises(AssertionError, match="does not list"):
        check(spec, undocumented)

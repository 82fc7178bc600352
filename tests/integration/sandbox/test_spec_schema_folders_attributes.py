"""The folder, attribute-change and segment answers match the spec's response schemas
(the same check as test_spec_schema.py, over the endpoints added since)."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from tests.integration.sandbox.test_spec_schema import check, load_spec, recording_client

from segport.brevo.sandbox import SandboxServer


def spec_with_segments_as_an_array() -> dict[str, Any]:
    """The spec, with one known error fixed: it declares getSegments.segments as a single
    object, where brevo-python (and Brevo's answers) have an array of them."""
    spec = copy.deepcopy(load_spec())
    segments = spec["definitions"]["getSegments"]["properties"]["segments"]
    assert segments == {"$ref": "#/definitions/getSegments_segments"}, (
        "the spec's getSegments changed: drop this fix if it is an array now"
    )
    spec["definitions"]["getSegments"]["properties"]["segments"] = {
        "type": "array",
        "items": segments,
    }
    return spec


def test_answers_match_the_spec(sandbox: SandboxServer) -> None:
    spec = spec_with_segments_as_an_array()
    with recording_client(sandbox) as (api, seen):
        folder = api.post("/contacts/folders", json={"name": "F"}).json()["id"]
        list_id = api.post("/contacts/lists", json={"name": "L", "folderId": folder}).json()["id"]
        sandbox.state.upsert_contact("a@example.com", list_ids=[list_id])
        api.get(f"/contacts/folders/{folder}")
        api.get("/contacts/folders/9999")  # 404
        api.get("/contacts/folders/nine")  # 400
        api.put(f"/contacts/folders/{folder}", json={"name": "F2"})  # 204
        api.put(f"/contacts/folders/{folder}", json={})  # 400
        api.put("/contacts/folders/9999", json={"name": "x"})  # 404
        api.get(f"/contacts/folders/{folder}/lists")
        api.get(f"/contacts/folders/{folder}/lists", params={"limit": 51})  # 400
        api.get("/contacts/folders/9999/lists")  # 404
        api.put(f"/contacts/lists/{list_id}", json={"folderId": 9999})  # 404
        api.post(
            "/contacts/attributes/category/TIER", json={"enumeration": [{"value": 1, "label": "A"}]}
        )
        api.put(
            "/contacts/attributes/category/TIER", json={"enumeration": [{"value": 2, "label": "B"}]}
        )
        api.put("/contacts/attributes/category/TIER", json={"value": "x"})  # 400
        api.put("/contacts/attributes/global/NOPE", json={"value": "x"})  # 404
        api.get("/contacts/attributes")
        api.delete("/contacts/attributes/category/TIER")  # 204
        api.delete("/contacts/attributes/category/TIER")  # 404
        api.delete("/contacts/attributes/normal/SMS")  # 400
        api.get("/contacts/segments")
        api.get("/contacts/segments", params={"limit": 10, "offset": 0, "sort": "asc"})
        api.get("/contacts/segments", params={"sort": "up"})  # 400
        api.delete(f"/contacts/folders/{folder}")  # 204
        api.delete(f"/contacts/folders/{folder}")  # 404
    statuses = {(r.request.method, r.status_code) for r in seen}
    assert {("GET", 200), ("PUT", 204), ("DELETE", 204)} <= statuses
    assert {("GET", 400), ("GET", 404), ("PUT", 400), ("PUT", 404), ("DELETE", 404)} <= statuses
    for response in seen:
        check(spec, response)


def test_the_segments_fix_is_needed() -> None:
    """An empty page fails the unfixed spec: the fix above is there for a reason."""
    request = httpx.Request("GET", "http://127.0.0.1/v3/contacts/segments")
    answer = httpx.Response(200, json={"segments": [], "count": 0}, request=request)
    with pytest.raises(AssertionError, match="segments"):
        check(load_spec(), answer)
    check(spec_with_segments_as_an_array(), answer)

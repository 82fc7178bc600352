"""The segments resource: the list with members and state, create (expression, document,
combination), one segment, change and rename, activate/deactivate, count, preview, a
draft counted without saving, delete; refusals by role, and bad input answered with the
service's code and the field at fault.

The module's server has profiles 1-5 (all tier gold) and a segment `gold` that the
exports `news` and `vip` use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.fixtures.server import Web
from tests.integration.server.api_helpers import problem

BASE = "/api/v1/segments"


@pytest.fixture
def as_user(web: Web) -> Iterator[Any]:
    made: list[httpx.Client] = []

    def client(user: str) -> httpx.Client:
        made.append(web.bearer(user))
        return made[-1]

    yield client
    for c in made:
        c.close()


def _create(client: httpx.Client, name: str, **definition: Any) -> dict[str, Any]:
    answer = client.post(BASE, json={"name": name, **definition})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_list_shows_members_and_state_to_every_role(as_user: Any) -> None:
    with as_user("admin") as admin:
        assert admin.get(f"{BASE}/gold/count").json() == {"name": "gold", "member_count": 5}
    page = as_user("victor").get(BASE, params={"limit": 1})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["limit"] == 1 and body["offset"] == 0 and body["total"] >= 1
    first = body["items"][0]
    assert set(first) >= {"name", "state", "member_count", "kind", "expression"}
    names = {
        s["name"]: s for s in as_user("victor").get(BASE, params={"limit": 500}).json()["items"]
    }
    assert names["gold"]["state"] == "active" and names["gold"]["member_count"] == 5
    assert names["gold"]["expression"] == "tier = 'gold'"
    refreshed = as_user("victor").get(BASE, params={"refresh": "true", "limit": 500}).json()
    assert {s["name"]: s["member_count"] for s in refreshed["items"]}["gold"] == 5


def test_without_credentials_nothing_is_shown(web: Web) -> None:
    with web.client() as anonymous:
        problem(anonymous.get(BASE), 401, "authentication_required")
        problem(
            anonymous.post(BASE, json={"name": "x", "where": "tier = 'gold'"}),
            401,
            "authentication_required",
        )


def test_one_segment_names_its_exports(as_user: Any) -> None:
    gold = as_user("victor").get(f"{BASE}/gold").json()
    assert gold["kind"] == "rule" and gold["exports"] == ["news", "vip"]
    assert gold["definition"] == {"attribute": "tier", "operator": "equals", "value": "gold"}
    problem(as_user("victor").get(f"{BASE}/nosuch"), 404, "segment_not_found")


def test_a_contributor_creates_by_expression_document_and_combination(as_user: Any) -> None:
    carol = as_user("carol")
    high = _create(carol, "api-high", where="customer_id > 3", description="the last two")
    assert high["kind"] == "rule" and high["state"] == "active" and high["created_by"] == "carol"
    assert high["description"] == "the last two"
    doc = {
        "any": [
            {"attribute": "customer_id", "operator": "equals", "value": 1},
            {"attribute": "email", "operator": "ends_with", "value": "2@example.com"},
        ]
    }
    low = _create(carol, "api-low", rule=doc)
    assert low["expression"] == "customer_id = 1 or email ends with '2@example.com'"
    both = _create(carol, "api-both", combine="api-high union api-low")
    assert both["kind"] == "combination" and both["uses"] == ["api-high", "api-low"]
    assert carol.get(f"{BASE}/api-both/count").json()["member_count"] == 4
    assert carol.get(f"{BASE}/api-high").json()["used_by"] == ["api-both"]


def test_a_viewer_may_not_write(as_user: Any) -> None:
    victor = as_user("victor")
    problem(
        victor.post(BASE, json={"name": "v1", "where": "tier = 'gold'"}), 403, "permission_denied"
    )
    problem(victor.patch(f"{BASE}/gold", json={"description": "x"}), 403, "permission_denied")
    problem(victor.put(f"{BASE}/gold/state", json={"state": "inactive"}), 403, "permission_denied")
    problem(victor.delete(f"{BASE}/gold"), 403, "permission_denied")
    # reading is allowed, a draft's count included
    assert victor.post(f"{BASE}/count", json={"where": "customer_id <= 2"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"name": "bad name!", "where": "tier = 'gold'"}, 422, "name_invalid", "name"),
        ({"name": "union", "where": "tier = 'gold'"}, 422, "name_invalid", "name"),
        ({"name": "gold", "where": "tier = 'gold'"}, 422, "segment_exists", "name"),
        ({"name": "b1", "where": "colour = 'red'"}, 422, "rule_invalid", "where"),
        ({"name": "b2", "where": "tier = "}, 422, "rule_invalid", "where"),
        ({"name": "b3", "where": "customer_id = 'one'"}, 422, "rule_invalid", "where"),
        ({"name": "b4", "rule": {"all": []}}, 422, "rule_invalid", "rule"),
        (
            {"name": "b5", "rule": {"attribute": "tier", "operator": "equal"}},
            422,
            "rule_invalid",
            "rule",
        ),
        ({"name": "b6", "combine": "gold union"}, 422, "rule_invalid", "combine"),
        ({"name": "b7", "combine": "gold union nosuch"}, 404, "segment_not_found", "combine"),
        ({"name": "b8"}, 422, "rule_required", "rule"),
        (
            {"name": "b9", "where": "tier = 'gold'", "combine": "gold"},
            422,
            "rule_required",
            "rule",
        ),
        ({"where": "tier = 'gold'"}, 422, "request_invalid", "name"),
        ({"name": "b10", "where": 5}, 422, "request_invalid", "where"),
    ],
)
def test_bad_input_names_the_field(
    as_user: Any, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    answer = problem(as_user("carol").post(BASE, json=body), status, code)
    assert answer["field"] == field
    if body.get("name", "").startswith("b"):  # nothing was saved
        problem(as_user("carol").get(f"{BASE}/{body['name']}"), 404, "segment_not_found")


def test_change_rename_and_state(as_user: Any) -> None:
    carol = as_user("carol")
    _create(carol, "api-edit", where="customer_id = 1")
    changed = carol.patch(f"{BASE}/api-edit", json={"where": "customer_id <= 2"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["expression"] == "customer_id <= 2"
    assert changed.json()["member_count"] is None  # counted again when asked
    assert carol.get(f"{BASE}/api-edit/count").json()["member_count"] == 2
    renamed = carol.patch(f"{BASE}/api-edit", json={"new_name": "api-edited", "description": "d"})
    assert renamed.json()["name"] == "api-edited" and renamed.json()["description"] == "d"
    problem(carol.get(f"{BASE}/api-edit"), 404, "segment_not_found")
    off = carol.put(f"{BASE}/api-edited/state", json={"state": "inactive"})
    assert off.status_code == 200 and off.json()["state"] == "inactive"
    on = carol.put(f"{BASE}/api-edited/state", json={"state": "active"})
    assert on.json()["state"] == "active"
    problem(carol.put(f"{BASE}/api-edited/state", json={"state": "off"}), 422, "request_invalid")
    body = problem(carol.patch(f"{BASE}/api-edited", json={}), 422, "nothing_to_change")
    assert body["field"] == "rule"
    body = problem(
        carol.patch(f"{BASE}/api-edited", json={"new_name": "gold"}), 422, "segment_exists"
    )
    assert body["field"] == "new_name"
    body = problem(
        carol.patch(f"{BASE}/api-edited", json={"where": "nope > 1"}), 422, "rule_invalid"
    )
    assert body["field"] == "where" and "nope" in body["detail"]
    problem(carol.patch(f"{BASE}/nosuch", json={"description": "x"}), 404, "segment_not_found")
    # a rename with a new definition: a refusal of either changes nothing
    both = {"new_name": "gold", "where": "customer_id = 5"}
    problem(carol.patch(f"{BASE}/api-edited", json=both), 422, "segment_exists")
    both = {"new_name": "api-renamed", "where": "nope = 5"}
    problem(carol.patch(f"{BASE}/api-edited", json=both), 422, "rule_invalid")
    kept = carol.get(f"{BASE}/api-edited").json()
    assert kept["expression"] == "customer_id <= 2"
    both = {"new_name": "api-renamed", "where": "customer_id = 5"}
    assert carol.patch(f"{BASE}/api-edited", json=both).json()["expression"] == "customer_id = 5"
    assert carol.get(f"{BASE}/api-renamed/count").json()["member_count"] == 1


def test_a_segment_in_use_is_not_renamed_or_deleted(as_user: Any) -> None:
    admin = as_user("admin")
    body = problem(admin.patch(f"{BASE}/gold", json={"new_name": "golden"}), 409, "segment_in_use")
    assert body["details"] == {"exports": ["news", "vip"]}
    body = problem(admin.delete(f"{BASE}/gold"), 409, "segment_in_use")
    assert body["details"] == {"exports": ["news", "vip"]}
    _create(admin, "api-part", where="customer_id = 5")
    _create(admin, "api-whole", combine="gold except api-part")
    body = problem(admin.delete(f"{BASE}/api-part"), 409, "segment_in_use")
    assert body["details"] == {"combinations": ["api-whole"]}
    assert admin.delete(f"{BASE}/api-whole").json() == {"name": "api-whole"}
    assert admin.delete(f"{BASE}/api-part").status_code == 200
    problem(admin.get(f"{BASE}/api-part"), 404, "segment_not_found")
    problem(admin.delete(f"{BASE}/api-part"), 404, "segment_not_found")


def test_preview_shows_the_first_members(as_user: Any) -> None:
    victor = as_user("victor")
    rows = victor.get(f"{BASE}/gold/preview", params={"limit": 2}).json()
    assert rows["name"] == "gold" and rows["columns"][0] == "customer_id"
    assert [r["customer_id"] for r in rows["rows"]] == [1, 2]
    assert rows["rows"][0]["email"] == "user1@example.com"
    some = victor.get(f"{BASE}/gold/preview", params={"columns": ["email"], "limit": 1}).json()
    assert some["columns"] == ["customer_id", "email"]
    problem(
        victor.get(f"{BASE}/gold/preview", params={"columns": "colour"}), 422, "profiles_invalid"
    )
    body = problem(victor.get(f"{BASE}/gold/preview", params={"limit": 0}), 422, "request_invalid")
    assert body["field"] == "limit"
    problem(victor.get(f"{BASE}/nosuch/preview"), 404, "segment_not_found")


def test_a_draft_is_counted_and_previewed_without_saving(as_user: Any) -> None:
    carol = as_user("carol")
    before = carol.get(BASE, params={"limit": 500}).json()["total"]
    answer = carol.post(f"{BASE}/count", json={"where": "customer_id >= 4", "limit": 1})
    assert answer.status_code == 200, answer.text
    draft = answer.json()
    assert draft["kind"] == "rule" and draft["member_count"] == 2
    assert draft["expression"] == "customer_id >= 4"
    assert [r["customer_id"] for r in draft["preview"]["rows"]] == [4]
    doc = {"attribute": "tier", "operator": "equals", "value": "silver"}
    none = carol.post(f"{BASE}/count", json={"rule": doc}).json()
    assert none["member_count"] == 0 and none["preview"]["rows"] == []
    combo = carol.post(f"{BASE}/count", json={"combine": "gold except gold"}).json()
    assert combo["kind"] == "combination" and combo["member_count"] == 0
    assert carol.get(BASE, params={"limit": 500}).json()["total"] == before  # nothing saved
    body = problem(carol.post(f"{BASE}/count", json={"where": "tier >"}), 422, "rule_invalid")
    assert body["field"] == "where"
    body = problem(carol.post(f"{BASE}/count", json={}), 422, "rule_required")
    assert body["field"] == "rule"
    body = problem(
        carol.post(f"{BASE}/count", json={"name": "a b", "where": "tier = 'x'"}),
        422,
        "name_invalid",
    )
    assert body["field"] == "name"
    body = problem(
        carol.post(f"{BASE}/count", json={"where": "tier = 'x'", "limit": 101}),
        422,
        "request_invalid",
    )
    assert body["field"] == "limit"


def test_a_draft_under_its_name_is_checked_with_its_combinations(as_user: Any) -> None:
    carol = as_user("carol")
    _create(carol, "api-inner", where="customer_id = 1")
    _create(carol, "api-outer", combine="gold except api-inner")
    # api-inner made a combination that uses api-outer: a cycle, refused like saving it
    body = problem(
        carol.post(f"{BASE}/count", json={"name": "api-inner", "combine": "api-outer"}),
        422,
        "combination_cycle",
    )
    assert body["field"] == "combine"
    ok = carol.post(f"{BASE}/count", json={"name": "api-inner", "where": "customer_id < 3"})
    assert ok.json()["member_count"] == 2


def test_a_browser_session_needs_the_csrf_token(web: Web) -> None:
    client, token = web.signed_in("carol")
    try:
        body = {"name": "api-csrf", "where": "customer_id = 2"}
        problem(client.post(BASE, json=body), 403, "csrf_failed")
        answer = client.post(BASE, json=body, headers={"X-CSRF-Token": token})
        assert answer.status_code == 201, answer.text
        problem(client.delete(f"{BASE}/api-csrf"), 403, "csrf_failed")
    finally:
        client.close()

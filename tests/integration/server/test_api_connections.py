"""The connections resource: listing by role, adding against the Brevo sandbox (and a key
it refuses), a new key, take-over, removal with the exports detached or removed. The API
key is in no answer: every body the tests get is scanned for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.fixtures.sandbox import TEST_API_KEY
from tests.fixtures.server import Web
from tests.integration.server.api_helpers import problem

from segport.service import ExportConfig, ExportMapping, NewList, add_export

BAD_KEY = "xkeysib-not-a-key-the-sandbox-knows-0123456789"
SECRETS = (TEST_API_KEY, BAD_KEY)


class Scanned(httpx.Client):
    """A client that fails the test when an answer carries an API key."""

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        answer = super().send(request, **kwargs)
        answer.read()
        for key in SECRETS:
            assert key not in answer.text, f"{request.method} {request.url} answered the key"
        if answer.headers.get("content-type", "").endswith("json"):
            assert not _keys_named("api_key", answer.json()), answer.text
        return answer


def _keys_named(name: str, data: Any) -> bool:
    if isinstance(data, dict):
        return name in data or any(_keys_named(name, v) for v in data.values())
    if isinstance(data, list):
        return any(_keys_named(name, v) for v in data)
    return False


@pytest.fixture
def as_user(web: Web) -> Iterator[Any]:
    made: list[httpx.Client] = []

    def client(user: str) -> httpx.Client:
        c = Scanned(
            base_url=web.url, timeout=30, headers={"Authorization": f"Bearer {web.tokens[user]}"}
        )
        made.append(c)
        return c

    yield client
    for c in made:
        c.close()


def _new(web: Web, name: str, **changes: Any) -> dict[str, Any]:
    body = {
        "type": "brevo",
        "name": name,
        "api_key": TEST_API_KEY,
        "base_url": web.brevo_url,
        "agree_privacy": True,
        "share_with_contributors": False,
    }
    body.update(changes)
    return body


def test_admins_see_every_connection_in_full(web: Web, as_user: Any) -> None:
    admin = as_user("admin")
    page = admin.get("/api/v1/connections", params={"limit": 500}).json()
    assert page["detailed"] is True and page["total"] == len(page["items"])
    by_name = {c["name"]: c for c in page["items"]}
    shared = by_name["shared"]
    assert shared["shared_with_contributors"] is True and by_name["private"]["exports"] == ["vip"]
    assert shared["account_email"] and shared["base_url"] == web.brevo_url
    one = admin.get("/api/v1/connections/shared").json()
    assert one["exports"] == ["news"] and one["consent_by"] == "admin"
    paged = admin.get("/api/v1/connections", params={"limit": 1, "offset": 1}).json()
    assert len(paged["items"]) == 1 and paged["items"][0] == page["items"][1]
    unknown = problem(admin.get("/api/v1/connections/nope"), 404, "connection_not_found")
    assert "nope" in unknown["detail"]


def test_contributors_see_names_of_shared_ones_and_viewers_nothing(as_user: Any) -> None:
    carol, victor = as_user("carol"), as_user("victor")
    page = carol.get("/api/v1/connections").json()
    assert page["detailed"] is False
    assert {"name": "shared", "type": "brevo"} in page["items"]
    assert "private" not in [c["name"] for c in page["items"]]
    assert all(set(c) == {"name", "type"} for c in page["items"])
    problem(carol.get("/api/v1/connections/shared"), 403, "permission_denied")
    problem(victor.get("/api/v1/connections"), 403, "permission_denied")
    problem(victor.get("/api/v1/connections/shared"), 403, "permission_denied")


@pytest.mark.parametrize("user", ["carol", "victor"])
def test_only_admins_change_connections(web: Web, as_user: Any, user: str) -> None:
    client = as_user(user)
    for answer in (
        client.post("/api/v1/connections", json=_new(web, "mine")),
        client.put("/api/v1/connections/shared/key", json={"api_key": TEST_API_KEY}),
        client.post("/api/v1/connections/shared/take-over"),
        client.delete("/api/v1/connections/shared", params={"exports": "detach"}),
    ):
        problem(answer, 403, "permission_denied")
    shared = as_user("admin").get("/api/v1/connections/shared").json()
    assert shared["export_user"] == "admin" and shared["exports"] == ["news"]
    problem(as_user("admin").get("/api/v1/connections/mine"), 404, "connection_not_found")


def test_add_a_connection_checked_with_the_sandbox(web: Web, as_user: Any) -> None:
    admin = as_user("admin")
    added = admin.post("/api/v1/connections", json=_new(web, "added", share_with_contributors=True))
    assert added.status_code == 201, added.text
    view = added.json()
    assert (view["name"], view["type"], view["export_user"]) == ("added", "brevo", "admin")
    assert view["account_email"] and view["verified_at"] and view["shared_with_contributors"]
    assert {"name": "added", "type": "brevo"} in as_user("carol").get("/api/v1/connections").json()[
        "items"
    ]
    # a name taken: the service's own error (422), nothing changed
    again = problem(
        admin.post("/api/v1/connections", json=_new(web, "added")), 422, "workspace_error"
    )
    assert "already exists" in again["detail"]


def test_consent_and_inputs_are_required(web: Web, as_user: Any) -> None:
    admin = as_user("admin")
    refused = admin.post("/api/v1/connections", json=_new(web, "noconsent", agree_privacy=False))
    assert problem(refused, 422, "consent_required")["field"] == "agree_privacy"
    missing = _new(web, "noconsent")
    del missing["agree_privacy"]
    assert (
        problem(admin.post("/api/v1/connections", json=missing), 422, "request_invalid")["field"]
        == "agree_privacy"
    )
    bad_type = admin.post("/api/v1/connections", json=_new(web, "mailchimp", type="mailchimp"))
    assert problem(bad_type, 422, "connection_type_unknown")["field"] == "type"
    bad_url = admin.post("/api/v1/connections", json=_new(web, "badurl", base_url="ftp://x"))
    assert problem(bad_url, 422, "base_url_invalid")["field"] == "base_url"
    long_key = admin.post("/api/v1/connections", json=_new(web, "long", api_key=TEST_API_KEY * 70))
    assert problem(long_key, 422, "request_invalid")["field"] == "api_key"  # not echoed
    problem(admin.get("/api/v1/connections/noconsent"), 404, "connection_not_found")


def test_a_browser_session_needs_the_csrf_token_to_add_one(web: Web) -> None:
    client, csrf = web.signed_in("admin")
    try:
        refused = client.post("/api/v1/connections", json=_new(web, "by-browser"))
        problem(refused, 403, "csrf_failed")
        added = client.post(
            "/api/v1/connections", json=_new(web, "by-browser"), headers={"X-CSRF-Token": csrf}
        )
        assert added.status_code == 201, added.text
        assert TEST_API_KEY not in added.text
        removed = client.delete("/api/v1/connections/by-browser", headers={"X-CSRF-Token": csrf})
        assert removed.status_code == 200
    finally:
        client.close()


def test_a_key_brevo_refuses_is_not_saved(web: Web, as_user: Any) -> None:
    admin = as_user("admin")
    answer = admin.post("/api/v1/connections", json=_new(web, "badkey", api_key=BAD_KEY))
    body = problem(answer, 502, "api_key_refused")
    assert body["kind"] == "unavailable" and body["field"] == "api_key"
    assert "Brevo said" in body["detail"]  # Brevo's own message, passed on (key scrubbed)
    problem(admin.get("/api/v1/connections/badkey"), 404, "connection_not_found")


def test_a_new_key_is_checked_before_it_replaces_the_old(web: Web, as_user: Any) -> None:
    admin = as_user("admin")
    assert admin.post("/api/v1/connections", json=_new(web, "rekeyed")).status_code == 201
    refused = admin.put("/api/v1/connections/rekeyed/key", json={"api_key": BAD_KEY})
    problem(refused, 502, "api_key_refused")
    new = admin.put("/api/v1/connections/rekeyed/key", json={"api_key": TEST_API_KEY})
    assert new.status_code == 200, new.text
    assert new.json()["key_replaced"] is True
    assert new.json()["changes"] == ["new API key (verified)"]
    problem(
        admin.put("/api/v1/connections/nope/key", json={"api_key": TEST_API_KEY}),
        404,
        "connection_not_found",
    )
    empty = admin.put("/api/v1/connections/rekeyed/key", json={"api_key": ""})
    assert problem(empty, 422, "request_invalid")["field"] == "api_key"


def test_another_admin_takes_a_connection_over(web: Web, as_user: Any) -> None:
    admin = as_user("admin")
    assert admin.post("/api/v1/connections", json=_new(web, "handed")).status_code == 201
    assert admin.post("/api/v1/users", json={"name": "olga", "role": "admin"}).status_code == 201
    token = admin.post("/api/v1/tokens", json={"user": "olga"}).json()["token"]
    with Scanned(base_url=web.url, headers={"Authorization": f"Bearer {token}"}) as olga:
        taken = olga.post("/api/v1/connections/handed/take-over")
        assert taken.status_code == 200, taken.text
        assert taken.json()["export_user"] == "olga"
        assert taken.json()["changes"] == ["export user admin -> olga"]
        problem(olga.post("/api/v1/connections/nope/take-over"), 404, "connection_not_found")
    assert admin.get("/api/v1/connections/handed").json()["export_user"] == "olga"


def _connection_with_export(web: Web, as_user: Any, name: str) -> None:
    assert as_user("admin").post("/api/v1/connections", json=_new(web, name)).status_code == 201
    add_export(
        web.ws,
        web.actor("admin"),
        ExportConfig(
            name=f"{name}-export",
            connection=name,
            list_id=0,
            segments=("gold",),
            mapping=ExportMapping(email="email"),
        ),
        new_list=NewList(f"{name} list"),
    )


def test_remove_a_connection_detaching_or_removing_its_exports(web: Web, as_user: Any) -> None:
    admin = as_user("admin")
    _connection_with_export(web, as_user, "detaching")
    _connection_with_export(web, as_user, "removing")

    in_use = problem(admin.delete("/api/v1/connections/detaching"), 409, "connection_in_use")
    assert "detaching-export" in in_use["detail"]
    bad = admin.delete("/api/v1/connections/detaching", params={"exports": "both"})
    assert problem(bad, 422, "request_invalid")["field"] == "exports"

    detached = admin.delete("/api/v1/connections/detaching", params={"exports": "detach"})
    assert detached.status_code == 200, detached.text
    assert detached.json() == {"name": "detaching", "detached": ["detaching-export"], "removed": []}
    assert admin.get("/api/v1/exports/detaching-export").json()["config"]["connection"] is None

    removed = admin.delete("/api/v1/connections/removing", params={"exports": "remove"})
    assert removed.json() == {"name": "removing", "detached": [], "removed": ["removing-export"]}
    problem(admin.get("/api/v1/exports/removing-export"), 404, "export_not_found")

    problem(admin.get("/api/v1/connections/removing"), 404, "connection_not_found")
    problem(admin.delete("/api/v1/connections/removing"), 404, "connection_not_found")
    assert admin.post("/api/v1/connections", json=_new(web, "unused")).status_code == 201
    plain = admin.delete("/api/v1/connections/unused")
    assert plain.json() == {"name": "unused", "detached": [], "removed": []}

"""The API's resources: exports, runs, requesting and canceling runs, by role; problem
details for every refusal; pagination."""

from __future__ import annotations

import pytest
from tests.fixtures.server import Web
from tests.integration.server.api_helpers import problem


@pytest.mark.parametrize("user", ["admin", "carol", "victor"])
def test_every_role_sees_the_exports_with_its_permissions(web: Web, user: str) -> None:
    with web.bearer(user) as client:
        page = client.get("/api/v1/exports").json()
        one = client.get("/api/v1/exports/vip").json()
    assert page["total"] == 2 and page["offset"] == 0
    names = [e["config"]["name"] for e in page["items"]]
    assert names == ["news", "vip"]
    perms = {e["config"]["name"]: e["permissions"] for e in page["items"]}
    expected = {
        "admin": {"news": ["view", "edit", "run"], "vip": ["view", "edit", "run"]},
        "carol": {"news": ["view", "edit", "run"], "vip": ["view"]},
        "victor": {"news": ["view"], "vip": ["view"]},
    }[user]
    assert perms == expected
    assert one["config"]["connection"] == "private"
    assert one["config"]["mapping"]["email"] == "email"
    assert one["next_firing"]["kind"] == "system"


def test_exports_are_paged(web: Web) -> None:
    with web.bearer("victor") as client:
        second = client.get("/api/v1/exports", params={"limit": 1, "offset": 1}).json()
        past = client.get("/api/v1/exports", params={"limit": 1, "offset": 5}).json()
        bad = client.get("/api/v1/exports", params={"limit": 0})
    assert (second["total"], second["limit"], second["offset"]) == (2, 1, 1)
    assert [e["config"]["name"] for e in second["items"]] == ["vip"]
    assert past["total"] == 2 and past["items"] == []
    body = problem(bad, 422, "request_invalid")
    assert body["field"] == "limit"


def test_an_unknown_export_is_404(web: Web) -> None:
    with web.bearer("victor") as client:
        body = problem(client.get("/api/v1/exports/nope"), 404, "export_not_found")
    assert body["kind"] == "not_found"
    assert "nope" in body["detail"]


def test_a_viewer_may_not_request_a_run(web: Web) -> None:
    with web.bearer("victor") as client:
        body = problem(client.post("/api/v1/exports/news/runs"), 403, "permission_denied")
    assert "viewer" in body["detail"]


def test_a_contributor_may_not_run_an_export_on_an_unshared_connection(web: Web) -> None:
    with web.bearer("carol") as client:
        problem(client.post("/api/v1/exports/vip/runs"), 403, "permission_denied")
        # nothing was queued
        assert client.get("/api/v1/runs", params={"export": "vip"}).json()["total"] == 0


def test_request_list_show_and_cancel_a_run(web: Web) -> None:
    with web.bearer("carol") as carol, web.bearer("victor") as victor:
        queued = carol.post("/api/v1/exports/news/runs", json={"full": True})
        assert queued.status_code == 202, queued.text
        run = queued.json()
        assert (run["status"], run["full"], run["actor"]) == ("queued", True, "carol")

        # a second request while one is queued: 409 run_in_progress (a Busy)
        again = problem(carol.post("/api/v1/exports/news/runs"), 409, "run_in_progress")
        assert again["kind"] == "busy"

        listed = victor.get("/api/v1/runs", params={"export": "news", "status": "queued"}).json()
        assert [r["id"] for r in listed["items"]] == [run["id"]] and listed["total"] == 1
        shown = victor.get(f"/api/v1/runs/{run['id']}").json()
        assert shown["run"]["id"] == run["id"] and shown["files"] == []

        # a viewer may not cancel it
        problem(victor.post(f"/api/v1/runs/{run['id']}/cancel"), 403, "permission_denied")
        canceled = carol.post(f"/api/v1/runs/{run['id']}/cancel")
        assert canceled.status_code == 200
        assert canceled.json()["status"] == "canceled"
        ended = problem(carol.post(f"/api/v1/runs/{run['id']}/cancel"), 409, "run_already_ended")
        assert ended["kind"] == "conflict"
        assert ended["details"] == {"run_id": run["id"], "status": "canceled"}


def test_runs_are_filtered_and_paged(web: Web) -> None:
    with web.bearer("admin") as admin:
        ids = []
        for _ in range(3):
            run = admin.post("/api/v1/exports/vip/runs").json()
            ids.append(run["id"])
            assert admin.post(f"/api/v1/runs/{run['id']}/cancel").status_code == 200
        first = admin.get("/api/v1/runs", params={"export": "vip", "limit": 2}).json()
        rest = admin.get("/api/v1/runs", params={"export": "vip", "limit": 2, "offset": 2}).json()
        queued = admin.get("/api/v1/runs", params={"export": "vip", "status": "queued"}).json()
        unknown_status = admin.get("/api/v1/runs", params={"status": "sleeping"})
        unknown_export = admin.get("/api/v1/runs", params={"export": "nope"})
    assert first["total"] == rest["total"] == 3
    assert [r["id"] for r in first["items"] + rest["items"]] == ids[::-1]  # newest first
    assert queued["total"] == 0
    assert problem(unknown_status, 422, "request_invalid")["field"] == "status"
    problem(unknown_export, 404, "export_not_found")


def test_an_unknown_run_and_a_bad_id(web: Web) -> None:
    with web.bearer("victor") as client:
        problem(client.get("/api/v1/runs/999999"), 404, "run_not_found")
        bad = problem(client.get("/api/v1/runs/abc"), 422, "request_invalid")
    assert bad["field"] == "run_id"


def test_unknown_routes_and_methods_are_problems_too(web: Web) -> None:
    with web.bearer("victor") as client:
        problem(client.get("/api/v1/nothing-here"), 404, "not_found")
        problem(client.put("/api/v1/exports"), 405, "method_not_allowed")


def test_a_role_changed_since_sign_in_applies_at_once(web: Web) -> None:
    from segport.secret import Secret
    from segport.service import actor_named, add_user, remove_user, set_password

    admin = actor_named(web.ws, None)
    add_user(web.ws, admin, "temp", "contributor")
    set_password(web.ws, admin, "temp", Secret("temporary password", scrub=False))
    with web.client() as client:
        signed = client.post(
            "/api/v1/session", json={"name": "temp", "password": "temporary password"}
        )
        assert signed.status_code == 201
        remove_user(web.ws, admin, "temp")
        problem(client.get("/api/v1/me"), 401, "session_invalid")

"""The users, tokens and audit resources: every operation, every refusal by role, the
problem details. Each test makes the users it changes (the module's server is shared)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from tests.fixtures.server import PASSWORDS, Web
from tests.integration.server.api_helpers import problem


def test_an_admin_lists_and_shows_the_users(web: Web) -> None:
    with web.bearer("admin") as admin:
        page = admin.get("/api/v1/users", params={"limit": 500}).json()
        one = admin.get("/api/v1/users/carol").json()
        first = admin.get("/api/v1/users", params={"limit": 1, "offset": 0}).json()
        unknown = admin.get("/api/v1/users/nobody")
        bad = admin.get("/api/v1/users", params={"offset": -1})
    roles = {u["name"]: u["role"] for u in page["items"]}
    assert {"admin": "admin", "carol": "contributor", "victor": "viewer"}.items() <= roles.items()
    assert page["total"] == len(page["items"])
    assert (first["limit"], first["offset"], len(first["items"])) == (1, 0, 1)
    assert first["total"] == page["total"]
    admin_row = next(u for u in page["items"] if u["name"] == "admin")
    assert admin_row["is_default"] and admin_row["export_user_of"] == ["private", "shared"]
    assert one["role"] == "contributor" and one["has_password"] is True
    assert "password_hash" not in one
    assert problem(unknown, 404, "user_not_found")["field"] == "name"
    assert problem(bad, 422, "request_invalid")["field"] == "offset"


@pytest.mark.parametrize("user", ["carol", "victor"])
def test_only_admins_manage_users_and_read_the_audit_log(web: Web, user: str) -> None:
    with web.bearer(user) as client:
        answers = [
            client.get("/api/v1/users"),
            client.get("/api/v1/users/admin"),
            client.post("/api/v1/users", json={"name": "intruder", "role": "admin"}),
            client.patch(f"/api/v1/users/{user}", json={"role": "admin"}),
            client.delete("/api/v1/users/admin"),
            client.put("/api/v1/users/admin/password", json={"password": "x" * 20}),
            client.get("/api/v1/audit"),
            client.get("/api/v1/tokens", params={"user": "admin"}),
            client.post("/api/v1/tokens", json={"user": "admin"}),
        ]
    for answer in answers:
        body = problem(answer, 403, "permission_denied")
        assert body["kind"] == "forbidden"
    with web.bearer("admin") as admin:
        assert admin.get("/api/v1/users/intruder").status_code == 404
        assert admin.get(f"/api/v1/users/{user}").json()["role"] != "admin"


def test_add_change_and_remove_a_user(web: Web) -> None:
    with web.bearer("admin") as admin:
        added = admin.post("/api/v1/users", json={"name": "dora", "role": "contributor"})
        assert added.status_code == 201, added.text
        assert added.json()["name"] == "dora" and added.json()["has_password"] is False
        taken = problem(
            admin.post("/api/v1/users", json={"name": "dora", "role": "viewer"}),
            409,
            "user_exists",
        )
        assert taken["field"] == "name"
        problem(
            admin.post("/api/v1/users", json={"name": "a b", "role": "viewer"}),
            422,
            "workspace_error",
        )
        bad_role = admin.post("/api/v1/users", json={"name": "eve", "role": "owner"})
        assert problem(bad_role, 422, "request_invalid")["field"] == "role"

        changed = admin.patch("/api/v1/users/dora", json={"role": "viewer"})
        assert changed.status_code == 200, changed.text
        assert changed.json() == {"name": "dora", "role": "viewer", "stopped_connections": []}
        assert admin.get("/api/v1/users/dora").json()["role"] == "viewer"
        problem(admin.patch("/api/v1/users/nobody", json={"role": "viewer"}), 404, "user_not_found")

        removed = admin.delete("/api/v1/users/dora")
        assert removed.status_code == 200, removed.text
        assert removed.json()["stopped_connections"] == []
        problem(admin.get("/api/v1/users/dora"), 404, "user_not_found")
        problem(admin.delete("/api/v1/users/dora"), 404, "user_not_found")


def test_the_last_admin_can_be_neither_demoted_nor_removed(web: Web) -> None:
    with web.bearer("admin") as admin:
        problem(admin.patch("/api/v1/users/admin", json={"role": "viewer"}), 409, "last_admin")
        problem(admin.delete("/api/v1/users/admin"), 409, "last_admin")
        assert admin.get("/api/v1/users/admin").json()["role"] == "admin"


def test_demoting_an_export_user_names_the_connections_that_stop(web: Web) -> None:
    with web.bearer("admin") as admin:
        assert admin.post("/api/v1/users", json={"name": "ada", "role": "admin"}).status_code == 201
        ada = web.client(
            headers={"Authorization": f"Bearer {_token_for(web, admin_client=admin, user='ada')}"}
        )
        with ada:
            taken = ada.post("/api/v1/connections/private/take-over")
            assert taken.status_code == 200, taken.text
        demoted = admin.patch("/api/v1/users/ada", json={"role": "contributor"})
        assert demoted.json()["stopped_connections"] == ["private"]
        assert admin.post("/api/v1/connections/private/take-over").status_code == 200
        removed = admin.delete("/api/v1/users/ada")
        assert removed.json()["stopped_connections"] == []


def _token_for(web: Web, *, admin_client: httpx.Client, user: str) -> str:
    made = admin_client.post("/api/v1/tokens", json={"user": user, "name": "for a test"})
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


def test_passwords_set_by_an_admin_and_by_the_user_themselves(web: Web) -> None:
    with web.bearer("admin") as admin:
        assert (
            admin.post("/api/v1/users", json={"name": "pat", "role": "viewer"}).status_code == 201
        )
        short = admin.put("/api/v1/users/pat/password", json={"password": "short"})
        assert problem(short, 422, "password_too_short")["field"] == "password"
        reset = admin.put("/api/v1/users/pat/password", json={"password": "first password 1"})
        assert reset.status_code == 204 and reset.content == b""
        problem(
            admin.put("/api/v1/users/nobody/password", json={"password": "first password 1"}),
            404,
            "user_not_found",
        )
        assert admin.get("/api/v1/users/pat").json()["has_password"] is True

    with web.client() as pat:
        signed = pat.post("/api/v1/session", json={"name": "pat", "password": "first password 1"})
        assert signed.status_code == 201, signed.text
        csrf = {"X-CSRF-Token": signed.json()["csrf_token"]}
        # a cookie-authenticated change needs the CSRF token
        problem(
            pat.put("/api/v1/users/pat/password", json={"password": "second password 2"}),
            403,
            "csrf_failed",
        )
        own = pat.put(
            "/api/v1/users/pat/password", json={"password": "second password 2"}, headers=csrf
        )
        assert own.status_code == 204, own.text
        other = pat.put(
            "/api/v1/users/victor/password", json={"password": "second password 2"}, headers=csrf
        )
        problem(other, 403, "permission_denied")
    with web.client() as again:
        old = again.post("/api/v1/session", json={"name": "pat", "password": "first password 1"})
        problem(old, 401, "bad_credentials")
        new = again.post("/api/v1/session", json={"name": "pat", "password": "second password 2"})
        assert new.status_code == 201
    # victor's password is unchanged
    with web.client() as victor:
        answer = victor.post(
            "/api/v1/session", json={"name": "victor", "password": PASSWORDS["victor"]}
        )
        assert answer.status_code == 201


def test_tokens_own_and_by_an_admin(web: Web) -> None:
    with web.bearer("carol") as carol, web.bearer("admin") as admin:
        made = carol.post("/api/v1/tokens", json={"name": "script"})
        assert made.status_code == 201, made.text
        token, view = made.json()["token"], made.json()["view"]
        assert token.startswith("sgp_") and token.startswith(view["prefix"])
        assert (view["user"], view["name"], view["status"]) == ("carol", "script", "active")

        with web.client(headers={"Authorization": f"Bearer {token}"}) as script:
            assert script.get("/api/v1/me").json()["user"]["name"] == "carol"

        own = carol.get("/api/v1/tokens").json()
        assert {t["user"] for t in own["items"]} == {"carol"}
        assert view["id"] in [t["id"] for t in own["items"]]
        assert token not in carol.get("/api/v1/tokens").text  # never shown again
        everyone = admin.get("/api/v1/tokens", params={"limit": 500}).json()
        assert {"admin", "carol", "victor"} <= {t["user"] for t in everyone["items"]}
        carols = admin.get("/api/v1/tokens", params={"user": "carol"}).json()
        assert {t["user"] for t in carols["items"]} == {"carol"}
        problem(admin.get("/api/v1/tokens", params={"user": "nobody"}), 404, "user_not_found")
        problem(carol.get("/api/v1/tokens", params={"user": "admin"}), 403, "permission_denied")

        admins_own = admin.get("/api/v1/tokens", params={"user": "admin"}).json()["items"][0]
        problem(carol.delete(f"/api/v1/tokens/{admins_own['id']}"), 403, "permission_denied")
        revoked = carol.delete(f"/api/v1/tokens/{view['id']}")
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
        with web.client(headers={"Authorization": f"Bearer {token}"}) as script:
            problem(script.get("/api/v1/me"), 401, "bad_credentials")
        assert carol.delete(f"/api/v1/tokens/{view['id']}").json()["status"] == "revoked"
        problem(carol.delete("/api/v1/tokens/999999"), 404, "token_not_found")
        assert (
            problem(carol.delete("/api/v1/tokens/0"), 422, "request_invalid")["field"] == "token_id"
        )

        for_carol = admin.post("/api/v1/tokens", json={"user": "carol", "name": "by admin"})
        assert for_carol.status_code == 201 and for_carol.json()["view"]["user"] == "carol"
        assert admin.delete(f"/api/v1/tokens/{for_carol.json()['view']['id']}").status_code == 200
        problem(admin.post("/api/v1/tokens", json={"user": "nobody"}), 404, "user_not_found")


def test_token_expiry_must_be_aware_and_in_the_future(web: Web) -> None:
    with web.bearer("victor") as victor:
        naive = victor.post("/api/v1/tokens", json={"expires_at": "2099-01-01T00:00:00"})
        assert problem(naive, 422, "request_invalid")["field"] == "expires_at"
        past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        gone = victor.post("/api/v1/tokens", json={"expires_at": past})
        problem(gone, 422, "token_expiry_invalid")
        later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        made = victor.post("/api/v1/tokens", json={"name": "day", "expires_at": later})
        assert made.status_code == 201, made.text
        assert made.json()["view"]["expires_at"] is not None
        too_long = victor.post("/api/v1/tokens", json={"name": "n" * 101})
        problem(too_long, 422, "token_name_too_long")


def test_a_removed_users_tokens_stop_working(web: Web) -> None:
    with web.bearer("admin") as admin:
        assert (
            admin.post("/api/v1/users", json={"name": "gone", "role": "viewer"}).status_code == 201
        )
        token = _token_for(web, admin_client=admin, user="gone")
        with web.client(headers={"Authorization": f"Bearer {token}"}) as client:
            assert client.get("/api/v1/exports").status_code == 200
            assert admin.delete("/api/v1/users/gone").status_code == 200
            problem(client.get("/api/v1/exports"), 401, "bad_credentials")


def test_the_audit_log_newest_first_and_paged(web: Web) -> None:
    with web.bearer("admin") as admin:
        assert (
            admin.post("/api/v1/users", json={"name": "audited", "role": "viewer"}).status_code
            == 201
        )
        made = admin.post("/api/v1/tokens", json={"user": "audited", "name": "audit"}).json()
        first = admin.get("/api/v1/audit", params={"limit": 2}).json()
        every = admin.get("/api/v1/audit", params={"limit": 500}).json()
        second = admin.get("/api/v1/audit", params={"limit": 1, "offset": 1}).json()
        bad = admin.get("/api/v1/audit", params={"limit": 0})
    assert first["total"] == every["total"] == len(every["items"]) >= 2
    newest = first["items"][0]
    assert (newest["action"], newest["target"], newest["actor"]) == (
        "tokens.create",
        "audited",
        "admin",
    )
    assert first["items"][1]["action"] == "users.add"
    assert second["items"] == first["items"][1:]
    assert made["token"] not in str(every)  # the log never holds a token
    assert problem(bad, 422, "request_invalid")["field"] == "limit"

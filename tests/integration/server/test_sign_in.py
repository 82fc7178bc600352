"""Signing in and out: passwords, the session cookie, revocation, the rate limit."""

from __future__ import annotations

import uuid
from contextlib import closing

import httpx
from tests.fixtures.server import LOGIN_ATTEMPTS, PASSWORDS, Web, running, server_settings
from tests.integration.server.api_helpers import PROBLEM


def test_sign_in_sets_a_session_cookie_and_returns_the_csrf_token(web: Web) -> None:
    with web.client() as client:
        answer = client.post(
            "/api/v1/session", json={"name": "carol", "password": PASSWORDS["carol"]}
        )
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["user"] == {"name": "carol", "role": "contributor"}
        assert len(body["csrf_token"]) >= 32
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{web.settings.cookie_name}=")
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert "httponly" in flags
        assert "samesite=lax" in flags
        assert "path=/" in flags
        assert "secure" not in flags  # not behind TLS in this server's settings
        # the cookie holds a signed random id: not the user's name, not the CSRF token
        assert "carol" not in cookie and body["csrf_token"] not in cookie

        me = client.get("/api/v1/me")
        assert me.status_code == 200
        assert me.json() == {
            "user": {"name": "carol", "role": "contributor"},
            "auth": "session",
            "csrf_token": body["csrf_token"],
        }


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(web: Web) -> None:
    with web.client() as client:
        wrong = client.post("/api/v1/session", json={"name": "victor", "password": "not it at all"})
        unknown = client.post(
            "/api/v1/session",
            json={"name": f"nobody-{uuid.uuid4().hex}", "password": "whatever 12"},
        )
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert answer.headers["content-type"] == PROBLEM
        assert "set-cookie" not in answer.headers
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "bad_credentials"


def test_sign_in_is_rate_limited_per_account_after_failures(web: Web) -> None:
    name = f"mallory-{uuid.uuid4().hex[:8]}"
    with web.client() as client:
        for _ in range(LOGIN_ATTEMPTS):
            answer = client.post("/api/v1/session", json={"name": name, "password": "guess guess"})
            assert answer.status_code == 401
        limited = client.post("/api/v1/session", json={"name": name, "password": "guess guess"})
        # another account from the same address is not held back by this one
        other = client.post(
            "/api/v1/session", json={"name": "victor", "password": PASSWORDS["victor"]}
        )
    assert limited.status_code == 429
    assert limited.headers["content-type"] == PROBLEM
    assert limited.json()["code"] == "login_rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    assert other.status_code == 201


def test_sign_out_revokes_the_session_even_if_the_cookie_is_kept(web: Web) -> None:
    client, csrf = web.signed_in("victor")
    with closing(client):
        cookie = client.cookies.get(web.settings.cookie_name)
        assert cookie
        out = client.request("DELETE", "/api/v1/session", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
        assert "max-age=0" in out.headers["set-cookie"].lower()
        assert client.get("/api/v1/me").status_code == 401
    # the same cookie, replayed after sign-out, signs no one in
    with web.client(cookies={web.settings.cookie_name: cookie}) as replay:
        answer = replay.get("/api/v1/me")
    assert answer.status_code == 401
    assert answer.json()["code"] == "session_invalid"


def test_a_forged_cookie_signs_no_one_in(web: Web) -> None:
    with web.client(cookies={web.settings.cookie_name: "made-up.value.sig"}) as client:
        answer = client.get("/api/v1/me")
    assert answer.status_code == 401
    assert answer.json()["code"] == "authentication_required"
    assert answer.headers["www-authenticate"] == "Bearer"


def test_a_bearer_token_authenticates_and_a_bad_one_does_not(web: Web) -> None:
    with web.bearer("admin") as client:
        me = client.get("/api/v1/me")
        assert me.status_code == 200
        assert me.json() == {
            "user": {"name": "admin", "role": "admin"},
            "auth": "token",
            "csrf_token": None,
        }
        # a token has no session to sign out of
        out = client.request("DELETE", "/api/v1/session")
        assert out.status_code == 409 and out.json()["code"] == "no_session"
    with web.client(headers={"Authorization": "Bearer sgp_not-a-token"}) as client:
        bad = client.get("/api/v1/me")
    assert bad.status_code == 401 and bad.json()["code"] == "bad_credentials"


def test_behind_tls_the_cookie_is_secure_and_host_bound(web: Web) -> None:
    settings = server_settings(web.ws, secure_cookies=True)
    with running(settings, web.ws) as url, httpx.Client(base_url=url) as client:
        answer = client.post(
            "/api/v1/session", json={"name": "victor", "password": PASSWORDS["victor"]}
        )
    assert answer.status_code == 201
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("__Host-segport_session=")
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= flags
    assert not any(f.startswith("domain=") for f in flags)  # what __Host- requires
    assert answer.headers["strict-transport-security"] == "max-age=31536000"

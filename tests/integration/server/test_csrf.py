"""CSRF: a cookie-authenticated request that changes something needs the session's token
and must not come from another site; API tokens are exempt."""

from __future__ import annotations

from contextlib import closing

from tests.fixtures.server import PASSWORDS, Web


def _request(client: object, csrf: str | None, **headers: str) -> object:
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return client.post("/api/v1/exports/news/runs", headers=headers)  # type: ignore[attr-defined]


def _cancel(web: Web, run_id: int) -> None:
    with web.bearer("admin") as admin:
        assert admin.post(f"/api/v1/runs/{run_id}/cancel").status_code == 200


def test_a_cookie_post_without_the_token_is_refused(web: Web) -> None:
    client, _ = web.signed_in("carol")
    with closing(client):
        answer = client.post("/api/v1/exports/news/runs")
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "csrf_failed"


def test_a_cookie_post_with_another_sessions_token_is_refused(web: Web) -> None:
    client, _ = web.signed_in("carol")
    other, other_token = web.signed_in("carol")
    with closing(client), closing(other):
        answer = client.post("/api/v1/exports/news/runs", headers={"X-CSRF-Token": other_token})
    assert answer.status_code == 403 and answer.json()["code"] == "csrf_failed"


def test_a_cookie_post_with_the_token_goes_through(web: Web) -> None:
    client, csrf = web.signed_in("carol")
    with closing(client):
        answer = client.post(
            "/api/v1/exports/news/runs",
            headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-origin", "Origin": web.url},
        )
    assert answer.status_code == 202, answer.text
    _cancel(web, answer.json()["id"])


def test_a_cross_site_request_is_refused_even_with_the_token(web: Web) -> None:
    client, csrf = web.signed_in("carol")
    with closing(client):
        by_fetch = client.post(
            "/api/v1/exports/news/runs",
            headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"},
        )
        by_origin = client.post(
            "/api/v1/exports/news/runs",
            headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
        )
    for answer in (by_fetch, by_origin):
        assert answer.status_code == 403
        assert answer.json()["code"] == "csrf_failed"


def test_sign_in_from_another_site_is_refused(web: Web) -> None:
    with web.client() as client:
        answer = client.post(
            "/api/v1/session",
            json={"name": "carol", "password": PASSWORDS["carol"]},
            headers={"Sec-Fetch-Site": "cross-site"},
        )
    assert answer.status_code == 403 and answer.json()["code"] == "csrf_failed"
    assert "set-cookie" not in answer.headers


def test_reading_needs_no_token(web: Web) -> None:
    client, _ = web.signed_in("victor")
    with closing(client):
        assert client.get("/api/v1/exports").status_code == 200


def test_bearer_requests_are_exempt(web: Web) -> None:
    with web.bearer("carol") as client:
        answer = client.post("/api/v1/exports/news/runs", headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 202, answer.text
    _cancel(web, answer.json()["id"])

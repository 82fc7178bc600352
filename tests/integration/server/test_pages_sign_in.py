"""The sign-in page: redirects, signing in and out with plain form posts, errors shown
escaped, the sign-in limit's answer, and the CSRF checks on the pages' posts."""

from __future__ import annotations

from tests.fixtures.server import LOGIN_ATTEMPTS, PASSWORDS, Web
from tests.integration.server.pages_helpers import csrf_of, page_client


def test_the_front_page_sends_a_visitor_to_sign_in_and_a_user_to_the_exports(web: Web) -> None:
    with web.client() as client:
        answer = client.get("/")
        assert answer.status_code == 307
        assert answer.headers["location"] == "/sign-in"
        page = client.get("/sign-in")
        assert page.status_code == 200
        assert '<label for="name">' in page.text and '<label for="password">' in page.text
        assert 'type="password"' in page.text
    with page_client(web, "admin") as client:
        answer = client.get("/")
        assert answer.headers["location"] == "/exports"
        # signed in already: the sign-in page goes on to the exports
        assert client.get("/sign-in").headers["location"] == "/exports"


def test_signing_in_and_out_with_forms(web: Web) -> None:
    with web.client() as client:
        answer = client.post(
            "/sign-in",
            data={"name": "carol", "password": PASSWORDS["carol"], "next": "/exports"},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/exports"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        page = client.get("/exports")
        assert page.status_code == 200
        assert 'id="signed-in-as">carol' in page.text
        assert page.headers["cache-control"] == "no-store"
        token = csrf_of(page)

        # Signing out needs the session's token: a forged form post is refused
        refused = client.post("/sign-out", data={})
        assert refused.status_code == 403
        assert 'data-code="csrf_failed"' in refused.text
        assert client.get("/exports").status_code == 200  # still signed in

        out = client.post("/sign-out", data={"csrf_token": token})
        assert out.status_code == 303
        assert out.headers["location"].startswith("/sign-in")
        gone = client.get("/exports")
        assert gone.status_code == 303
        assert gone.headers["location"] == "/sign-in?next=/exports"


def test_a_visitor_goes_back_where_they_were_going_but_never_to_another_site(web: Web) -> None:
    with web.client() as client:
        answer = client.get("/runs?status=queued")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/sign-in?next=/runs")
        done = client.post(
            "/sign-in",
            data={"name": "victor", "password": PASSWORDS["victor"], "next": "/runs?status=queued"},
        )
        assert done.headers["location"] == "/runs?status=queued"
    with web.client() as client:
        done = client.post(
            "/sign-in",
            data={"name": "victor", "password": PASSWORDS["victor"], "next": "//evil.example/"},
        )
        assert done.headers["location"] == "/exports"


def test_a_wrong_password_is_shown_and_the_name_escaped(web: Web) -> None:
    hostile = '<script>alert("x")</script>'
    with web.client() as client:
        answer = client.post("/sign-in", data={"name": hostile, "password": "nope"})
        assert answer.status_code == 401
        assert 'data-code="bad_credentials"' in answer.text
        assert hostile not in answer.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in answer.text
        empty = client.post("/sign-in", data={"name": "admin", "password": ""})
        assert empty.status_code == 422


def test_the_sign_in_limit_is_shown(web: Web) -> None:
    with web.client() as client:
        wrong = {"name": "mallory", "password": "x"}
        for _ in range(LOGIN_ATTEMPTS):
            assert client.post("/sign-in", data=wrong).status_code == 401
        held = client.post("/sign-in", data=wrong)
        assert held.status_code == 429
        assert int(held.headers["retry-after"]) > 0
        assert 'data-code="login_rate_limited"' in held.text
        assert "try again in" in held.text


def test_a_sign_in_from_another_site_is_refused(web: Web) -> None:
    with web.client() as client:
        answer = client.post(
            "/sign-in",
            data={"name": "admin", "password": PASSWORDS["admin"]},
            headers={"Sec-Fetch-Site": "cross-site"},
        )
        assert answer.status_code == 403
        assert 'data-code="csrf_failed"' in answer.text
        assert "set-cookie" not in answer.headers


def test_a_form_post_from_another_site_is_refused_even_with_the_token(web: Web) -> None:
    with page_client(web, "admin") as client:
        token = csrf_of(client.get("/exports"))
        answer = client.post(
            "/sign-out", data={"csrf_token": token}, headers={"Origin": "http://evil.example"}
        )
        assert answer.status_code == 403
        assert client.get("/exports").status_code == 200

"""The pages' safety: the CSP on every page, only this server's assets (no inline script,
no inline handler), every value escaped (a Brevo message with HTML), and a live fragment
asked for after the session ended."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import pytest
from tests.fixtures.server import Web
from tests.integration.server.pages_helpers import csrf_of, page_client, references

from segport.server.pages.base import templates
from segport.server.security import CONTENT_SECURITY_POLICY
from segport.service import cancel_run, request_run, show_run

PAGES = ["/sign-in", "/exports", "/exports/news", "/runs", "/runs/{run}", "/runs/{run}/live",
         "/connections", "/connections/new", "/connections/shared", "/exports/new",
         "/exports/news/edit", "/exports/news/duplicate", "/exports/news/remove", "/segments",
         "/segments/new", "/segments/gold", "/segments/gold/edit", "/profiles", "/system",
         "/users", "/users/carol"]  # fmt: skip


@pytest.fixture(scope="module")
def run_id(web: Web) -> int:
    run = request_run(web.ws, web.actor("admin"), "news")
    return run.id


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_only_this_servers_files_under_the_csp(web: Web, run_id: int, path: str) -> None:
    with page_client(web, "admin") as client:
        if path == "/sign-in":
            client.cookies.clear()
        page = client.get(path.format(run=run_id))
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["content-type"].startswith("text/html")
        urls, inline_scripts = references(page.text)
        assert inline_scripts == 0
        for url in urls:
            parts = urlsplit(url)
            assert not parts.scheme and not parts.netloc, f"{path} refers to {url}"
            assert url.startswith(("/", "#")), url
        assets = [u for u in urls if u.startswith("/static/")]
        if path.endswith("/live"):
            assert assets == []  # a fragment, swapped into the run's page
            return
        assert set(assets) == {
            "/static/pages.css",
            "/static/vendor/htmx/htmx.min.js",
            "/static/pages.js",
        }
        for asset in assets:
            assert client.get(asset).status_code == 200


def test_a_brevo_message_with_html_is_escaped(web: Web, run_id: int) -> None:
    run = show_run(web.ws, web.actor("admin"), run_id).run
    hostile = dataclasses.replace(
        run,
        status="failed",
        reason="brevo_refused",
        message='Brevo said: <img src=x onerror="alert(1)"> & <b>bold</b>',
        export_name="<i>x</i>",
    )
    html = templates.env.get_template("_run_live.html").render(
        run=hostile, files=[], live=False, may_cancel=False, csrf_token=None
    )
    assert "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "Brevo said: &lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; &lt;b&gt;" in html


def test_a_live_fragment_after_sign_out_sends_htmx_to_the_sign_in_page(
    web: Web, run_id: int
) -> None:
    with page_client(web, "carol") as client:
        token = csrf_of(client.get("/exports"))
        assert client.post("/sign-out", data={"csrf_token": token}).status_code == 303
        answer = client.get(f"/runs/{run_id}/live", headers={"HX-Request": "true"})
        assert answer.status_code == 204
        assert answer.headers["hx-redirect"].startswith("/sign-in?next=/runs/")


def test_a_page_post_as_htmx_sends_the_token_as_the_header(web: Web) -> None:
    with page_client(web, "admin") as client:
        page = client.get("/exports/vip")
        token = csrf_of(page)
        answer = client.post(
            "/exports/vip/run", headers={"X-CSRF-Token": token, "HX-Request": "true"}
        )
        assert answer.status_code == 303
        run_id = int(answer.headers["location"].split("/")[2].split("?")[0])
    cancel_run(web.ws, web.actor("admin"), run_id)


def test_a_form_that_is_not_a_form_is_refused(web: Web) -> None:
    with page_client(web, "admin") as client:
        token = csrf_of(client.get("/exports"))
        headers = {"Content-Type": "application/json", "X-CSRF-Token": token}
        answer = client.post("/sign-out", content=b'{"csrf_token": "x"}', headers=headers)
        assert answer.status_code == 422
        assert 'data-code="form_invalid"' in answer.text
        big = client.post("/sign-out", data={"csrf_token": token, "x": "a" * 70_000})
        assert big.status_code == 422

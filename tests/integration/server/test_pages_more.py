"""The buttons the pages gained with the last service operations: Check now on a
connection's page (the refreshed account, or Brevo's message) and its edit form's rate
and API URL (a refusal next to its field, what was typed kept), Retry on the page of a
run that did not succeed (for who may run the export), and Refresh now on the System
page (what it counted and requested). Each posts with the CSRF token; a forged or
forbidden post is refused with the service's message."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from tests.fixtures.sandbox import TEST_API_KEY
from tests.fixtures.server import Web, free_port
from tests.integration.server.api_helpers import cancel_queued, canceled_run
from tests.integration.server.pages_helpers import csrf_of, page_client, references

from segport.service import (
    add_connection,
    page_runs,
    show_connection,
)
from segport.service.models import Connection

WRONG_KEY = "xkeysib-wrong-page-key-Pw82Nc"
PROXY_PASSWORD = "proxy-pass-Tz61Rm"


@pytest.fixture(autouse=True)
def settled(web: Web) -> Iterator[None]:
    """No run queued before or after a test (a queued run blocks the next)."""
    cancel_queued(web)
    yield
    cancel_queued(web)


def _post(client: httpx.Client, page: str, action: str) -> httpx.Response:
    shown = client.get(page)
    assert shown.status_code == 200, shown.text
    return client.post(action, data={"csrf_token": csrf_of(shown)})


# Check now


def test_check_now_shows_the_refreshed_account(web: Web) -> None:
    with page_client(web, "admin") as client:
        page = client.get("/connections/shared")
        assert 'id="check-form"' in page.text and 'action="/connections/shared/check"' in page.text
        before = page.text.split('id="verified-at">')[1].split("<")[0]
        assert client.post("/connections/shared/check", data={}).status_code == 403  # no token
        checked = client.post("/connections/shared/check", data={"csrf_token": csrf_of(page)})
        assert checked.status_code == 303
        assert checked.headers["location"] == "/connections/shared?notice=checked"
        shown = client.get(checked.headers["location"])
    assert 'id="notice"' in shown.text and "Brevo accepted the saved API key" in shown.text
    after = shown.text.split('id="verified-at">')[1].split("<")[0]
    assert after >= before
    _urls, inline = references(shown.text)
    assert inline == 0


def test_check_now_shows_brevos_message_when_it_refuses_the_key(web: Web) -> None:
    add_connection(
        web.ws,
        web.actor("admin"),
        "page-stale",
        "brevo",
        WRONG_KEY,
        agree_privacy=True,
        base_url=web.brevo_url,
        verify=False,
    )
    with page_client(web, "admin") as client:
        refused = _post(client, "/connections/page-stale", "/connections/page-stale/check")
    assert refused.status_code == 502
    assert 'data-code="saved_api_key_refused"' in refused.text
    assert "Brevo said" in refused.text
    assert WRONG_KEY not in refused.text
    assert 'id="check-form"' in refused.text  # the page, with its forms, not an error page


def test_check_now_is_an_admins(web: Web) -> None:
    with page_client(web, "carol") as client:
        exports = client.get("/exports")
        refused = client.post("/connections/shared/check", data={"csrf_token": csrf_of(exports)})
    assert refused.status_code == 403
    assert 'data-code="permission_denied"' in refused.text


def _saved_url(web: Web, name: str) -> str:
    with web.ws.session() as session:
        return str(
            session.scalars(select(Connection.base_url).where(Connection.name == name)).one()
        )


def test_the_edit_form_sets_the_rate_and_the_api_url(web: Web) -> None:
    # behind a proxy whose password is in the URL: the page shows it without
    proxied = web.brevo_url.replace("http://", f"http://proxy:{PROXY_PASSWORD}@")
    add_connection(
        web.ws,
        web.actor("admin"),
        "page-edit",
        "brevo",
        TEST_API_KEY,
        agree_privacy=True,
        base_url=proxied,
    )
    with page_client(web, "admin") as client:
        page = client.get("/connections/page-edit")
        assert 'id="rate"' in page.text and PROXY_PASSWORD not in page.text
        shown = show_connection(web.ws, web.actor("admin"), "page-edit").base_url
        assert f'value="{shown}"' in page.text and shown != proxied
        base = {
            "csrf_token": csrf_of(page),
            "new_name": "page-edit",
            "shared": "admins",
            "base_url_shown": shown,
        }
        # posted back as shown: the URL is kept as it is, its password with it
        saved = client.post(
            "/connections/page-edit/edit", data={**base, "rate": "2.5", "base_url": shown}
        )
        assert saved.status_code == 303
        assert _saved_url(web, "page-edit") == proxied
        assert show_connection(web.ws, web.actor("admin"), "page-edit").requests_per_second == 2.5
        for rate in ("fast", "0"):
            refused = client.post(
                "/connections/page-edit/edit",
                data={**base, "new_name": "typed name", "rate": rate, "base_url": shown},
            )
            assert refused.status_code == 422
            assert 'id="rate-error" data-code="rate_invalid"' in refused.text
            assert 'aria-invalid="true"' in refused.text.split('id="rate"')[1].split(">")[0]
            assert 'value="typed name"' in refused.text and f'value="{rate}"' in refused.text
        closed = f"http://127.0.0.1:{free_port()}/v3"
        unreachable = client.post(
            "/connections/page-edit/edit", data={**base, "rate": "2.5", "base_url": closed}
        )
        assert unreachable.status_code == 502
        assert 'id="base_url-error" data-code="brevo_unreachable"' in unreachable.text
        assert f'value="{closed}"' in unreachable.text
        assert _saved_url(web, "page-edit") == proxied
        moved = client.post(
            "/connections/page-edit/edit",
            data={**base, "rate": "2.5", "base_url": web.brevo_url},
        )
        assert moved.status_code == 303  # checked with the saved key at the new URL
    assert _saved_url(web, "page-edit") == web.brevo_url


# Retry


def test_retry_on_a_run_that_did_not_succeed(web: Web) -> None:
    canceled = canceled_run(web, "news")
    with page_client(web, "carol") as client:
        page = client.get(f"/runs/{canceled}")
        assert 'id="retry-form"' in page.text
        assert f'action="/runs/{canceled}/retry"' in page.text
        retried = client.post(f"/runs/{canceled}/retry", data={"csrf_token": csrf_of(page)})
        assert retried.status_code == 303
        location = retried.headers["location"]
        new_id = int(location.split("/")[2].split("?")[0])
        assert new_id != canceled and location.endswith("?notice=retried")
        shown = client.get(location)
        assert "Retry requested" in shown.text and 'data-status="queued"' in shown.text
        assert 'id="retry-form"' not in shown.text and 'id="cancel"' in shown.text
        # again while the new run is queued: the service's refusal on the run's page
        busy = client.post(f"/runs/{canceled}/retry", data={"csrf_token": csrf_of(page)})
        assert busy.status_code == 409
        assert 'data-code="run_in_progress"' in busy.text and 'id="run-live"' in busy.text


def test_retry_is_offered_to_who_may_run_the_export(web: Web) -> None:
    news, vip = canceled_run(web, "news"), canceled_run(web, "vip")
    with page_client(web, "victor") as client:
        page = client.get(f"/runs/{news}")
        assert page.status_code == 200 and 'id="retry-form"' not in page.text
        forged = client.post(f"/runs/{news}/retry", data={"csrf_token": csrf_of(page)})
        assert forged.status_code == 403 and 'data-code="permission_denied"' in forged.text
    with page_client(web, "carol") as client:
        page = client.get(f"/runs/{vip}")  # on a connection not shared with contributors
        assert page.status_code == 200 and 'id="retry-form"' not in page.text
        forged = client.post(f"/runs/{vip}/retry", data={"csrf_token": csrf_of(page)})
        assert forged.status_code == 403 and 'data-code="permission_denied"' in forged.text
    assert page_runs(web.ws, web.actor("admin"), status="queued").total == 0


# Refresh now


def test_refresh_now_shows_what_it_counted_and_requested(web: Web) -> None:
    with page_client(web, "admin") as client:
        page = client.get("/system")
        assert 'id="refresh-form"' in page.text and 'id="refresh-result"' not in page.text
        done = client.post("/system/refresh", data={"csrf_token": csrf_of(page)})
    assert done.status_code == 200
    result = done.text.split('id="refresh-result"')[1].split("</section>")[0]
    assert 'href="/segments/gold"' in result and "5 members" in result
    assert 'href="/exports/news"' in result and 'href="/exports/vip"' in result
    assert result.count("queued") == 2
    _urls, inline = references(done.text)
    assert inline == 0


@pytest.mark.parametrize(("user", "offered"), [("carol", True), ("victor", False)])
def test_refresh_now_is_for_who_may_run_exports(web: Web, user: str, offered: bool) -> None:
    with page_client(web, user) as client:
        page = client.get("/system")
        assert ('id="refresh-form"' in page.text) is offered
        answer = client.post("/system/refresh", data={"csrf_token": csrf_of(page)})
    if offered:
        assert answer.status_code == 200 and 'id="refresh-result"' in answer.text
    else:
        assert answer.status_code == 403 and 'data-code="permission_denied"' in answer.text

"""Settings > Connections: the list by role, Add connection against the sandbox (a good
key, a wrong key, no consent), edit, rotate key, take over and remove with its
confirmation step. The API key typed in a form never comes back in any page."""

from __future__ import annotations

import html
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from tests.fixtures.sandbox import TEST_API_KEY
from tests.fixtures.server import Web
from tests.integration.server.pages_helpers import csrf_of, page_client, references

from segport.secret import Secret
from segport.service import (
    ExportConfig,
    ExportMapping,
    add_connection,
    add_export,
    add_user,
    list_connections,
    set_password,
    show_connection,
    show_export,
)
from segport.service.privacy import PRIVACY_STATEMENT

HOSTILE = "<img src=x>\"'& a/b"
WRONG_KEY = "wrong-key-Zq81xVb7PmN3"
COLUMNS = ("Display name", "Type", "Account", "Who can use it", "Export user", "Your permissions")


@pytest.fixture(scope="module")
def site(web: Web) -> Iterator[tuple[Web, str]]:
    """The server, and the sandbox's URL (what the Advanced field takes)."""
    yield web, show_connection(web.ws, web.actor("admin"), "shared").base_url


def _connect(client: httpx.Client, **fields: str) -> httpx.Response:
    form = client.get("/connections/new")
    assert form.status_code == 200
    data = {"csrf_token": csrf_of(form), "shared": "admins", "agree": "yes", **fields}
    return client.post("/connections/new", data=data)


def _link(name: str) -> str:
    return "/connections/" + quote(name, safe="")


def _no_key_anywhere(page: httpx.Response, *keys: str) -> None:
    for key in (TEST_API_KEY, *keys):
        assert key not in page.text


def test_an_admin_sees_every_connection_with_its_columns(site: tuple[Web, str]) -> None:
    web, _ = site
    with page_client(web, "admin") as client:
        page = client.get("/connections")
    assert page.status_code == 200
    assert 'id="nav-settings"' in page.text and 'id="add-connection"' in page.text
    for column in COLUMNS:
        assert column in page.text
    shared = page.text.split('href="/connections/shared"')[1].split("</tr>")[0]
    assert "Brevo" in shared and "admins and contributors" in shared and "admin" in shared
    assert "@" in shared  # the account's email
    private = page.text.split('href="/connections/private"')[1].split("</tr>")[0]
    assert "admins only" in private and "take over" in private
    _no_key_anywhere(page)
    _urls, inline = references(page.text)
    assert inline == 0


def test_a_contributor_sees_the_shared_ones_and_cannot_add(site: tuple[Web, str]) -> None:
    web, url = site
    with page_client(web, "carol") as client:
        page = client.get("/connections")
        assert page.status_code == 200
        assert 'id="add-connection"' not in page.text
        assert ">shared<" in page.text and "private" not in page.text
        assert client.get("/connections/new").status_code == 403
        assert client.get("/connections/shared").status_code == 403
        # a forged post (the contributor's own valid CSRF token): the service refuses
        forged = client.post(
            "/connections/new",
            data={
                "csrf_token": csrf_of(page),
                "name": "forged",
                "api_key": TEST_API_KEY,
                "agree": "yes",
                "base_url": url,
            },
        )
        assert forged.status_code == 403
        assert 'data-code="permission_denied"' in forged.text or "may not" in forged.text
        take = client.post("/connections/shared/take-over", data={"csrf_token": csrf_of(page)})
        assert take.status_code == 403
    names = [c.name for c in list_connections(web.ws, web.actor("admin"))]
    assert "forged" not in names
    assert show_connection(web.ws, web.actor("admin"), "shared").export_user == "admin"


def test_a_viewer_is_refused_and_has_no_settings_link(site: tuple[Web, str]) -> None:
    web, _ = site
    with page_client(web, "victor") as client:
        exports = client.get("/exports")
        assert 'id="nav-settings"' not in exports.text
        assert client.get("/connections").status_code == 403


def test_add_a_connection_with_a_good_key(site: tuple[Web, str]) -> None:
    web, url = site
    name = "Newsletter " + HOSTILE
    with page_client(web, "admin") as client:
        form = client.get("/connections/new")
        assert '<input id="api_key" name="api_key" type="password" autocomplete="off"' in form.text
        assert html.escape(PRIVACY_STATEMENT.splitlines()[0]) in form.text
        assert 'id="agree" name="agree" value="yes" required' in form.text
        added = _connect(
            client, name=name, api_key=TEST_API_KEY, base_url=url, shared="contributors"
        )
        assert added.status_code == 303
        assert added.headers["location"] == _link(name) + "?notice=added"
        page = client.get(added.headers["location"])
        listing = client.get("/connections")
        assert f'href="{_link(name)}"' in listing.text and "%2F" in _link(name)
        assert f'action="{_link(name)}/take-over"' not in page.text  # already the export user
        assert f'action="{_link(name)}/key"' in page.text
    assert page.status_code == 200
    view = show_connection(web.ws, web.actor("admin"), name)
    assert view.shared_with_contributors and view.export_user == "admin"
    assert view.account_email and html.escape(view.account_email) in page.text
    assert 'id="export-user">admin' in page.text
    assert "Connected" in page.text
    for shown in (page, listing):
        assert "<img src=x>" not in shown.text and "&lt;img src=x&gt;" in shown.text
        _no_key_anywhere(shown)


def test_a_wrong_key_shows_brevos_message_and_never_the_key(site: tuple[Web, str]) -> None:
    web, url = site
    with page_client(web, "admin") as client:
        refused = _connect(client, name="wrong one", api_key=WRONG_KEY, base_url=url)
    assert refused.status_code == 502
    assert 'data-code="api_key_refused"' in refused.text
    assert "Key not found" in refused.text  # Brevo's own words
    assert 'value="wrong one"' in refused.text  # the name is kept, the key is not
    _no_key_anywhere(refused, WRONG_KEY)
    assert "wrong one" not in [c.name for c in list_connections(web.ws, web.actor("admin"))]


def test_no_consent_saves_nothing(site: tuple[Web, str]) -> None:
    web, url = site
    with page_client(web, "admin") as client:
        refused = _connect(client, name="no consent", api_key=WRONG_KEY, base_url=url, agree="")
    assert refused.status_code == 422
    assert 'data-code="consent_required"' in refused.text
    _no_key_anywhere(refused, WRONG_KEY)


def test_a_post_without_the_csrf_token_is_refused(site: tuple[Web, str]) -> None:
    web, url = site
    with page_client(web, "admin") as client:
        answer = client.post(
            "/connections/new",
            data={"name": "no token", "api_key": TEST_API_KEY, "agree": "yes", "base_url": url},
        )
    assert answer.status_code == 403
    assert "no token" not in [c.name for c in list_connections(web.ws, web.actor("admin"))]


def _own_connection(web: Web, url: str, name: str) -> None:
    add_connection(
        web.ws, web.actor("admin"), name, "brevo", TEST_API_KEY, agree_privacy=True, base_url=url
    )


def test_edit_and_rotate_the_key(site: tuple[Web, str]) -> None:
    web, url = site
    _own_connection(web, url, "rotating")
    with page_client(web, "admin") as client:
        page = client.get("/connections/rotating")
        token = csrf_of(page)
        assert 'name="api_key" type="password" autocomplete="off"' in page.text
        wrong = client.post(
            "/connections/rotating/key", data={"csrf_token": token, "api_key": WRONG_KEY}
        )
        assert wrong.status_code == 502 and "Key not found" in wrong.text
        _no_key_anywhere(wrong, WRONG_KEY)
        good = client.post(
            "/connections/rotating/key", data={"csrf_token": token, "api_key": TEST_API_KEY}
        )
        assert good.status_code == 303
        assert "New API key saved" in client.get(good.headers["location"]).text
        edited = client.post(
            "/connections/rotating/edit",
            data={"csrf_token": token, "new_name": "rotated", "shared": "contributors"},
        )
        assert edited.status_code == 303 and edited.headers["location"].startswith(
            "/connections/rotated?"
        )
        assert show_connection(web.ws, web.actor("admin"), "rotated").shared_with_contributors
        # a post without the sharing choice leaves it as it is
        kept = client.post(
            "/connections/rotated/edit", data={"csrf_token": token, "new_name": "rotated"}
        )
        assert kept.status_code == 303
    assert show_connection(web.ws, web.actor("admin"), "rotated").shared_with_contributors


def test_another_admin_takes_over(site: tuple[Web, str]) -> None:
    web, url = site
    _own_connection(web, url, "handover")
    admin = web.actor("admin")
    add_user(web.ws, admin, "ada", "admin")
    set_password(web.ws, admin, "ada", Secret("ada password 1", scrub=False))
    with web.client() as client:
        signed = client.post(
            "/sign-in", data={"name": "ada", "password": "ada password 1"}, follow_redirects=True
        )
        assert signed.status_code == 200
        page = client.get("/connections/handover")
        assert 'id="take-over"' in page.text
        taken = client.post("/connections/handover/take-over", data={"csrf_token": csrf_of(page)})
        assert taken.status_code == 303
        after = client.get(taken.headers["location"])
    assert 'id="you-are-export-user"' in after.text
    assert show_connection(web.ws, admin, "handover").export_user == "ada"


def test_remove_asks_what_to_do_with_its_exports_then_to_confirm(site: tuple[Web, str]) -> None:
    web, url = site
    _own_connection(web, url, "leaving")
    admin = web.actor("admin")
    news = show_export(web.ws, admin, "news").config
    add_export(
        web.ws,
        admin,
        ExportConfig(
            name="on leaving",
            connection="leaving",
            list_id=news.list_id,
            segments=("gold",),
            mapping=ExportMapping(email="email"),
            share_list=True,
        ),
    )
    with page_client(web, "admin") as client:
        token = csrf_of(client.get("/connections/leaving"))
        unchosen = client.post("/connections/leaving/remove", data={"csrf_token": token})
        assert unchosen.status_code == 422 and 'data-code="detach_or_remove"' in unchosen.text
        asked = client.post(
            "/connections/leaving/remove", data={"csrf_token": token, "exports": "detach"}
        )
        assert asked.status_code == 200 and 'id="remove-confirm"' in asked.text
        assert "on leaving" in asked.text and "detach them" in asked.text
        # not removed until confirmed
        assert show_connection(web.ws, admin, "leaving").exports == ["on leaving"]
        done = client.post(
            "/connections/leaving/remove",
            data={"csrf_token": token, "exports": "detach", "confirm": "yes"},
        )
        assert done.status_code == 303 and done.headers["location"] == "/connections?notice=removed"
        assert "Connection removed" in client.get(done.headers["location"]).text
        assert client.get("/connections/leaving").status_code == 404
    assert show_export(web.ws, admin, "on leaving").config.connection is None

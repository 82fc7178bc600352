"""The Users pages (admins): the list with roles, Add user with a first password (who can
then sign in), change role, reset password, a user's API tokens (made and shown once,
listed by prefix, revoked) and removal with its confirmation step. Others get the
service's refusal. Each test makes the users it changes (the module's server is shared).
"""

from __future__ import annotations

import re

import httpx
import pytest
from tests.fixtures.server import Web
from tests.integration.server.pages_helpers import csrf_of, page_client, references

from segport.secret import Secret
from segport.service import add_user, list_tokens, list_users, set_password, take_over

TOKEN = re.compile(r'<code class="token" id="token-value" tabindex="0">([^<]+)</code>')
PASSWORD = "a new password 12"


def _post(client: httpx.Client, page: str, action: str, **fields: str) -> httpx.Response:
    token = csrf_of(client.get(page))
    return client.post(action, data={"csrf_token": token, **fields})


def _roles(web: Web) -> dict[str, str]:
    return {u.name: u.role.value for u in list_users(web.ws, web.actor("admin"))}


def _make(web: Web, name: str, role: str = "viewer") -> None:
    add_user(web.ws, web.actor("admin"), name, role)
    set_password(web.ws, web.actor("admin"), name, Secret("first password 1", scrub=False))


def test_an_admin_lists_the_users_with_their_roles(web: Web) -> None:
    with page_client(web, "admin") as client:
        page = client.get("/users")
    assert page.status_code == 200
    assert 'id="nav-users" aria-current="page"' in page.text
    table = page.text.split('id="users"')[1].split("</table>")[0]
    for name, role in (("admin", "admin"), ("carol", "contributor"), ("victor", "viewer")):
        row = table.split(f'href="/users/{name}"')[1].split("</tr>")[0]
        assert f'<td class="role">{role}</td>' in row
    assert 'id="add-user-form"' in page.text
    _urls, inline = references(page.text)
    assert inline == 0


@pytest.mark.parametrize("user", ["carol", "victor"])
def test_others_are_refused_every_users_page_and_action(web: Web, user: str) -> None:
    with page_client(web, user) as client:
        token = csrf_of(client.get("/profiles"))
        answers = [
            client.get("/users"),
            client.get("/users/admin"),
            client.post(
                "/users/new",
                data={
                    "csrf_token": token,
                    "name": "intruder",
                    "role": "admin",
                    "password": "x" * 20,
                },
            ),
            client.post("/users/victor/role", data={"csrf_token": token, "role": "admin"}),
            client.post("/users/admin/password", data={"csrf_token": token, "password": "x" * 20}),
            client.post("/users/admin/tokens", data={"csrf_token": token, "token_name": "x"}),
            client.post("/users/admin/remove", data={"csrf_token": token, "confirm": "yes"}),
        ]
        assert 'id="nav-users"' not in client.get("/profiles").text
    for answer in answers:
        assert answer.status_code == 403, answer.text
        assert 'data-code="permission_denied"' in answer.text
    roles = _roles(web)
    assert "intruder" not in roles and roles["victor"] == "viewer" and roles["admin"] == "admin"


def test_add_a_user_who_then_signs_in(web: Web) -> None:
    with page_client(web, "admin") as client:
        added = _post(
            client, "/users", "/users/new", name="nina", role="contributor", password=PASSWORD
        )
        assert added.status_code == 303
        assert added.headers["location"] == "/users/nina?notice=added"
        page = client.get(added.headers["location"])
    assert 'id="notice"' in page.text and '<dd id="user-role">contributor</dd>' in page.text
    assert PASSWORD not in page.text
    with web.client() as nina:
        signed = nina.post("/api/v1/session", json={"name": "nina", "password": PASSWORD})
    assert signed.status_code == 201 and signed.json()["user"]["role"] == "contributor"


def test_a_refused_new_user_keeps_what_was_typed_and_is_not_made(web: Web) -> None:
    with page_client(web, "admin") as client:
        short = _post(client, "/users", "/users/new", name="oscar", role="admin", password="short")
        taken = _post(
            client, "/users", "/users/new", name="carol", role="viewer", password=PASSWORD
        )
        bad = _post(
            client, "/users", "/users/new", name="<b>x</b>", role="viewer", password=PASSWORD
        )
    assert short.status_code == 422
    assert 'id="error-password" data-code="password_too_short"' in short.text
    assert 'value="oscar"' in short.text and '<option value="admin" selected>' in short.text
    assert "short" not in short.text.split('id="add-user-form"')[1].split('id="error-password"')[0]
    assert taken.status_code == 409 and 'id="error-name" data-code="user_exists"' in taken.text
    assert (
        bad.status_code == 422 and "<b>x</b>" not in bad.text and "&lt;b&gt;x&lt;/b&gt;" in bad.text
    )
    roles = _roles(web)
    assert "oscar" not in roles and roles["carol"] == "contributor"


def test_change_role_and_reset_password(web: Web) -> None:
    _make(web, "paula")
    with page_client(web, "admin") as client:
        role = _post(client, "/users/paula", "/users/paula/role", role="contributor")
        wrong = _post(client, "/users/paula", "/users/paula/role", role="boss")
        short = _post(client, "/users/paula", "/users/paula/password", password="tiny")
        reset = _post(client, "/users/paula", "/users/paula/password", password=PASSWORD)
        last_admin = _post(client, "/users/admin", "/users/admin/role", role="viewer")
        missing = client.get("/users/nobody")
    assert role.status_code == 303 and role.headers["location"] == "/users/paula?notice=role"
    assert wrong.status_code == 422
    assert 'id="error-role" data-code="role_invalid"' in wrong.text
    assert short.status_code == 422 and 'id="error-password"' in short.text
    assert reset.status_code == 303 and reset.headers["location"] == "/users/paula?notice=password"
    assert last_admin.status_code == 409 and 'data-code="last_admin"' in last_admin.text
    assert missing.status_code == 404
    assert _roles(web)["paula"] == "contributor" and _roles(web)["admin"] == "admin"
    with web.client() as paula:
        signed = paula.post("/api/v1/session", json={"name": "paula", "password": PASSWORD})
    assert signed.status_code == 201


def test_a_token_is_shown_once_works_and_is_revoked(web: Web) -> None:
    _make(web, "quinn")
    with page_client(web, "admin") as client:
        made = _post(
            client, "/users/quinn", "/users/quinn/tokens", token_name="ci <job>", expires_in="30"
        )
        assert made.status_code == 200, made.text
        found = TOKEN.search(made.text)
        assert found, "the new token is not on the page"
        token = found.group(1)
        assert "ci &lt;job&gt;" in made.text
        again = client.get("/users/quinn")
        listed = list_tokens(web.ws, web.actor("admin"), "quinn")
        assert len(listed) == 1 and token.startswith(listed[0].prefix)
        assert token not in again.text and 'id="new-token"' not in again.text  # never again
        assert listed[0].prefix in again.text and 'id="revoke-' in again.text
        with web.client(headers={"Authorization": f"Bearer {token}"}) as bearer:
            assert bearer.get("/api/v1/me").json()["user"]["name"] == "quinn"
        bad_expiry = _post(client, "/users/quinn", "/users/quinn/tokens", expires_in="7")
        revoked = _post(client, "/users/quinn", f"/users/quinn/tokens/{listed[0].id}/revoke")
        assert revoked.status_code == 303
        assert revoked.headers["location"] == "/users/quinn?notice=revoked"
        after = client.get("/users/quinn")
        unknown = _post(client, "/users/quinn", "/users/quinn/tokens/999999/revoke")
    assert bad_expiry.status_code == 422 and 'id="error-expires_in"' in bad_expiry.text
    assert '<td class="token-status">revoked' in after.text and token not in after.text
    assert unknown.status_code == 404 and 'data-code="token_not_found"' in unknown.text
    with web.client(headers={"Authorization": f"Bearer {token}"}) as bearer:
        assert bearer.get("/api/v1/me").status_code == 401
    assert [t.status for t in list_tokens(web.ws, web.actor("admin"), "quinn")] == ["revoked"]


def test_remove_a_user_after_confirming(web: Web) -> None:
    _make(web, "rita")
    with page_client(web, "admin") as client:
        ask = _post(client, "/users/rita", "/users/rita/remove")
        assert ask.status_code == 200 and 'id="remove-confirm"' in ask.text
        assert "rita" in _roles(web)
        done = _post(client, "/users/rita", "/users/rita/remove", confirm="yes")
        assert done.status_code == 303 and done.headers["location"] == "/users?notice=removed"
        gone = client.get("/users/rita")
    assert "rita" not in _roles(web) and gone.status_code == 404


def test_demoting_an_export_user_says_which_connections_stop(web: Web) -> None:
    _make(web, "tess", "admin")
    take_over(web.ws, web.actor("tess"), "shared")
    try:
        with page_client(web, "admin") as client:
            demoted = _post(client, "/users/tess", "/users/tess/role", role="viewer")
        assert demoted.status_code == 200
        stopped = demoted.text.split('id="stopped"')[1].split("</p>")[0]
        assert "shared" in stopped and "private" not in stopped
        assert '<dd id="user-role">viewer</dd>' in demoted.text
    finally:
        take_over(web.ws, web.actor("admin"), "shared")

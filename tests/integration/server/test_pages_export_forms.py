"""Add export and Edit (the form, its validation messages next to their fields), and an
export's Duplicate, Detach, Remove, Dry run and the list's Run all: by role, with CSRF,
through the real server (no browser)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from tests.fixtures.server import Web
from tests.integration.server.pages_helpers import csrf_of, page_client

from segport.service import cancel_run, list_exports, show_export


def _form(client: httpx.Client, url: str, **fields: str) -> dict[str, str]:
    """The add form's fields for a valid export on 'shared' (new list), with ``fields``."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    data = {
        "csrf_token": csrf_of(page),
        "connection": "shared",
        "name": "form export",
        "list_choice": "new",
        "list_id": "",
        "new_list": "form list",
        "email": "email",
        "first_name": "first_name",
        "last_name": "",
        "phone": "",
        "attr-0": "EXT_ID",
        "col-0": "customer_id",
        "segment-0": "gold",
        "profile_limit": "1000000",
        "mode": "add",
        "empty_values": "clear",
        "schedule": "system",
        "cron": "",
        "timezone": "",
        "action": "save",
    }
    data.update(fields)
    return data


def _field_error(html: str, place: str) -> str:
    found = re.search(
        rf'<span class="error field-error"[^>]*id="error-{place}"[^>]*>([^<]*)<', html
    )
    assert found, f"no error shown at {place}"
    return found.group(1)


@pytest.fixture(scope="module")
def carol(web: Web) -> Iterator[httpx.Client]:
    with page_client(web, "carol") as client:
        yield client


def test_the_add_form_offers_what_the_user_may_use(web: Web, carol: httpx.Client) -> None:
    # carol may use one connection: the form opens on it, with its account's lists,
    # attributes, the profile columns and the segments with their members
    page = carol.get("/exports/new")
    assert page.status_code == 200
    assert '<option value="shared" selected>' in page.text
    assert 'value="private"' not in page.text
    news = show_export(web.ws, web.actor("admin"), "news").config.list_id
    assert f'<option value="{news}">news (#{news}' in page.text
    assert '<option value="EXT_ID">' in page.text and '"SMS"' not in page.text
    assert '<datalist id="columns">' in page.text and '<option value="email">' in page.text
    assert re.search(r'value="gold">\s*<label class="inline" for="segment-0">gold', page.text)
    assert "5 members" in page.text
    assert 'hx-get="/exports/form/limit"' in page.text
    with page_client(web, "admin") as admin:
        step = admin.get("/exports/new")  # two connections: pick one first
        assert 'id="connection-step"' in step.text and 'value="private"' in step.text
        form = admin.get("/exports/new", params={"connection": "private"})
        assert '<option value="private" selected>' in form.text
    with page_client(web, "victor") as viewer:
        refused = viewer.get("/exports/new")
        assert refused.status_code == 403 and 'role="alert"' in refused.text


def test_add_attribute_and_use_connection_keep_what_was_typed(
    web: Web, carol: httpx.Client
) -> None:
    data = _form(carol, "/exports/new", name="<b>typed</b>", action="add_attribute")
    again = carol.post("/exports/new", data=data)
    assert again.status_code == 200
    assert 'value="&lt;b&gt;typed&lt;/b&gt;"' in again.text
    assert 'id="attr-1"' in again.text and 'id="attr-2"' not in again.text
    assert '<option value="EXT_ID" selected>' in again.text
    assert 'value="gold" checked' in again.text
    data["action"] = "connection"
    assert 'value="form list"' in carol.post("/exports/new", data=data).text
    assert "<b>typed</b>" not in [v.config.name for v in list_exports(web.ws, web.actor("admin"))]


@pytest.mark.parametrize(
    ("fields", "place", "code"),
    [
        ({"email": "no_such_column"}, "email", "column_not_found"),
        ({"segment-0": ""}, "segments", "segments_missing"),
        ({"profile_limit": "lots"}, "profile_limit", "profile_limit_invalid"),
        ({"schedule": "cron"}, "schedule", "cron_missing"),
        ({"name": "news"}, "name", "export_invalid"),  # taken
        ({"list_choice": "existing", "list_id": ""}, "list", "list_missing"),
        ({"attr-0": "EXT_ID", "col-0": ""}, "attributes", "attribute_mapping_invalid"),
    ],
)
def test_a_refusal_shows_next_to_its_field_keeping_the_form(
    web: Web, carol: httpx.Client, fields: dict[str, str], place: str, code: str
) -> None:
    data = _form(carol, "/exports/new", **fields)
    before = len(list_exports(web.ws, web.actor("admin")))
    answer = carol.post("/exports/new", data=data)
    assert answer.status_code in (409, 422), answer.text
    assert f'data-code="{code}"' in answer.text
    assert _field_error(answer.text, place)
    assert f'href="#error-{place}"' in answer.text  # the summary on top points at it
    assert f'value="{data["name"]}"' in answer.text  # what was typed stays
    assert len(list_exports(web.ws, web.actor("admin"))) == before  # nothing saved


def test_posts_without_the_csrf_token_are_refused(carol: httpx.Client) -> None:
    for url in ("/exports/new", "/exports/news/edit", "/exports/news/remove", "/exports/run-all"):
        answer = carol.post(url, data={"name": "x", "confirm": "yes"})
        assert answer.status_code == 403, url
        assert 'data-code="csrf_failed"' in answer.text
    answer = carol.post(
        "/exports/news/detach",
        data={"csrf_token": csrf_of(carol.get("/exports"))},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403 and 'data-code="csrf_failed"' in answer.text


def test_a_contributor_adds_edits_duplicates_detaches_and_removes(
    web: Web, carol: httpx.Client
) -> None:
    admin = web.actor("admin")
    saved = carol.post("/exports/new", data=_form(carol, "/exports/new"))
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/exports/form%20export?notice=saved"
    page = carol.get(saved.headers["location"])
    assert "Export saved. It is not run" in page.text and 'id="no-runs"' in page.text
    for button in ('id="run"', 'id="dry-run"', 'id="edit"', 'id="duplicate"', 'id="detach"',
                   'id="remove"'):  # fmt: skip
        assert button in page.text
    view = show_export(web.ws, admin, "form export")
    assert view.config.mapping.attributes == {"EXT_ID": "customer_id"}
    assert view.last_status is None  # saved, not run

    # Edit: the form holds the export; a refusal keeps the edit; a good one saves
    form = carol.get("/exports/form%20export/edit")
    assert form.status_code == 200
    assert 'value="form export"' in form.text and '<option value="EXT_ID" selected>' in form.text
    assert 'name="new_list"' not in form.text  # an edit picks among existing lists
    data = {
        **_form(carol, "/exports/form%20export/edit"),
        "list_choice": "existing",
        "list_id": str(view.config.list_id),
        "mode": "mirror",
        "attr-0": "",
        "col-0": "",
        "email": "nope",
    }
    refused = carol.post("/exports/form%20export/edit", data=data)
    assert refused.status_code == 422 and _field_error(refused.text, "email")
    assert 'id="mode-mirror" name="mode" value="mirror" checked' in refused.text
    data["email"] = "email"
    edited = carol.post("/exports/form%20export/edit", data=data)
    assert edited.status_code == 303 and edited.headers["location"].endswith("?notice=edited")
    view = show_export(web.ws, admin, "form export")
    assert view.config.mode == "mirror" and view.config.mapping.attributes == {}

    # Duplicate: on the same list only when shared knowingly
    dup = carol.get("/exports/form%20export/duplicate")
    assert 'value="form export (copy)"' in dup.text
    token = csrf_of(dup)
    same = {"csrf_token": token, "new_name": "form copy", "list_id": str(view.config.list_id)}
    refused = carol.post("/exports/form%20export/duplicate", data=same)
    assert refused.status_code == 422, refused.text
    assert 'id="error-list_id"' in refused.text and 'value="form copy"' in refused.text
    copied = carol.post("/exports/form%20export/duplicate", data={**same, "share_list": "yes"})
    assert copied.status_code == 303
    assert copied.headers["location"] == "/exports/form%20copy?notice=duplicated"
    assert show_export(web.ws, admin, "form copy").config.share_list

    # Detach, then Remove through its confirmation step
    detached = carol.post("/exports/form%20copy/detach", data={"csrf_token": token})
    assert detached.status_code == 303
    assert show_export(web.ws, admin, "form copy").config.connection is None
    page = carol.get("/exports/form%20copy?notice=detached")
    assert "Detached" in page.text and 'id="detach"' not in page.text
    dry = carol.post("/exports/form%20copy/dry-run", data={"csrf_token": token})
    assert dry.status_code == 200 and 'data-status="skipped"' in dry.text
    assert 'id="dry-run-message"' in dry.text and "No connection" in dry.text
    confirm = carol.get("/exports/form%20copy/remove")
    assert 'id="remove-confirmed"' in confirm.text
    unconfirmed = carol.post("/exports/form%20copy/remove", data={"csrf_token": token})
    assert unconfirmed.status_code == 200 and 'id="remove-confirmed"' in unconfirmed.text
    removed = carol.post(
        "/exports/form%20copy/remove", data={"csrf_token": token, "confirm": "yes"}
    )
    assert removed.status_code == 303 and removed.headers["location"] == "/exports?notice=removed"
    names = [v.config.name for v in list_exports(web.ws, admin)]
    assert "form copy" not in names and "form export" in names
    assert "Export removed." in carol.get("/exports?notice=removed").text


def test_the_dry_run_page_says_what_a_run_would_do(web: Web) -> None:
    with page_client(web, "admin") as admin:
        page = admin.get("/exports/vip")
        answer = admin.post("/exports/vip/dry-run", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 200, answer.text
    assert "Nothing was sent to Brevo" in answer.text
    assert '<dd id="dry-members">5</dd>' in answer.text
    assert '<dd id="dry-new">5</dd>' in answer.text
    assert '<dd id="dry-rejected">0</dd>' in answer.text
    assert 'id="sample-new"' in answer.text and "user1@example.com" in answer.text
    assert show_export(web.ws, web.actor("admin"), "vip").last_status is None  # not recorded


@pytest.mark.parametrize(("user", "export"), [("victor", "news"), ("carol", "vip")])
def test_who_may_only_view_gets_no_buttons_and_forged_posts_are_refused(
    web: Web, user: str, export: str
) -> None:
    with page_client(web, user) as client:
        listing = client.get("/exports")
        assert ('id="add-export"' in listing.text) is (user == "carol")
        assert ('id="run-all"' in listing.text) is (user == "carol")
        page = client.get(f"/exports/{export}")
        for button in ("run", "dry-run", "edit", "duplicate", "detach", "remove"):
            assert f'id="{button}"' not in page.text
        assert 'id="no-run"' in page.text
        form = client.get(f"/exports/{export}/edit")
        if user == "carol":  # the form, to read, without Save
            assert 'id="may-not-edit"' in form.text and 'id="save"' not in form.text
        else:
            assert form.status_code == 403
        token = csrf_of(page)
        list_id = str(show_export(web.ws, web.actor("admin"), export).config.list_id)
        # complete forms, as a forger would send: the service refuses them
        forged = {"csrf_token": token, "confirm": "yes", "new_name": "x", "name": "x",
                  "connection": "shared", "list_id": list_id, "email": "email",
                  "segment-0": "gold", "mode": "mirror", "profile_limit": "9"}  # fmt: skip
        for action in ("edit", "duplicate", "detach", "remove", "dry-run"):
            answer = client.post(f"/exports/{export}/{action}", data=forged)
            assert answer.status_code == 403, (action, answer.text)
            assert 'role="alert"' in answer.text
        if user == "victor":
            for url in ("/exports/run-all", "/exports/new"):
                assert client.post(url, data=forged).status_code == 403
    config = show_export(web.ws, web.actor("admin"), export).config
    assert config.connection is not None and config.mode == "add"


def test_the_limit_warning(carol: httpx.Client) -> None:
    over = carol.get("/exports/form/limit", params={"segment-0": "gold", "profile_limit": "3"})
    assert over.status_code == 200 and 'data-over="yes"' in over.text
    assert "<html" not in over.text and "over the export's limit of 3" in over.text
    under = carol.get("/exports/form/limit", params={"segment-0": "gold", "profile_limit": "9"})
    assert 'data-over="no"' in under.text
    page = carol.post(
        "/exports/new", data=_form(carol, "/exports/new", profile_limit="2", action="add_attribute")
    )
    assert 'data-over="yes"' in page.text


def test_run_all_requests_the_scheduled_exports(web: Web, carol: httpx.Client) -> None:
    answer = carol.post("/exports/run-all", data={"csrf_token": csrf_of(carol.get("/exports"))})
    try:
        assert answer.status_code == 200, answer.text
        assert 'id="run-all-done"' in answer.text
        assert 'href="/exports/news">news</a>:' in answer.text
        # a contributor's Run all leaves out the export on the admins' connection
        assert 'href="/exports/vip">' not in answer.text
        assert answer.text.count("queued</a>") >= 1
    finally:
        for run_id in re.findall(r'href="/runs/(\d+)" class="run-link"', answer.text):
            cancel_run(web.ws, web.actor("admin"), int(run_id))

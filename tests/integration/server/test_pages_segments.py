"""Segments pages over httpx: the list by role, one segment with its preview, the rule
builder (Add condition / Add group / Remove re-render the form, Save saves, a refusal
keeps what was typed and shows the message at the input it names), the live count
fragment htmx asks for, activate/deactivate, count and delete with its confirmation, and
a profile value holding markup shown as text.

The module's server gets one more profile (id 0, tier gold) whose first name is markup."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.fixtures.server import PROFILES, Web
from tests.integration.server.pages_helpers import csrf_of, page_client, references

from segport.service import load_profiles, show_segment

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def site(web: Web, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    csv = Path(tmp_path_factory.mktemp("hostile")) / "profiles.csv"
    csv.write_text(PROFILES + f"0,zero@example.com,{HOSTILE},gold\n", encoding="utf-8")
    load_profiles(web.ws, web.actor("admin"), csv, id_column="customer_id", replace=True)
    yield web


def _form(client: httpx.Client, url: str = "/segments/new") -> tuple[httpx.Response, str]:
    page = client.get(url)
    assert page.status_code == 200, page.text
    return page, csrf_of(page)


def _error_at(page: httpx.Response, field: str) -> str:
    """The message shown next to the input ``field``."""
    found = re.search(
        rf'<p class="error field-error"[^>]*data-field="{re.escape(field)}">([^<]*)<', page.text
    )
    assert found, f"no message at {field}: {page.text}"
    return html.unescape(found.group(1))


def _value_of(page: httpx.Response, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', page.text)
    assert found, f"no input {name}"
    return html.unescape(found.group(1))


def test_the_list_shows_members_and_state_by_role(site: Web) -> None:
    with page_client(site, "victor") as client:
        client.post("/segments/refresh", data={"csrf_token": csrf_of(client.get("/segments"))})
        page = client.get("/segments")
    assert page.status_code == 200
    row = page.text.split('data-name="gold"')[1].split("</tr>")[0]
    assert 'class="state state-active"' in row and '<td class="members">6</td>' in row
    assert "tier = &#39;gold&#39;" in row
    assert 'id="new-segment"' not in page.text  # a viewer only sees
    _urls, inline = references(page.text)
    assert inline == 0
    with page_client(site, "carol") as client:
        assert 'id="new-segment"' in client.get("/segments").text


def test_a_viewer_is_refused_the_builder_and_every_change(site: Web) -> None:
    with page_client(site, "victor") as client:
        assert client.get("/segments/new").status_code == 403
        page = client.get("/segments/gold")
        assert page.status_code == 200 and 'id="edit"' not in page.text
        assert 'id="deactivate"' not in page.text and 'id="delete"' not in page.text
        token = csrf_of(page)
        for url, data in (
            ("/segments/new", {"name": "v", "mode": "expression", "where": "tier = 'x'"}),
            ("/segments/gold/state", {"state": "inactive"}),
            ("/segments/gold/delete", {"confirm": "yes"}),
        ):
            answer = client.post(url, data={"csrf_token": token, **data})
            assert answer.status_code == 403, url
            assert "create or change segments" in answer.text
    assert show_segment(site.ws, site.actor("admin"), "gold").state == "active"


def test_the_builder_adds_and_removes_conditions_and_groups(site: Web) -> None:
    with page_client(site, "carol") as client:
        page, token = _form(client)
        assert 'id="g0-c0-attribute"' in page.text and 'id="g0-c1-attribute"' not in page.text
        typed = {
            "csrf_token": token,
            "name": "typed-name",
            "mode": "conditions",
            "g0.match": "any",
            "g0.c0.attribute": "tier",
            "g0.c0.operator": "equals",
            "g0.c0.value": "gold",
        }
        more = client.post("/segments/new", data={**typed, "action": "add_condition:0"})
        assert more.status_code == 200
        assert 'id="g0-c1-attribute"' in more.text
        assert _value_of(more, "name") == "typed-name" and _value_of(more, "g0.c0.value") == "gold"
        assert '<option value="any" selected>' in more.text
        grouped = client.post("/segments/new", data={**typed, "action": "add_group"})
        assert 'id="group-1"' in grouped.text and 'id="match"' in grouped.text
        fewer = client.post(
            "/segments/new",
            data={**typed, "g0.c1.attribute": "email", "g0.c1.value": "x", "action": "remove:0.0"},
        )
        assert _value_of(fewer, "g0.c0.value") == "x"  # the second became the first
        assert 'id="g0-c1-attribute"' not in fewer.text
        # without JavaScript, Count members shows the count in the re-rendered form
        counted = client.post("/segments/new", data={**typed, "action": "count"})
        assert '<strong id="draft-members">6</strong>' in counted.text


def test_saving_a_rule_of_groups(site: Web) -> None:
    with page_client(site, "carol") as client:
        _page, token = _form(client)
        answer = client.post(
            "/segments/new",
            data={
                "csrf_token": token,
                "name": "page-rule",
                "description": "built on the page",
                "mode": "conditions",
                "match": "any",
                "g0.match": "all",
                "g0.c0.attribute": "tier",
                "g0.c0.operator": "equals",
                "g0.c0.value": "gold",
                "g0.c1.attribute": "customer_id",
                "g0.c1.operator": "greater_than",
                "g0.c1.value": "3",
                "g1.match": "all",
                "g1.c0.attribute": "customer_id",
                "g1.c0.operator": "any_of",
                "g1.c0.value": "0, 1",
                "g1.c1.attribute": "",  # a row left empty is no condition
                "action": "save",
            },
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/segments/page-rule?notice=created"
        page = client.get(answer.headers["location"])
    info = show_segment(site.ws, site.actor("admin"), "page-rule")
    assert info.expression == "(tier = 'gold' and customer_id > 3) or customer_id in (0, 1)"
    assert info.description == "built on the page"
    assert "Any of these" in page.text and "All of these" in page.text
    assert "greater than" in page.text
    # the first members: ids 0, 1, 4, 5
    assert [int(i) for i in re.findall(r"<tr><td>(\d+)</td>", page.text)] == [0, 1, 4, 5]


def test_a_refusal_keeps_the_input_and_names_the_field(site: Web) -> None:
    with page_client(site, "carol") as client:
        _page, token = _form(client)
        base = {
            "csrf_token": token,
            "name": "page-bad",
            "mode": "conditions",
            "g0.c0.attribute": "customer_id",
            "g0.c0.operator": "greater_than",
        }
        bad_number = client.post("/segments/new", data={**base, "g0.c0.value": "many"})
        assert bad_number.status_code == 422
        assert _error_at(bad_number, "g0.c0.value") == "'many' is not a number"
        assert _value_of(bad_number, "g0.c0.value") == "many"
        assert 'aria-invalid="true" aria-describedby="error"' in bad_number.text
        wrong_op = client.post(
            "/segments/new", data={**base, "g0.c0.operator": "contains", "g0.c0.value": "1"}
        )
        assert "does not apply" in _error_at(wrong_op, "g0.c0.operator")
        bad_name = client.post(
            "/segments/new", data={**base, "name": "no spaces", "g0.c0.value": "1"}
        )
        assert "is not allowed" in _error_at(bad_name, "name")
        assert _value_of(bad_name, "name") == "no spaces"
        taken = client.post("/segments/new", data={**base, "name": "gold", "g0.c0.value": "1"})
        assert "already exists" in _error_at(taken, "name")
        hostile = f"tier = '{HOSTILE}' and"
        expression = client.post(
            "/segments/new", data={**base, "mode": "expression", "where": hostile}
        )
        assert expression.status_code == 422
        assert _error_at(expression, "where")
        assert "= &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39; and" in expression.text
        assert HOSTILE not in expression.text
        assert 'id="mode-expression" name="mode" value="expression" checked' in expression.text
        combination = client.post(
            "/segments/new", data={**base, "mode": "combination", "combine": "gold union nosuch"}
        )
        assert combination.status_code == 404
        assert "no segment named 'nosuch'" in _error_at(combination, "combine")
        empty = client.post("/segments/new", data={**base, "g0.c0.attribute": ""})
        assert "no condition" in _error_at(empty, "g0.c0.attribute")
    with page_client(site, "admin") as client:
        listing = client.get("/segments").text
    assert "page-bad" not in listing


def test_the_live_count_fragment(site: Web) -> None:
    with page_client(site, "victor") as client:  # counting changes nothing: viewers may
        token = csrf_of(client.get("/segments"))
        data = {
            "mode": "conditions",
            "g0.c0.attribute": "customer_id",
            "g0.c0.operator": "less_than",
            "g0.c0.value": "2",
        }
        htmx = {"HX-Request": "true", "X-CSRF-Token": token}
        answer = client.post("/segments/draft", data=data, headers=htmx)
        assert answer.status_code == 200
        assert '<strong id="draft-members">2</strong>' in answer.text
        assert "<html" not in answer.text  # a fragment
        assert HOSTILE not in answer.text and html.escape(HOSTILE) in answer.text
        wrong = client.post("/segments/draft", data={**data, "g0.c0.value": "x"}, headers=htmx)
        assert wrong.status_code == 200  # htmx swaps a success in
        assert 'data-field="g0.c0.value"' in wrong.text and "not a number" in wrong.text
        combo = client.post(
            "/segments/draft",
            data={"mode": "combination", "combine": "gold except gold"},
            headers=htmx,
        )
        assert '<strong id="draft-members">0</strong>' in combo.text
        assert "No profile matches" in combo.text
        refused = client.post("/segments/draft", data=data, headers={"HX-Request": "true"})
        assert refused.status_code == 403  # no CSRF token


def test_the_builder_asks_htmx_for_the_live_count(site: Web) -> None:
    with page_client(site, "carol") as client:
        page, _ = _form(client)
    form = page.text.split('id="segment-form"')[1].split(">")[0]
    assert 'hx-post="/segments/draft"' in form
    assert 'hx-trigger="change, keyup delay:500ms"' in form and 'hx-target="#draft"' in form
    urls, inline = references(page.text)
    assert inline == 0 and all(u.startswith(("/", "#")) for u in urls)


def test_a_profile_value_is_shown_as_text(site: Web) -> None:
    with page_client(site, "victor") as client:
        page = client.get("/segments/gold")
    assert page.status_code == 200
    assert html.escape(HOSTILE) in page.text and HOSTILE not in page.text


def test_edit_state_count_and_delete(site: Web) -> None:
    with page_client(site, "carol") as client:
        _page, token = _form(client)
        made = client.post(
            "/segments/new",
            data={
                "csrf_token": token,
                "name": "page-edit",
                "mode": "expression",
                "where": "customer_id = 1 or customer_id = 2",
            },
        )
        assert made.status_code == 303
        form, token = _form(client, "/segments/page-edit/edit")
        assert 'hx-trigger="load, change' in form.text  # an edit counts at once
        assert _value_of(form, "g0.c1.value") == "2"  # the rule in the builder's groups
        assert '<option value="any" selected>' in form.text
        taken = client.post(
            "/segments/page-edit/edit",
            data={
                "csrf_token": token,
                "name": "gold",
                "mode": "expression",
                "where": "customer_id = 5",
            },
        )
        assert "already exists" in _error_at(taken, "name")
        assert _value_of(taken, "name") == "gold"
        unchanged = show_segment(site.ws, site.actor("admin"), "page-edit")
        assert unchanged.expression == "customer_id = 1 or customer_id = 2"
        saved = client.post(
            "/segments/page-edit/edit",
            data={
                "csrf_token": token,
                "name": "page-edited",
                "description": "renamed",
                "mode": "conditions",
                "g0.match": "all",
                "g0.c0.attribute": "customer_id",
                "g0.c0.operator": "between",
                "g0.c0.value": "1, 3",
            },
        )
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"] == "/segments/page-edited?notice=saved"
        info = show_segment(site.ws, site.actor("admin"), "page-edited")
        assert info.expression == "customer_id between 1 and 3" and info.description == "renamed"

        off = client.post(
            "/segments/page-edited/state", data={"csrf_token": token, "state": "inactive"}
        )
        page = client.get(off.headers["location"])
        assert 'id="state">inactive' in page.text and 'id="activate"' in page.text
        on = client.post(
            "/segments/page-edited/state", data={"csrf_token": token, "state": "active"}
        )
        assert "activated" in client.get(on.headers["location"]).text
        counted = client.post("/segments/page-edited/count", data={"csrf_token": token})
        assert '<dd id="members">3' in client.get(counted.headers["location"]).text

        ask = client.post("/segments/page-edited/delete", data={"csrf_token": token})
        assert ask.status_code == 200 and 'id="delete-confirm"' in ask.text
        assert show_segment(site.ws, site.actor("admin"), "page-edited")  # not yet
        gone = client.post(
            "/segments/page-edited/delete", data={"csrf_token": token, "confirm": "yes"}
        )
        assert gone.headers["location"] == "/segments?notice=deleted"
        assert client.get("/segments/page-edited").status_code == 404

        in_use = client.post("/segments/gold/delete", data={"csrf_token": token, "confirm": "yes"})
        assert in_use.status_code == 409
        assert 'data-code="segment_in_use"' in in_use.text and "news, vip" in in_use.text


def test_a_combination_is_saved_from_the_page(site: Web) -> None:
    with page_client(site, "carol") as client:
        form, token = _form(client)
        assert '<code class="segment-choice">gold</code>' in form.text
        saved = client.post(
            "/segments/new",
            data={
                "csrf_token": token,
                "name": "page-combo",
                "mode": "combination",
                "combine": "gold except gold",
                "action": "save",
            },
        )
        assert saved.status_code == 303
        page = client.get(saved.headers["location"])
    assert 'id="uses"' in page.text and "No profile matches" in page.text
    edit_page = None
    with page_client(site, "carol") as client:
        edit_page = client.get("/segments/page-combo/edit")
    assert 'id="mode-combination" name="mode" value="combination" checked' in edit_page.text
    assert _value_of(edit_page, "combine") == "gold except gold"

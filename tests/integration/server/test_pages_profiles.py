"""The Profiles page: the source with its columns, row count and last load and the first
rows (escaped) for every role; for admins, the upload form that loads a file and shows
its bad rows by line and column; the refusals (role, CSRF, size cap, a bad option kept
as typed).

Every load keeps the columns the module's segment and exports use."""

from __future__ import annotations

import html

import httpx
import pytest
from tests.fixtures.server import Web
from tests.integration.server.pages_helpers import csrf_of, page_client, references
from tests.integration.server.test_api_profiles import profiles_csv

from segport.server import uploads
from segport.service import describe_source

HOSTILE = "<script>alert(1)</script>"


def _upload(
    client: httpx.Client,
    body: bytes | str,
    filename: str = "profiles.csv",
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    **fields: str,
) -> httpx.Response:
    if token is None:
        token = csrf_of(client.get("/profiles"))
    data = {"csrf_token": token, "table": "customers", "id_column": "customer_id"}
    data.update({"replace": "yes", **fields})
    files = {"file": (filename, body, "text/csv")}
    return client.post("/profiles/load", data=data, files=files, headers=headers)


def test_an_admin_sees_the_source_its_columns_rows_and_the_upload_form(web: Web) -> None:
    with page_client(web, "admin") as client:
        page = client.get("/profiles")
    assert page.status_code == 200
    text = page.text
    assert 'id="nav-profiles" aria-current="page"' in text
    source = describe_source(web.ws, web.actor("admin"))
    assert f'<dd id="row-count">{source.row_count:,}</dd>' in text
    assert '<dd id="source-table">customers</dd>' in text
    assert 'id="last-load"' in text and "UTC" in text.split('id="last-load"')[1][:80]
    columns = text.split('id="profile-columns"')[1].split("</table>")[0]
    for name in ("customer_id", "email", "first_name", "tier"):
        assert f'<th scope="row">{name}</th>' in columns
    assert "<code>BIGINT</code>" in columns and "<code>VARCHAR</code>" in columns
    rows = text.split('id="profile-rows"')[1].split("</table>")[0]
    assert "user1@example.com" in rows and rows.count("<tr>") >= 3
    form = text.split('id="load-form"')[0].rsplit("<form", 1)[1] + text.split('id="load-form"')[1]
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form
    # the token comes first in the body: checked before the file is loaded
    assert form.index('name="csrf_token"') < form.index('name="file"')
    _urls, inline = references(text)
    assert inline == 0


@pytest.mark.parametrize("user", ["carol", "victor"])
def test_others_see_the_profiles_but_cannot_load(web: Web, user: str) -> None:
    before = describe_source(web.ws, web.actor("admin"))
    with page_client(web, user) as client:
        page = client.get("/profiles")
        assert page.status_code == 200
        assert 'id="profile-rows"' in page.text and 'id="load-form"' not in page.text
        refused = _upload(client, profiles_csv(5), token=csrf_of(page))
    assert refused.status_code == 403
    assert 'data-code="permission_denied"' in refused.text
    assert describe_source(web.ws, web.actor("admin")).updated_at == before.updated_at


def test_a_load_shows_its_bad_rows_by_line_and_column(web: Web) -> None:
    with page_client(web, "admin") as client:
        answer = _upload(client, profiles_csv(12, bad_age_at=5, long_row_at=9), "march.csv")
    assert answer.status_code == 200, answer.text
    result = answer.text.split('id="load-result"')[1].split("</section>")[0]
    assert "Loaded 11 profiles from march.csv" in result
    assert "1 bad row(s) skipped" in result and "1 value(s) did not fit" in result
    problems = result.split('id="load-problems"')[1].split("</table>")[0]
    bad = problems.split('class="problem-bad_value"')[1].split("</tr>")[0]
    assert "<td>6</td>" in bad and "<td>age</td>" in bad and "abc" in bad
    skipped = problems.split('class="problem-rejected_row"')[1].split("</tr>")[0]
    assert "<td>10</td>" in skipped and "too many columns" in skipped and "spare" in skipped
    # the page shows the new source too
    assert '<dd id="row-count">11</dd>' in answer.text
    assert "march.csv" in answer.text.split('id="last-load"')[1].split("</dd>")[0]


def test_profile_values_and_file_names_are_escaped(web: Web) -> None:
    text = profiles_csv(4).replace("First2", HOSTILE.replace(",", ""))
    name = "<img src=x onerror=alert(1)>.csv"
    with page_client(web, "admin") as client:
        answer = _upload(client, text, name)
        assert answer.status_code == 200, answer.text
        page = client.get("/profiles")
    for shown in (answer.text, page.text):
        assert HOSTILE not in shown and "<img src=x" not in shown
        assert html.escape(HOSTILE, quote=False) in shown
    assert html.escape(name, quote=False) in page.text.split('id="last-load"')[1]
    _urls, inline = references(page.text)
    assert inline == 0


def test_a_refused_load_keeps_what_was_typed_and_names_the_field(web: Web) -> None:
    before = describe_source(web.ws, web.actor("admin"))
    with page_client(web, "admin") as client:
        no_id = _upload(client, profiles_csv(3), id_column="nope", strict="yes")
        no_file = _upload(client, b"", "")
        no_tier = _upload(client, "customer_id,email,first_name\n1,a@example.com,A\n")
    assert no_id.status_code == 422
    assert 'id="error-id_column"' in no_id.text
    assert 'name="id_column" type="text" required maxlength="200" value="nope"' in no_id.text
    assert 'id="strict" name="strict" value="yes" checked' in no_id.text
    assert no_file.status_code == 422 and 'data-code="file_required"' in no_file.text
    assert 'id="error-file"' in no_file.text
    assert no_tier.status_code == 409
    assert 'id="error-allow_schema_change" data-code="schema_change_refused"' in no_tier.text
    assert describe_source(web.ws, web.actor("admin")).updated_at == before.updated_at


def test_an_upload_without_the_token_or_from_another_site_is_refused(web: Web) -> None:
    before = describe_source(web.ws, web.actor("admin"))
    with page_client(web, "admin") as client:
        no_token = _upload(client, profiles_csv(5), token="")
        wrong = _upload(client, profiles_csv(5), token="x" * 40)
        cross = _upload(client, profiles_csv(5), headers={"Sec-Fetch-Site": "cross-site"})
    for answer in (no_token, wrong, cross):
        assert answer.status_code == 403
        assert 'data-code="csrf_failed"' in answer.text
    assert describe_source(web.ws, web.actor("admin")).updated_at == before.updated_at


def test_an_upload_over_the_cap_is_refused(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 2000)
    before = describe_source(web.ws, web.actor("admin"))
    with page_client(web, "admin") as client:
        answer = _upload(client, profiles_csv(200))
    assert answer.status_code == 422
    assert 'id="error-file" data-code="upload_too_large"' in answer.text
    assert describe_source(web.ws, web.actor("admin")).updated_at == before.updated_at

"""Downloading a run's files (rejected rows, change record) from its page and the API:
the content is the file's, only the names the run lists are served, and the same reading
right as the run's applies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.fixtures.server import PASSWORDS, Web
from tests.integration.server.pages_helpers import page_client

from segport.secret import Secret
from segport.service import add_user, remove_user, run_export, set_password, show_run


@pytest.fixture(scope="module")
def ran(web: Web) -> Iterator[tuple[Web, int]]:
    """The server and one finished run of 'news' with its files on disk."""
    admin = web.actor("admin")
    run_id = run_export(web.ws, admin, "news").run_id
    yield web, run_id


def _files(web: Web, run_id: int) -> dict[str, bytes]:
    detail = show_run(web.ws, web.actor("admin"), run_id)
    return {f.name: f.path.read_bytes() for f in detail.files}


def test_the_run_page_links_its_files_and_they_download(ran: tuple[Web, int]) -> None:
    web, run_id = ran
    files = _files(web, run_id)
    assert set(files) == {"rejected.csv", "changes.csv"}
    with page_client(web, "admin") as client:
        page = client.get(f"/runs/{run_id}")
        for name, content in files.items():
            link = f'href="/runs/{run_id}/files/{name}"'
            assert link in page.text
            answer = client.get(f"/runs/{run_id}/files/{name}")
            assert answer.status_code == 200
            assert answer.headers["content-type"] == "text/csv; charset=utf-8"
            assert answer.headers["content-disposition"] == (
                f'attachment; filename="run-{run_id}-{name}"'
            )
            assert answer.content == content
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["cache-control"] == "no-store"
    assert b"user1@example.com" in files["changes.csv"]


@pytest.mark.parametrize("user", sorted(PASSWORDS))
def test_the_api_serves_them_to_every_role_that_reads_runs(ran: tuple[Web, int], user: str) -> None:
    web, run_id = ran
    files = _files(web, run_id)
    with web.bearer(user) as client:
        answer = client.get(f"/api/v1/runs/{run_id}/files/rejected.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="run-{run_id}-rejected.csv"'
    )
    assert answer.content == files["rejected.csv"]


def test_the_api_serves_them_with_the_session_cookie_too(ran: tuple[Web, int]) -> None:
    web, run_id = ran
    client, _ = web.signed_in("victor")
    try:
        answer = client.get(f"/api/v1/runs/{run_id}/files/changes.csv")
    finally:
        client.close()
    assert answer.status_code == 200 and answer.content == _files(web, run_id)["changes.csv"]


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2Fsegport.toml",
        "..%2Frejected.csv",
        "%2E%2E%2F%2E%2E%2Fsegport.toml",
        "summary.json",
        "rejected.CSV",
        "rejected.csv%00",
        "%2Fetc%2Fpasswd",
    ],
)
def test_only_the_names_the_run_lists_are_served(ran: tuple[Web, int], name: str) -> None:
    web, run_id = ran
    with web.bearer("admin") as client:
        answer = client.get(f"/api/v1/runs/{run_id}/files/{name}")
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert "root:" not in answer.text and "[workspace]" not in answer.text
    with page_client(web, "admin") as client:
        page = client.get(f"/runs/{run_id}/files/{name}")
    # a name holding "/" matches no route at all (a 404 problem); others the error page
    assert page.status_code == 404
    assert "text/csv" not in page.headers["content-type"]


def test_an_unknown_run_is_404_and_a_wrong_name_says_which_files_there_are(
    ran: tuple[Web, int],
) -> None:
    web, run_id = ran
    with web.bearer("admin") as client:
        unknown = client.get("/api/v1/runs/999999/files/rejected.csv")
        wrong = client.get(f"/api/v1/runs/{run_id}/files/nope.csv")
    assert unknown.status_code == 404
    assert wrong.status_code == 404 and wrong.json()["code"] == "run_file_not_found"
    assert "rejected.csv" in wrong.json()["detail"]


def test_no_download_without_a_session_or_after_the_user_is_removed(
    ran: tuple[Web, int],
) -> None:
    web, run_id = ran
    with web.client() as anonymous:
        api = anonymous.get(f"/api/v1/runs/{run_id}/files/rejected.csv")
        page = anonymous.get(f"/runs/{run_id}/files/rejected.csv")
    assert api.status_code == 401
    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")
    admin = web.actor("admin")
    add_user(web.ws, admin, "leaver", "viewer")
    set_password(web.ws, admin, "leaver", Secret("leaver password 1", scrub=False))
    with web.client() as client:
        signed = client.post(
            "/api/v1/session", json={"name": "leaver", "password": "leaver password 1"}
        )
        assert signed.status_code == 201
        assert client.get(f"/api/v1/runs/{run_id}/files/rejected.csv").status_code == 200
        remove_user(web.ws, admin, "leaver")
        assert client.get(f"/api/v1/runs/{run_id}/files/rejected.csv").status_code == 401
        assert client.get(f"/runs/{run_id}/files/rejected.csv").status_code == 303

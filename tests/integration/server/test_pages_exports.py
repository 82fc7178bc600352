"""The exports list (search, sort), an export's page and its Run button by role, a run's
page and its live part, Cancel, and the runs list's filters."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import update
from tests.fixtures.server import Web
from tests.integration.server.pages_helpers import csrf_of, page_client

from segport.service import (
    ExportConfig,
    ExportMapping,
    add_export,
    request_run,
    run_export,
    show_export,
)
from segport.service.models import utcnow
from segport.service.run_model import Run

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def pages(web: Web) -> Iterator[Web]:
    """The server with one finished run of 'news' and an export with a hostile name."""
    admin = web.actor("admin")
    news = show_export(web.ws, admin, "news").config
    add_export(
        web.ws,
        admin,
        ExportConfig(
            name=HOSTILE,
            connection="shared",
            list_id=news.list_id,
            segments=("gold",),
            mapping=ExportMapping(email="email"),
            share_list=True,
        ),
    )
    run_export(web.ws, admin, "news")
    yield web


def _names(html: str) -> list[str]:
    return re.findall(r'class="export-link">([^<]*)</a>', html)


def test_the_exports_list_has_the_platforms_columns(pages: Web) -> None:
    with page_client(pages, "carol") as client:
        page = client.get("/exports")
    assert page.status_code == 200
    for column in ("Display name", "Type", "Status", "Last run", "Schedule and next firing",
                   "Connection", "Your permissions"):  # fmt: skip
        assert column in page.text
    row = page.text.split('href="/exports/news"')[1].split("</tr>")[0]
    assert "Brevo" in row and "successful" in row and "shared" in row
    assert "view, edit, run" in row
    vip = page.text.split('href="/exports/vip"')[1].split("</tr>")[0]
    assert "never run" in vip and "private" in vip
    assert "<td>view</td>" in vip  # contributors may not use the private connection


def test_search_and_sort(pages: Web) -> None:
    with page_client(pages, "admin") as client:
        assert _names(client.get("/exports").text) == ["&lt;script&gt;alert(1)&lt;/script&gt;",
                                                       "news", "vip"]  # fmt: skip
        assert _names(client.get("/exports", params={"q": "NEW"}).text) == ["news"]
        nothing = client.get("/exports", params={"q": "zzz"})
        assert _names(nothing.text) == [] and "No export" in nothing.text
        names = _names(client.get("/exports", params={"sort": "-name"}).text)
        assert names[:2] == ["vip", "news"]
        assert _names(client.get("/exports", params={"sort": "-last_run"}).text)[0] == "news"
        assert _names(client.get("/exports", params={"sort": "last_run"}).text)[-1] == "news"
        # an unknown sort is the default one, not an error
        assert client.get("/exports", params={"sort": "bogus"}).status_code == 200


def test_hostile_names_are_escaped_everywhere(pages: Web) -> None:
    with page_client(pages, "admin") as client:
        listing = client.get("/exports")
        link = "/exports/%3Cscript%3Ealert%281%29%3C%2Fscript%3E"
        assert f'href="{link}"' in listing.text
        page = client.get(link)
        assert page.status_code == 200
        runs = client.get("/runs", params={"export": HOSTILE})
        for answer in (listing, page, runs):
            assert HOSTILE not in answer.text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text


def test_an_admin_runs_watches_and_cancels(pages: Web) -> None:
    with page_client(pages, "admin") as client:
        page = client.get("/exports/news")
        assert page.status_code == 200
        assert 'id="run"' in page.text
        for setting in ("Segments", "Data matching", "Mode", "Empty values", "Schedule"):
            assert f"<dt>{setting}</dt>" in page.text
        assert 'class="run-link"' in page.text  # the finished run, linked
        token = csrf_of(page)

        refused = client.post("/exports/news/run", data={})
        assert refused.status_code == 403
        assert 'data-code="csrf_failed"' in refused.text

        queued = client.post("/exports/news/run", data={"csrf_token": token})
        assert queued.status_code == 303
        run_page = queued.headers["location"]
        run_id = int(run_page.split("/")[2].split("?")[0])
        shown = client.get(run_page)
        assert "Run requested" in shown.text
        assert 'data-status="queued"' in shown.text
        assert f'hx-get="/runs/{run_id}/live"' in shown.text
        assert 'hx-trigger="every 2s"' in shown.text
        assert 'id="cancel"' in shown.text

        live = client.get(f"/runs/{run_id}/live")
        assert live.status_code == 200
        assert live.text.lstrip().startswith('<section id="run-live"')
        assert "<html" not in live.text and 'hx-trigger="every 2s"' in live.text

        # a second run while one is queued: the service's refusal, on the export's page
        busy = client.post("/exports/news/run", data={"csrf_token": token})
        assert busy.status_code == 409
        assert 'data-code="run_in_progress"' in busy.text

        assert client.post(f"/runs/{run_id}/cancel", data={}).status_code == 403
        canceled = client.post(
            f"/runs/{run_id}/cancel", data={"csrf_token": token}, follow_redirects=True
        )
        assert canceled.status_code == 200
        assert 'data-status="canceled"' in canceled.text
        assert "hx-trigger" not in canceled.text and 'id="cancel"' not in canceled.text
        # the ended run's fragment polls no more
        assert "hx-trigger" not in client.get(f"/runs/{run_id}/live").text
        again = client.post(f"/runs/{run_id}/cancel", data={"csrf_token": token})
        assert again.status_code == 409
        assert 'data-code="run_already_ended"' in again.text


def test_a_processing_runs_live_part_shows_its_progress_by_chunk(pages: Web) -> None:
    """What a worker's heartbeat writes mid-run (tests/integration/exports/test_run_records
    checks it does) is shown as a bar: the stage, done of total, in its unit."""
    admin = pages.actor("admin")
    run = request_run(pages.ws, admin, "vip")
    progress = {"stage": "process", "done": 3, "total": 10, "unit": "chunks",
                "note": "<b>hi</b>", "at": "2026-12-06T04:00:00+00:00"}  # fmt: skip
    with pages.ws.engine.begin() as conn:
        conn.execute(
            update(Run)
            .where(Run.id == run.id)
            .values(status="processing", claimed_by="w", started_at=utcnow(), progress=progress)
        )
    try:
        with page_client(pages, "admin") as client:
            live = client.get(f"/runs/{run.id}/live").text
            assert 'id="run-progress" data-stage="process"' in live
            assert "Process: 3 of 10 chunks" in live
            assert '<progress id="progress-bar" max="10" value="3">30%</progress>' in live
            assert "&lt;b&gt;hi&lt;/b&gt;" in live  # the note is data: escaped
            with pages.bearer("admin") as api:
                shown = api.get(f"/api/v1/runs/{run.id}").json()
            assert (
                shown["run"]["progress"]["done"] == 3
                and shown["run"]["progress"]["unit"] == "chunks"
            )
            with pages.ws.engine.begin() as conn:  # ended: the summary is shown, no bar
                conn.execute(
                    update(Run)
                    .where(Run.id == run.id)
                    .values(status="canceled", reason="canceled_by_user", finished_at=utcnow())
                )
            assert 'id="run-progress"' not in client.get(f"/runs/{run.id}/live").text
    finally:
        with pages.ws.engine.begin() as conn:
            conn.execute(
                update(Run)
                .where(Run.id == run.id, Run.status == "processing")
                .values(status="canceled", reason="canceled_by_user", finished_at=utcnow())
            )


@pytest.mark.parametrize(
    ("user", "export", "may_run"),
    [("carol", "news", True), ("carol", "vip", False), ("victor", "news", False)],
)
def test_what_each_role_sees_and_may_do(pages: Web, user: str, export: str, may_run: bool) -> None:
    with page_client(pages, user) as client:
        page = client.get(f"/exports/{export}")
        assert page.status_code == 200
        assert ('id="run"' in page.text) is may_run
        assert ('id="no-run"' in page.text) is not may_run
        answer = client.post(f"/exports/{export}/run", data={"csrf_token": csrf_of(page)})
        if may_run:
            assert answer.status_code == 303
            run_id = int(answer.headers["location"].split("/")[2].split("?")[0])
            shown = client.get(f"/runs/{run_id}")
            assert 'id="cancel"' in shown.text
            canceled = client.post(f"/runs/{run_id}/cancel", data={"csrf_token": csrf_of(shown)})
            assert canceled.status_code == 303
        else:
            # a forged post gets the service's refusal, rendered on the export's page
            assert answer.status_code == 403
            assert 'role="alert"' in answer.text and 'id="run"' not in answer.text


def test_a_viewer_sees_no_cancel_and_a_forged_cancel_is_refused(pages: Web) -> None:
    admin = pages.actor("admin")
    from segport.service import cancel_run, request_run

    run = request_run(pages.ws, admin, "vip")
    try:
        with page_client(pages, "victor") as client:
            page = client.get(f"/runs/{run.id}")
            assert page.status_code == 200 and 'data-status="queued"' in page.text
            assert 'id="cancel"' not in page.text
            answer = client.post(f"/runs/{run.id}/cancel", data={"csrf_token": csrf_of(page)})
            assert answer.status_code == 403
            assert 'role="alert"' in answer.text
    finally:
        cancel_run(pages.ws, admin, run.id)


def test_a_finished_runs_page_shows_its_counts_and_stages(pages: Web) -> None:
    with page_client(pages, "victor") as client:
        listing = client.get("/runs", params={"export": "news", "status": "successful"})
        assert listing.status_code == 200
        links = re.findall(r'href="/runs/(\d+)" class="run-link"', listing.text)
        assert len(links) == 1
        page = client.get(f"/runs/{links[0]}")
    assert page.status_code == 200
    assert 'data-status="successful"' in page.text and "hx-trigger" not in page.text
    assert '<dd id="count-members">5</dd>' in page.text
    assert '<dd id="count-valid">5</dd>' in page.text
    assert '<dd id="count-sent">5' in page.text
    assert 'id="stages"' in page.text


def test_the_runs_list_filters_and_refuses_what_it_does_not_know(pages: Web) -> None:
    with page_client(pages, "admin") as client:
        every = client.get("/runs")
        assert every.status_code == 200
        assert 'id="runs-filter"' in every.text and '<label for="status">' in every.text
        canceled = client.get("/runs", params={"status": "canceled"})
        assert "successful</span>" not in canceled.text
        unknown = client.get("/runs", params={"status": "bogus"})
        assert unknown.status_code == 422
        assert 'data-code="run_status_invalid"' in unknown.text
        missing = client.get("/runs", params={"export": "nope"})
        assert missing.status_code == 404
        assert client.get("/runs/999999").status_code == 404
        assert client.get("/exports/nope").status_code == 404

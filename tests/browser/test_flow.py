"""The whole flow in a real Chromium against the Brevo sandbox: an admin adds the
connection, adds an export with the form, dry-runs it, runs it, watches the run end with
its counts and downloads the rejected rows (the profiles hold one bad address); then a
contributor and a viewer see and do only what their role allows. The page guard fails a
test on any request outside the server, a console error or a CSP violation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from segport.service import execute_requested, list_exports, load_profiles, show_export
from tests.browser.test_pages import sign_in
from tests.fixtures.browser import PageGuard, screenshot
from tests.fixtures.sandbox import TEST_API_KEY
from tests.fixtures.server import PROFILES, Web

BAD_ADDRESS = "not-an-address"


@pytest.fixture(scope="module")
def flow(web: Web, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """The server, its profiles with one gold customer whose address is not one."""
    csv = tmp_path_factory.mktemp("flow") / "profiles.csv"
    csv.write_text(PROFILES + f"6,{BAD_ADDRESS},Bad,gold\n", encoding="utf-8")
    load_profiles(web.ws, web.actor("admin"), csv, id_column="customer_id", replace=True)
    yield web


def _run_id(page: Page) -> int:
    found = re.search(r"/runs/(\d+)", page.url)
    assert found is not None, page.url
    return int(found.group(1))


def test_an_admin_connects_adds_an_export_runs_it_and_gets_the_rejected_rows(
    guarded_page: Page, flow: Web
) -> None:
    page = guarded_page
    sign_in(page, "admin")

    # Settings > Connections > Add connection
    page.locator("#nav-settings").click()
    page.locator("#add-connection").click()
    page.get_by_label("Display name").fill("Flow Brevo")
    page.locator("#shared-contributors").check()
    page.get_by_label("API key").fill(TEST_API_KEY)
    page.get_by_text("Advanced").click()
    page.locator("#base_url").fill(flow.brevo_url)
    page.locator("#agree").check()
    page.locator("#connect").click()
    expect(page.locator("#connection-name")).to_have_text("Flow Brevo")
    expect(page.locator("#notice")).to_contain_text("Connected")

    # Data > Exports > Add export: the connection first, then the form
    page.locator("#nav-exports").click()
    page.locator("#add-export").click()
    page.locator("#connection").select_option("Flow Brevo")
    page.locator("#continue").click()
    page.get_by_label("Display name").fill("flow")
    # another connection (htmx): the form comes back with that account's lists (a list
    # picked on the other account is dropped), what was typed kept
    news_list = str(show_export(flow.ws, flow.actor("admin"), "news").config.list_id)
    page.locator("#list_id").select_option(news_list)
    page.locator("#connection").select_option("shared")
    expect(page.locator("#export-form[data-connection=shared]")).to_have_count(1)
    expect(page.locator("#list_id")).to_have_value("")
    expect(page.locator("#connection")).to_have_value("shared")
    expect(page.locator("#name")).to_have_value("flow")
    page.locator("#connection").select_option("Flow Brevo")
    expect(page.locator("#export-form[data-connection='Flow Brevo']")).to_have_count(1)
    page.locator("#list-new").check()
    page.locator("#new_list").fill("Flow list")
    page.get_by_label("Email (required)").fill("email")
    page.get_by_label("First name").fill("first_name")
    page.locator("#attr-0").select_option("EXT_ID")
    page.locator("#col-0").fill("customer_id")
    page.locator("#add-attribute").click()  # the form again, one more row, values kept
    expect(page.locator("#attr-1")).to_be_visible()
    expect(page.locator("#name")).to_have_value("flow")
    expect(page.locator("#attr-0")).to_have_value("EXT_ID")
    segment = page.get_by_label(re.compile(r"^gold"))
    expect(segment).not_to_be_checked()
    expect(page.locator("#field-segments")).to_contain_text("6 members")
    page.locator("#profile_limit").fill("3")
    segment.check()  # htmx asks for the warning: 6 members over a limit of 3
    expect(page.locator("#limit-warning [data-over=yes]")).to_be_visible()
    page.locator("#profile_limit").fill("1000000")
    page.locator("#profile_limit").dispatch_event("change")
    expect(page.locator("#limit-warning [data-over=no]")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 2500})  # the whole form in one picture
    page.mouse.wheel(0, -5000)
    screenshot(page, "export-add")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#save").click()
    expect(page).to_have_url(re.compile(r"/exports/flow\?notice=saved$"))
    expect(page.locator("#notice")).to_contain_text("not run")
    expect(page.locator("#no-runs")).to_be_visible()
    config = show_export(flow.ws, flow.actor("admin"), "flow").config
    assert config.connection == "Flow Brevo" and config.list_id > 0
    assert config.mapping.attributes == {"EXT_ID": "customer_id"}

    # Dry run: what a run would do, nothing sent
    page.locator("#dry-run").click()
    expect(page.locator("#dry-run-title")).to_contain_text("flow")
    expect(page.locator("#dry-members")).to_have_text("6")
    expect(page.locator("#dry-new")).to_have_text("5")
    expect(page.locator("#dry-rejected")).to_have_text("1")
    screenshot(page, "export-dry-run")
    page.get_by_role("link", name="Back to the export").click()

    # Run: the server has no worker, so the test executes the queued run as one would
    page.locator("#run").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+(\?|$)"))
    live = page.locator("#run-live")
    expect(live).to_have_attribute("data-status", "queued")
    summary = execute_requested(flow.ws, flow.actor("admin"), _run_id(page))
    assert summary.status == "successful"
    expect(live).to_have_attribute("data-status", "successful", timeout=15_000)
    expect(page.locator("#count-members")).to_have_text("6")
    expect(page.locator("#count-sent")).to_have_text("5")
    expect(page.locator("#not-sent")).to_be_visible()

    with page.expect_download() as download:
        page.locator("#file-rejected-csv").click()
    rejected = Path(download.value.path()).read_text(encoding="utf-8")
    assert BAD_ADDRESS in rejected
    assert "user1@example.com" not in rejected


def test_a_contributor_adds_and_runs_an_export_on_a_shared_connection(
    guarded_page: Page, page_guard: PageGuard, flow: Web
) -> None:
    # the admin-only page asked for on purpose (403), the refused form (422)
    page_guard.expect_console(r"status of (403|422)")
    page = guarded_page
    sign_in(page, "carol")
    expect(page.locator("#nav-users")).to_have_count(0)
    page.locator("#nav-settings").click()
    expect(page.locator("#shared-only")).to_be_visible()
    expect(page.locator("#add-connection")).to_have_count(0)
    expect(page.locator("#connections")).not_to_contain_text("private")
    page.goto("/connections/new")
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#connection-form")).to_have_count(0)

    page.locator("#nav-exports").click()
    expect(page.locator("#run-all")).to_be_visible()
    page.locator("#add-export").click()
    if page.locator("#connection-step").count():
        expect(page.locator("#connection option[value=private]")).to_have_count(0)
        page.locator("#connection").select_option("shared")
        page.locator("#continue").click()
    page.get_by_label("Display name").fill("carol flow")
    news_list = show_export(flow.ws, flow.actor("admin"), "news").config.list_id
    page.locator("#list_id").select_option(str(news_list))  # export 'news' holds that list
    page.get_by_label("Email (required)").fill("email")
    page.get_by_label(re.compile(r"^gold")).check()
    page.locator("#save").click()
    # refused next to the list, with what was typed kept
    expect(page.locator("#error-list")).to_have_attribute("data-code", "list_shared")
    expect(page.locator("#name")).to_have_value("carol flow")
    page.locator("#list-new").check()
    page.locator("#new_list").fill("Carol list")
    page.locator("#new_list").press("Enter")  # Enter saves (not the form's other buttons)

    expect(page.locator("#notice")).to_contain_text("Export saved")
    expect(page.locator("#edit")).to_be_visible()
    page.locator("#run").click()
    expect(page.locator("#run-live")).to_have_attribute("data-status", "queued")
    page.locator("#cancel").click()
    expect(page.locator("#run-live")).to_have_attribute("data-status", "canceled")
    assert "carol flow" in [v.config.name for v in list_exports(flow.ws, flow.actor("admin"))]


def test_a_viewer_sees_the_exports_and_changes_nothing(
    guarded_page: Page, page_guard: PageGuard, flow: Web
) -> None:
    page_guard.expect_console(r"status of 403")  # the forged post, refused
    page = guarded_page
    sign_in(page, "victor")
    expect(page.locator("#nav-settings")).to_have_count(0)
    expect(page.locator("#exports")).to_contain_text("news")
    expect(page.locator("#add-export")).to_have_count(0)
    expect(page.locator("#run-all")).to_have_count(0)
    page.locator("#exports").get_by_role("link", name="news", exact=True).click()
    expect(page.locator("#no-run")).to_be_visible()
    for button in ("run", "dry-run", "edit", "duplicate", "detach", "remove"):
        expect(page.locator(f"#{button}")).to_have_count(0)

    # a post the page does not offer, with the session's own token: the service refuses
    status = page.evaluate(
        """async () => {
            const token = document.querySelector('meta[name="csrf-token"]').content;
            const body = new URLSearchParams({csrf_token: token, confirm: "yes"});
            const answer = await fetch("/exports/news/remove", {method: "POST", body});
            return answer.status;
        }"""
    )
    assert status == 403
    assert show_export(flow.ws, flow.actor("admin"), "news").config.name == "news"

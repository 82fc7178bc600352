"""The pages in a real Chromium: an admin signs in, finds the export, runs it and watches
the run page update by itself until the run has ended, with its counts; a viewer sees
the export but no Run button. The page guard fails a test on any request outside the
server, a console error or a CSP violation."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from segport.service import execute_requested
from tests.fixtures.browser import PageGuard, screenshot
from tests.fixtures.server import PASSWORDS, Web


def sign_in(page: Page, user: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    page.get_by_label("Name").fill(user)
    page.get_by_label("Password").fill(PASSWORDS[user])
    page.locator("#sign-in").click()
    expect(page.locator("#signed-in-as")).to_contain_text(user)


def test_an_admin_runs_an_export_and_watches_it_end(
    guarded_page: Page, page_guard: PageGuard, web: Web
) -> None:
    page = guarded_page
    sign_in(page, "admin")
    expect(page).to_have_url(re.compile(r"/exports$"))
    expect(page.locator("#exports")).to_contain_text("news")
    screenshot(page, "exports")

    page.locator("#exports").get_by_role("link", name="news", exact=True).click()
    expect(page.locator("#export-name")).to_have_text("news")
    screenshot(page, "export")
    page.locator("#run").click()

    # The run page, its run queued: the server here has no worker, so the test executes
    # the run (as a worker would) and the page, polling its live part, shows the end.
    expect(page).to_have_url(re.compile(r"/runs/\d+(\?|$)"))
    live = page.locator("#run-live")
    expect(live).to_have_attribute("data-status", "queued")
    found = re.search(r"/runs/(\d+)", page.url)
    assert found is not None
    run_id = int(found.group(1))
    summary = execute_requested(web.ws, web.actor("admin"), run_id)
    assert summary.status == "successful"
    expect(live).to_have_attribute("data-status", "successful", timeout=15_000)
    expect(page.locator("#count-members")).to_have_text("5")
    expect(page.locator("#count-sent")).to_have_text("5")
    expect(page.locator("#cancel")).to_have_count(0)  # an ended run has none
    screenshot(page, "run")

    page.locator("#sign-out").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_a_viewer_sees_the_export_but_cannot_run_it(guarded_page: Page, web: Web) -> None:
    page = guarded_page
    sign_in(page, "victor")
    page.goto("/exports/news")
    expect(page.locator("#export-name")).to_have_text("news")
    expect(page.locator("#no-run")).to_be_visible()
    expect(page.locator("#run")).to_have_count(0)

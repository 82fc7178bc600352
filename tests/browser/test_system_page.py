"""The System page in a real Chromium: an admin sets the refresh schedule and sees its
next firings, adds a webhook alert and sends a test whose result the page shows; the
chart of recent runs draws (inline SVG) under the page's strict CSP. The page guard
fails the test on a request outside the server, a console error or a CSP violation."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from segport.service import run_export
from tests.browser.test_pages import sign_in
from tests.fixtures.browser import PageGuard, screenshot
from tests.fixtures.server import Web
from tests.fixtures.webhooks import webhook_receiver


def test_an_admin_sets_the_schedule_and_tests_an_alert(
    guarded_page: Page, page_guard: PageGuard, web: Web
) -> None:
    admin = web.actor("admin")
    for _ in range(3):
        run_export(web.ws, admin, "news", full=True)
    page = guarded_page
    sign_in(page, "admin")
    page.goto("/system")
    expect(page.locator("#schedule-state")).to_contain_text("never set")

    page.locator("#frequency-weekly").check()
    page.get_by_label("Monday").check()
    page.get_by_label("Thursday").check()
    page.get_by_label("Times of day").fill("25:00")
    page_guard.expect_console(r"status of 422 .*/system/schedule\)$")  # the refusal below
    page.get_by_label("Time zone").fill("Europe/Amsterdam")
    page.locator("#save-schedule").click()
    expect(page.locator("#times-error")).to_be_visible()  # next to the field, input kept
    expect(page.get_by_label("Times of day")).to_have_value("25:00")
    expect(page.get_by_label("Monday")).to_be_checked()
    page.get_by_label("Times of day").fill("06:00, 18:30")
    page.locator("#save-schedule").click()
    expect(page).to_have_url(re.compile(r"/system\?notice=schedule$"))
    expect(page.locator("#schedule-state")).to_contain_text("on")
    expect(page.locator("#next-firings tbody tr")).to_have_count(5)
    screenshot(page, "system")

    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    expect(chart.locator("g.chart-run")).to_have_count(3)
    box = chart.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100

    with webhook_receiver("unused") as receiver:
        page.get_by_label("Name", exact=True).fill("ops hook")
        page.get_by_label("Raised when a run ends").fill("failed")
        page.get_by_role("radio", name="to a webhook").check()
        page.get_by_label("Webhook URL (to a webhook)").fill(receiver.url)
        page.locator("#add-alert").click()
        expect(page.locator("#alerts")).to_contain_text("ops hook")
        page.get_by_role("button", name="Send a test of alert ops hook").click()
        expect(page.locator("#test-result")).to_have_attribute("data-status", "delivered")
        assert len(receiver.received) == 1
    page.locator("#chart-section").scroll_into_view_if_needed()
    screenshot(page, "system-chart")

    # on a phone: one column, nothing of the page wider than the screen (tables scroll in
    # their own box; the layout's menu is base.html's)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/system")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => !e.closest('.table-scroll') && e.getBoundingClientRect().right > 390)
            .map(e => e.tagName + '#' + e.id)"""
    )
    assert wide == [], wide
    chart_box = page.locator("svg.chart").bounding_box()
    assert chart_box is not None and 0 < chart_box["width"] <= 390
    page.locator("#chart-section").scroll_into_view_if_needed()
    screenshot(page, "system-phone")

"""The rule builder in a real Chromium: a contributor adds a condition (the form comes back
with a second row), picks attributes and values, and the live count (htmx posting the
form as it changes) shows the members before anything is saved; Save makes the segment.
The page guard fails the test on any request outside the server, a console error or a
CSP violation."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from segport.service import show_segment
from tests.browser.test_pages import sign_in
from tests.fixtures.browser import screenshot
from tests.fixtures.server import Web


def test_the_rule_builder_counts_members_as_it_is_filled_in(guarded_page: Page, web: Web) -> None:
    page = guarded_page
    sign_in(page, "carol")
    page.goto("/segments")
    expect(page.locator("#segments")).to_contain_text("gold")
    page.locator("#new-segment").click()
    expect(page.locator("#form-title")).to_have_text("New segment")

    page.locator("#name").fill("browser-rule")
    page.locator("#g0-c0-attribute").select_option("tier")
    page.locator("#g0-c0-value").press_sequentially("gold")  # keys, as a person types
    expect(page.locator("#draft-members")).to_have_text("5")  # the live count, unsaved

    page.locator("#add-condition-0").click()  # a submit button: the form comes back
    expect(page.locator("#g0-c1-attribute")).to_be_visible()
    expect(page.locator("#g0-c0-value")).to_have_value("gold")
    page.locator("#g0-c1-attribute").select_option("customer_id")
    page.locator("#g0-c1-operator").select_option("greater_than")
    page.locator("#g0-c1-value").press_sequentially("3")
    expect(page.locator("#draft-members")).to_have_text("2")
    expect(page.locator("#draft table.preview")).to_contain_text("user4@example.com")
    page.locator("#g0-c1-value").press_sequentially("x")
    expect(page.locator("#draft-error")).to_contain_text("'3x' is not a number")
    page.locator("#g0-c1-value").press("Backspace")
    expect(page.locator("#draft-members")).to_have_text("2")
    screenshot(page, "segment-builder")

    page.locator("#save").click()
    expect(page).to_have_url(re.compile(r"/segments/browser-rule\?notice=created$"))
    expect(page.locator("#expression")).to_have_text("tier = 'gold' and customer_id > 3")
    assert show_segment(web.ws, web.actor("admin"), "browser-rule").created_by == "carol"
    page.locator("#count").click()
    expect(page.locator("#members")).to_contain_text("2")
    screenshot(page, "segment")
    page.goto("/segments")
    page.locator("#refresh").click()
    expect(page.locator("#notice")).to_contain_text("counted")
    screenshot(page, "segments")

"""The pages read well on a phone and work from the keyboard, in a real Chromium: at a
390 px wide screen nothing of any main page (its menu included) is wider than the screen,
except inside a table's own scrolling box; the first Tab reaches "Skip to content", which
moves the focus to the page's content; every focused control shows a visible outline."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_pages import sign_in
from tests.fixtures.server import Web

PHONE = {"width": 390, "height": 844}
PAGES = ["/exports", "/exports/news", "/exports/new", "/exports/news/edit", "/runs",
         "/segments", "/segments/gold", "/segments/new", "/profiles", "/system", "/users",
         "/users/carol", "/connections", "/connections/new", "/connections/shared"]  # fmt: skip

_WIDER = """(width) => [...document.querySelectorAll('body *')]
    .filter(e => !e.closest('.table-scroll') && e.getBoundingClientRect().right > width + 0.5)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
              (e.className && typeof e.className === 'string' ? '.' + e.className : ''))"""


def test_every_page_fits_a_phone_and_works_from_the_keyboard(guarded_page: Page, web: Web) -> None:
    page = guarded_page
    sign_in(page, "admin")
    page.set_viewport_size(PHONE)
    for path in PAGES:
        page.goto(path)
        assert page.evaluate(_WIDER, PHONE["width"]) == [], path
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= PHONE["width"], f"{path} scrolls sideways ({scroll} px)"

    page.goto("/exports")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    expect(skip).to_be_focused()
    assert _outline(page) != "none"
    page.keyboard.press("Enter")
    expect(page).to_have_url(web.url + "/exports#main")
    # Tab on from the content: each control reached shows where the focus is
    for _ in range(5):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") != "BODY"
        assert _outline(page) != "none", page.evaluate("document.activeElement.outerHTML")


def _outline(page: Page) -> str:
    style: str = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return s.outlineStyle === 'none' || s.outlineWidth === '0px'
                          ? (s.boxShadow === 'none' ? 'none' : s.boxShadow)
                          : s.outlineStyle + ' ' + s.outlineWidth; }"""
    )
    return style

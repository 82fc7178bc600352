"""The interactive API docs (/api/v1/docs) in a real Chromium, under the server's CSP:
Swagger UI renders from the package's own files, and Authorize + "Try it out" reach the
API. The page guard (tests/fixtures/browser.py) fails any of these tests on a request
outside the server, a console error or a CSP violation."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.fixtures.browser import PageGuard, screenshot
from tests.fixtures.server import PASSWORDS, Web

DOCS = "/api/v1/docs"
# Swagger UI's block of the operation `GET /api/v1/exports` (by path, not operationId).
LIST_EXPORTS = '.opblock-get:has(.opblock-summary-path[data-path="/api/v1/exports"])'


# Signed out, the page asks who is signed in (for the CSRF token) and gets 401; Chromium
# logs every 4xx answer as a console error.
ANONYMOUS_ME = r"status of 401 .*/api/v1/me\)$"


def open_docs(page: Page, guard: PageGuard) -> None:
    guard.expect_console(ANONYMOUS_ME)
    answer = page.goto(DOCS)
    assert answer is not None and answer.status == 200
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    expect(page.locator(LIST_EXPORTS)).to_be_visible()


def test_docs_render_swagger_ui_from_the_server_alone(
    guarded_page: Page, page_guard: PageGuard, web: Web
) -> None:
    page = guarded_page
    open_docs(page, page_guard)
    expect(page.locator(".information-container .title")).to_contain_text("segport")
    operation = page.locator(LIST_EXPORTS)
    expect(operation.locator(".opblock-summary-method")).to_have_text("GET")
    expect(operation.locator(".opblock-summary-path")).to_have_text("/api/v1/exports")
    # The page loaded its own script, stylesheet and OpenAPI document from the server.
    paths = {url.removeprefix(web.url) for url in page_guard.requests}
    assert {
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/api-docs.js",
        "/api/v1/openapi.json",
    } <= paths
    screenshot(page, "api-docs")


def test_authorize_with_a_token_and_try_it_out(
    guarded_page: Page, page_guard: PageGuard, web: Web
) -> None:
    page = guarded_page
    open_docs(page, page_guard)
    page.locator("button.authorize").first.click()
    bearer = page.locator(".dialog-ux .auth-container", has_text="HTTPBearer")
    bearer.get_by_label("auth-bearer-value").fill(web.tokens["admin"])
    bearer.get_by_role("button", name="Apply credentials").click()
    expect(bearer.get_by_role("button", name="Remove authorization")).to_be_visible()
    bearer.get_by_role("button", name="Close").click()
    expect(page.locator(".dialog-ux")).to_have_count(0)

    operation = page.locator(LIST_EXPORTS)
    operation.locator(".opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    with page.expect_response(
        lambda r: r.url.startswith(f"{web.url}/api/v1/exports") and r.request.method == "GET"
    ) as sent:
        operation.get_by_role("button", name="Execute").click()
    answer = sent.value
    assert answer.status == 200
    assert answer.request.headers["authorization"] == f"Bearer {web.tokens['admin']}"
    # Swagger UI shows the live answer: its status and the exports in the body.
    live = operation.locator(".live-responses-table .response")
    expect(live.locator(".response-col_status")).to_have_text("200")
    expect(live.locator(".response-col_description")).to_contain_text('"news"')


def test_the_guard_catches_outside_requests_csp_violations_and_errors(
    guarded_page: Page, page_guard: PageGuard
) -> None:
    page = guarded_page
    open_docs(page, page_guard)
    assert page_guard.problems() == []
    page.evaluate("fetch('http://example.invalid/track').catch(() => {})")  # CSP: connect-src
    page.evaluate(
        "document.body.appendChild(Object.assign(document.createElement('script'),"
        " {textContent: 'window.inlineRan = true'}))"
    )
    page.evaluate("console.error('something broke')")
    page.evaluate("setTimeout(() => { throw new Error('nobody caught this') })")
    assert page.evaluate("window.inlineRan") is None  # the CSP did block it
    # No CSP governs leaving the page: the guard refuses and reports the request itself.
    page.evaluate("window.location.href = 'http://example.invalid/elsewhere'")
    # The events come asynchronously: let Playwright deliver them (bounded).
    for _ in range(100):
        if page_guard.outside and page_guard.page_errors and len(page_guard.csp_violations) >= 2:
            break
        page.wait_for_timeout(50)
    problems = "\n".join(page_guard.problems())
    assert "request outside" in problems and "GET http://example.invalid/elsewhere" in problems
    assert "CSP violation: connect-src blocked http://example.invalid/track" in problems
    assert "CSP violation: script-src-elem blocked inline" in problems
    assert "console error: something broke" in problems
    assert "page error: nobody caught this" in problems
    # Cleared, so this test passes; the guard would otherwise fail it.
    for found in (
        page_guard.outside,
        page_guard.csp_violations,
        page_guard.console_errors,
        page_guard.page_errors,
    ):
        found.clear()


def test_signed_in_try_it_out_sends_the_csrf_token(
    guarded_page: Page, page_guard: PageGuard, web: Web
) -> None:
    """Signed in with a session (no token), the page sends the session's CSRF token on a
    request that changes something: signing out from the docs gets 204, not 403."""
    page = guarded_page
    # The context's own cookie jar: the page is signed in as carol.
    signed_in = page.request.post(
        "/api/v1/session", data={"name": "carol", "password": PASSWORDS["carol"]}
    )
    assert signed_in.status == 201, signed_in.text()
    csrf = signed_in.json()["csrf_token"]
    with page.expect_response(f"{web.url}/api/v1/me") as me:
        answer = page.goto(DOCS)
    assert answer is not None and answer.status == 200
    assert me.value.status == 200
    me.value.finished()  # the page has read the token it sends

    operation = page.locator(
        '.opblock-delete:has(.opblock-summary-path[data-path="/api/v1/session"])'
    )
    operation.locator(".opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    with page.expect_response(
        lambda r: r.url == f"{web.url}/api/v1/session" and r.request.method == "DELETE"
    ) as sent:
        operation.get_by_role("button", name="Execute").click()
    assert sent.value.status == 204, sent.value.text()
    assert sent.value.request.headers["x-csrf-token"] == csrf
    expect(operation.locator(".live-responses-table .response .response-col_status")).to_have_text(
        "204"
    )
    assert page.request.get("/api/v1/me").status == 401  # signed out indeed

"""Helpers for the web pages' tests: signing in through the sign-in page, reading a
page's CSRF token, and the URLs a page loads or links to."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser

import httpx
from tests.fixtures.server import PASSWORDS, Web

_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@contextmanager
def page_client(web: Web, user: str) -> Iterator[httpx.Client]:
    """A client signed in as ``user`` through the sign-in form (cookies kept)."""
    with web.client() as client:
        answer = client.post(
            "/sign-in",
            data={"name": user, "password": PASSWORDS[user], "next": "/exports"},
            follow_redirects=True,
        )
        assert answer.status_code == 200, answer.text
        assert str(answer.url).endswith("/exports")
        yield client


def csrf_of(page: httpx.Response) -> str:
    found = _META.search(page.text)
    assert found, "the page carries no CSRF token"
    return found.group(1)


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts_inline = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "hx-get", "hx-post") and value is not None:
                self.urls.append(value)
            if name.startswith(("on", "hx-on")):
                raise AssertionError(f"an inline event handler: <{tag} {name}=...>")
            if name == "style":  # the CSP's style-src 'self' would drop it
                raise AssertionError(f"an inline style: <{tag} style=...>")
        if tag == "style":
            raise AssertionError("an inline <style> element")
        if tag == "script":
            self._in_script = True
            if not dict(attrs).get("src"):
                self.scripts_inline += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def references(html: str) -> tuple[list[str], int]:
    """Every URL the page loads, links or posts to, and how many inline scripts it has."""
    parser = _Refs()
    parser.feed(html)
    return parser.urls, parser.scripts_inline

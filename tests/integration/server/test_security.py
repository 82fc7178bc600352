"""Security headers on every response, the Host check, and the API docs page loading
only the server's own files."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from tests.fixtures.server import Web

HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def _check_headers(headers: object) -> None:
    for name, value in HEADERS.items():
        assert headers[name] == value, name  # type: ignore[index]
    csp = {
        d.strip().split(" ", 1)[0]: d.strip()
        for d in headers["content-security-policy"].split(";")  # type: ignore[index]
    }
    assert csp["default-src"] == "default-src 'self'"
    assert csp["script-src"] == "script-src 'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/docs", 200),
        ("GET", "/api/v1/openapi.json", 200),
        ("GET", "/static/vendor/htmx/htmx.min.js", 200),
        ("GET", "/api/v1/me", 401),
        ("POST", "/api/v1/session", 422),
        ("GET", "/nowhere", 404),
        ("GET", "/", 307),
    ],
)
def test_every_response_has_the_security_headers(
    web: Web, method: str, path: str, status: int
) -> None:
    with web.client() as client:
        answer = client.request(method, path)
    assert answer.status_code == status
    _check_headers(answer.headers)


def test_another_host_name_is_refused_with_the_headers(web: Web) -> None:
    with web.client(headers={"Host": "rebound.example"}) as client:
        answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 400
    _check_headers(answer.headers)


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.styles_inline = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name):
                self.urls.append(str(found[name]))
        if "style" in found or tag == "style":
            self.styles_inline += 1
        if any(name.startswith("on") for name in found):
            self.inline_scripts += 1
        self._in_script = tag == "script"
        if tag == "script" and not found.get("src"):
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def test_the_docs_page_loads_only_same_origin_files_and_no_inline_script(web: Web) -> None:
    with web.client() as client:
        page = client.get("/api/v1/docs")
        parser = _Assets()
        parser.feed(page.text)
        assert parser.inline_scripts == 0 and parser.styles_inline == 0
        assert len(parser.urls) == 3  # Swagger UI's CSS and bundle, our starter
        for url in parser.urls:
            full = urljoin(web.url + "/api/v1/docs", url)
            assert urlsplit(full).netloc == urlsplit(web.url).netloc, url
            asset = client.get(full)
            assert asset.status_code == 200, url
            kind = "text/css" if url.endswith(".css") else "text/javascript"
            assert asset.headers["content-type"].startswith(kind)
        # the starter points Swagger UI at the server's own document
        body = page.text
        assert 'data-openapi-url="/api/v1/openapi.json"' in body
        starter = client.get("/static/api-docs.js").text
        assert "http://" not in starter and "https://" not in starter
        assert "validatorUrl: null" in starter  # no badge from validator.swagger.io


def test_the_vendored_files_are_pinned_with_their_licences(web: Web) -> None:
    with web.client() as client:
        for path in (
            "/static/vendor/swagger-ui/LICENSE",
            "/static/vendor/htmx/LICENSE",
            "/static/vendor/README.md",
        ):
            assert client.get(path).status_code == 200, path
        readme = client.get("/static/vendor/README.md").text
    assert "5.35.0" in readme and "2.0.11" in readme

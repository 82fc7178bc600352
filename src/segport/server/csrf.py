"""CSRF protection for requests a browser makes with the session cookie.

Two checks, both on every state-changing (not GET, HEAD or OPTIONS) cookie-authenticated
request:

1. Where the request came from: ``Sec-Fetch-Site`` (sent by every current browser) must be
   ``same-origin`` or ``none``; without it, an ``Origin`` header must be this server's own.
2. A synchronizer token bound to the session, returned at sign-in (and by ``GET /me``), in
   the ``X-CSRF-Token`` header, or (the web pages' plain form posts) the ``csrf_token``
   form field.

Requests with ``Authorization: Bearer`` are exempt: a browser never adds that header to a
request another site makes, so such a request cannot be forged that way. Sign-in itself
gets the first check (a page of another site must not sign a browser in).
"""

from __future__ import annotations

import hmac

from fastapi import Request

from segport.errors import Forbidden

HEADER = "X-CSRF-Token"
FIELD = "csrf_token"  # the pages' forms carry it as a hidden field
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(Forbidden):
    """A browser request that may have been forged by another site."""

    default_code = "csrf_failed"


def _own_origin(request: Request) -> str:
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}"


def check_origin(request: Request) -> None:
    """:class:`CsrfRefused` when the browser says the request came from another site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site not in ("same-origin", "none"):
            raise CsrfRefused(f"a request from another site ({site}) may not change anything")
        return
    origin = request.headers.get("origin")
    if origin is not None and origin != _own_origin(request):
        raise CsrfRefused(f"a request from another origin ({origin}) may not change anything")


def check_token(request: Request, expected: str, field: str | None = None) -> None:
    """:class:`CsrfRefused` unless the request carries the session's CSRF token (in the
    header, or as ``field``: the form field a page posted)."""
    given = request.headers.get(HEADER) or field or ""
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfRefused(
            f"the {HEADER} header is missing or not this session's: send the csrf_token "
            "given at sign-in"
        )


def protect(request: Request, expected: str, field: str | None = None) -> None:
    """Both checks, for a state-changing request authenticated by the session cookie."""
    if request.method in SAFE_METHODS:
        return
    check_origin(request)
    check_token(request, expected, field)

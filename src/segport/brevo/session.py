"""One authenticated HTTP session with Brevo: pacing, retries, error mapping, logging.

:class:`ApiSession` sends a request and gives back the decoded JSON or raises a
:mod:`segport.brevo.errors` exception. It knows nothing of the endpoints; the typed
methods live in :mod:`segport.brevo.client`. The API key is a :class:`segport.secret.Secret`
revealed only into the httpx client's default headers; it is never formatted into a
message, a log line or a repr, and every error built from what a server answered is
redacted (:func:`segport.secret.redact`), so a proxy that echoes the request headers
cannot put the key into a message.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies

import httpx
import orjson

from segport import __version__
from segport.brevo.errors import (
    BrevoError,
    RateLimitedError,
    ServerError,
    TransportError,
    error_for_status,
    excerpt,
)
from segport.brevo.pacing import Pacer, RateLimitHeaders, WaitTooLong, family_of
from segport.brevo.retry import RetryPolicy
from segport.secret import Secret

log = logging.getLogger("segport.brevo")

DEFAULT_BASE_URL = "https://api.brevo.com/v3"
DEFAULT_USER_AGENT = f"segport/{__version__}"
# Imports upload up to 10 MB, so writes get as long as reads; connecting should be quick.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=30.0)
REPORT_FAMILY = "report"

# httpx failures after which the request certainly never reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def check_api_key(api_key: str | Secret) -> Secret:
    """Refuse a key that cannot be one, without ever echoing it (not even one character).

    A header value must be printable ASCII: anything else would fail later inside httpx
    with an error that shows the offending character and its position.
    """
    if not isinstance(api_key, str | Secret):
        raise ValueError("the Brevo API key must be text")
    key = Secret(api_key)
    text = key.reveal()
    if not text.strip():
        raise ValueError("the Brevo API key is empty: paste the key from Brevo > SMTP & API")
    if not all(" " < ch < "\x7f" for ch in text):
        raise ValueError(
            "the Brevo API key contains spaces, line breaks, control or non-ASCII characters;"
            " it was probably copied with extra text: paste it again"
        )
    return key


class _PlainHttpTransport(httpx.BaseTransport):
    """httpx's default transport for a client of an ``http://`` base URL (the sandbox),
    minus the up-front cost of TLS.

    httpx builds a verifying SSL context, loading the whole CA bundle (30-130 ms), when a
    client is made, even if it only ever speaks plain HTTP. Here ``http://`` requests go
    through a transport that holds no CA certificates (its context still demands
    verification, so it could never make an unverified TLS connection), and an
    ``https://`` request (a report URL elsewhere) goes through httpx's default transport,
    built with httpx's defaults on first use: exactly as verifying as before.
    """

    def __init__(self) -> None:
        self._plain = httpx.HTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        self._tls: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "http":
            return self._plain.handle_request(request)
        return self._secure().handle_request(request)

    def _secure(self) -> httpx.HTTPTransport:
        with self._lock:
            if self._tls is None:
                self._tls = httpx.HTTPTransport()
            return self._tls

    def close(self) -> None:
        self._plain.close()
        with self._lock:
            if self._tls is not None:
                self._tls.close()


def _default_transport(scheme: str) -> httpx.BaseTransport | None:
    """The transport for a client of a ``scheme`` base URL; None: httpx's own default.

    Only a plain-HTTP base URL gets :class:`_PlainHttpTransport`, and only without proxies
    in the environment (httpx uses those only when it builds the transport itself).
    """
    if scheme != "http":
        return None
    proxies = getproxies()
    if any(proxies.get(kind) for kind in ("http", "https", "all")):
        return None
    return _PlainHttpTransport()


def _request_id(headers: httpx.Headers) -> str | None:
    value = headers.get("sib-request-id") or headers.get("x-sib-request-id")
    return str(value) if value else None


class ApiSession:
    def __init__(
        self,
        api_key: str | Secret,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        requests_per_second: float | None = 10.0,
        burst: int = 1,
        max_retries: int = 5,
        max_rate_limit_wait: float = 60.0,
        max_rate_limited_retries: int = 20,
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        key = check_api_key(api_key)
        if max_rate_limit_wait < 0:
            raise ValueError("max_rate_limit_wait must be 0 or more seconds")
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"the Brevo base URL {base_url!r} is not an http(s) URL;"
                f" use {DEFAULT_BASE_URL} or the sandbox's URL"
            )
        self._origin = (parts.scheme, parts.netloc)
        self.max_rate_limit_wait = max_rate_limit_wait
        self.pacer = Pacer(requests_per_second, burst=burst, clock=clock, sleep=sleep)
        self.policy = RetryPolicy(
            max_retries=max_retries,
            max_rate_limited_retries=max_rate_limited_retries,
            initial_backoff=initial_backoff,
            max_backoff=max_backoff,
            jitter=initial_backoff,
            sleep=sleep,
        )
        self._clock = clock
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            timeout=timeout,
            transport=transport if transport is not None else _default_transport(parts.scheme),
            follow_redirects=False,
            # The one place the key is revealed: httpx's default headers of this client.
            headers={
                "api-key": key.reveal(),
                "accept": "application/json",
                "user-agent": user_agent,
            },
        )
        self._count_lock = threading.Lock()
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"ApiSession(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    # -- public entry points -------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        idempotent: bool = True,
    ) -> Any:
        """Send ``method path`` (path relative to the base URL, e.g. ``/account``) with
        pacing and retries; returns the decoded JSON body, or None for an empty one."""
        if json is not None:
            content = orjson.dumps(json)
        rate_limited = [0]  # consecutive 429s of this call, for the blind backoff

        def attempt() -> Any:
            return self._attempt(method, path, params, content, rate_limited)

        return self.policy.retrying(idempotent=idempotent, what=f"{method} {path}")(attempt)

    def download(self, url: str) -> str:
        """GET an absolute URL (an import report) as text, with retries.

        The API key goes only to Brevo's own API origin, never to another host.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {url!r}")
        rate_limited = [0]

        def attempt() -> str:
            response = self._send("GET", url, None, None, REPORT_FAMILY, rate_limited)
            return response.text

        return self.policy.retrying(idempotent=True, what=f"GET {parts.path}")(attempt)

    # -- one attempt ---------------------------------------------------------------

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        content: bytes | None,
        rate_limited: list[int],
    ) -> Any:
        response = self._send(method, path, params, content, family_of(path), rate_limited)
        if not response.content:
            return None
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise ServerError(
                f"answered {response.status_code} with a body that is not JSON:"
                f" {excerpt(response.text)!r}",
                method=method,
                path=path,
                request_id=_request_id(response.headers),
            ) from None

    def _send(
        self,
        method: str,
        target: str,
        params: Mapping[str, Any] | None,
        content: bytes | None,
        family: str,
        rate_limited: list[int],
    ) -> httpx.Response:
        is_absolute = "://" in target
        path = urlsplit(target).path if is_absolute else target
        try:
            waited = self.pacer.acquire(family, self.max_rate_limit_wait)
        except WaitTooLong as too_long:
            raise RateLimitedError(
                f"Brevo's rate limit resets in {too_long.wait:.0f} s, longer than the"
                f" {self.max_rate_limit_wait:.0f} s we may wait; try again later",
                retry_after=too_long.wait,
                retryable=False,
                method=method,
                path=path,
            ) from None
        if waited > 0.5:
            log.info("waited %.1f s for the rate limit before %s %s", waited, method, path)

        request = self._http.build_request(
            method,
            target if is_absolute else target.lstrip("/"),
            params=_clean_params(params),
            content=content,
            headers={"content-type": "application/json"} if content is not None else None,
        )
        if is_absolute and (request.url.scheme, request.url.netloc.decode()) != self._origin:
            del request.headers["api-key"]
        started = self._clock()
        with self._count_lock:
            self.requests_sent += 1
        try:
            response = self._http.send(request)
        except httpx.TransportError as exc:
            sent = not isinstance(exc, _NOT_SENT)
            raise TransportError(
                f"no answer from Brevo: {type(exc).__name__}: {exc or 'connection failed'}",
                request_sent=sent,
                retryable=not isinstance(exc, httpx.UnsupportedProtocol),
                method=method,
                path=path,
            ) from exc
        except httpx.RequestError as exc:  # e.g. a body whose gzip encoding is broken
            raise ServerError(
                f"answered with a body that could not be read: {type(exc).__name__}: {exc}",
                method=method,
                path=path,
            ) from exc
        elapsed_ms = (self._clock() - started) * 1000
        request_id = _request_id(response.headers)
        log.debug(
            "%s %s -> %d in %.0f ms (request id %s)",
            method,
            path,
            response.status_code,
            elapsed_ms,
            request_id,
        )
        headers = RateLimitHeaders.from_headers(response.headers)
        self.pacer.observe(family, headers)
        if response.is_success:
            rate_limited[0] = 0
            return response
        error = self._error(response, method, path, request_id)
        if isinstance(error, RateLimitedError):
            rate_limited[0] += 1
            wait = self.pacer.on_rate_limited(family, headers, rate_limited[0])
            error.retry_after = wait
            error.retryable = wait <= self.max_rate_limit_wait
            if not error.retryable:
                error.message += (
                    f"; the rate limit resets in {wait:.0f} s, longer than the"
                    f" {self.max_rate_limit_wait:.0f} s we may wait: try again later"
                )
            log.info(
                "rate limited on %s %s; %s",
                method,
                path,
                f"waiting {wait:.1f} s for the reset"
                if error.retryable
                else f"reset in {wait:.0f} s",
            )
        raise error

    def _error(
        self,
        response: httpx.Response,
        method: str,
        path: str,
        request_id: str | None,
    ) -> BrevoError:
        status = response.status_code
        code: str | None = None
        message: str | None = None
        metadata: dict[str, Any] | None = None
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict):
            code = str(body["code"]) if body.get("code") else None
            message = str(body["message"]) if body.get("message") else None
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
        if message is None:
            text = excerpt(response.text) if response.content else ""
            reason = response.reason_phrase or ("origin time-out" if status == 524 else "")
            message = text or reason or "no message"
        return error_for_status(status)(
            message,
            code=code,
            status=status,
            request_id=request_id,
            method=method,
            path=path,
            metadata=metadata,
            # Not implemented / HTTP version not supported: asking again cannot help.
            retryable=False if status in (501, 505) else None,
        )


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {key: value for key, value in params.items() if value is not None}

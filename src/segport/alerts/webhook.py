"""Alerts by webhook: POST the run record as JSON, signed, retried with backoff.

The body is the run record (``RunView.to_dict()``) as orjson writes it; the headers are
``Content-Type: application/json``, ``User-Agent: segport/<version>``,
``X-Segport-Event: run.ended``, ``X-Segport-Alert`` (the alert's name),
``X-Segport-Delivery`` (one id per delivery, the same on every attempt: a receiver that
saw it already can drop a repeat), ``X-Segport-Attempt`` (1, 2, ...) and, when the alert
has a secret, ``X-Segport-Timestamp`` and ``X-Segport-Signature`` (see
:mod:`segport.alerts.signing`; each attempt is signed afresh with its own timestamp).

A 2xx answer delivers it. A connection that fails or times out, a 5xx or a 429 is tried
again after an exponential backoff (or the ``Retry-After`` the receiver asked for, up to
``max_backoff``), at most ``max_attempts`` times in all. Any other answer (a 4xx: the
receiver refuses this request, and would refuse it again; a 3xx: redirects are not
followed, so a signed alert never goes somewhere it was not sent) is final.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from segport import __version__
from segport.alerts.results import DeliveryResult, one_line
from segport.alerts.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from segport.errors import Invalid
from segport.secret import Secret, redact, redact_url

__all__ = ["WebhookSettings", "check_url", "payload", "send_webhook"]

EVENT = "run.ended"


def check_url(url: str, *, field: str = "webhook") -> str:
    """``url`` if it is an ``http(s)://host[:port]/path`` URL; :class:`Invalid` otherwise."""
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is not None:
            parts.port  # noqa: B018  (raises ValueError on a port that is not one)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(
            f"{redact_url(str(url))!r} is not a webhook URL: write https://host/path",
            field=field,
            code="invalid_webhook_url",
        )
    if parts.username or parts.password:
        raise Invalid(
            "a webhook URL carries no user or password (they would show in every listing): "
            "give the receiver a secret to check the signature with instead",
            field=field,
            code="invalid_webhook_url",
        )
    return url


@dataclass(frozen=True)
class WebhookSettings:
    """Where and how a webhook alert is sent. ``secret`` signs it (read from the
    environment variable the alert names; never stored)."""

    url: str
    secret: Secret | None = None
    timeout: float = 10.0  # per attempt: connecting, and each read of the answer
    connect_timeout: float = 5.0
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_url(self.url)
        if not (self.timeout > 0 and self.connect_timeout > 0):
            raise Invalid("webhook timeouts are seconds above 0", field="webhook_timeout")
        if not 1 <= self.max_attempts <= 20:
            raise Invalid("webhook attempts are between 1 and 20", field="webhook_attempts")

    @property
    def shown_url(self) -> str:
        """The URL as logs and results show it: a query string can carry a token."""
        parts = urlsplit(self.url)
        return parts._replace(query="***" if parts.query else "", fragment="").geturl()


def payload(record: dict[str, Any]) -> bytes:
    """The body: the run record as JSON (orjson refuses a Secret, so none can leak)."""
    return orjson.dumps(record)


class _Retry(Exception):
    """An attempt another may cure; ``wait`` is the receiver's Retry-After, if any."""

    def __init__(self, reason: str, *, wait: float | None = None, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.status = status


class _Final(Exception):
    """An answer no other attempt would change."""

    def __init__(self, reason: str, *, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isascii() and value.isdigit() else None


def _answer(response: httpx.Response) -> str:
    """The status and the start of the receiver's answer, scrubbed and on one line."""
    text = " ".join(one_line(response.text[:200]).split())
    phrase = response.reason_phrase or ""
    return redact(f"HTTP {response.status_code} {phrase}".strip() + (f": {text}" if text else ""))


class _Wait:
    """Exponential backoff with jitter, or the receiver's Retry-After (capped)."""

    def __init__(self, settings: WebhookSettings) -> None:
        self._max = settings.max_backoff
        self._backoff = wait_exponential_jitter(
            multiplier=settings.backoff_seconds,
            max=settings.max_backoff,
            jitter=settings.backoff_seconds,
        )

    def __call__(self, state: RetryCallState) -> float:
        assert state.outcome is not None
        error = state.outcome.exception()
        if isinstance(error, _Retry) and error.wait is not None:
            return min(error.wait, self._max)
        return float(self._backoff(state))


def send_webhook(
    settings: WebhookSettings,
    record: dict[str, Any],
    *,
    alert_name: str,
) -> DeliveryResult:
    """POST ``record`` to the webhook; the result, never an exception."""
    attempts = 0
    status: int | None = None
    try:
        body = payload(record)
        delivery = uuid.uuid4().hex
        base_headers = {
            "Content-Type": "application/json",
            "User-Agent": f"segport/{__version__}",
            "X-Segport-Event": EVENT,
            "X-Segport-Alert": _header_text(alert_name),
            "X-Segport-Delivery": delivery,
        }
        timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:

            def attempt() -> str:
                nonlocal attempts, status
                attempts += 1
                headers = dict(base_headers, **{"X-Segport-Attempt": str(attempts)})
                if settings.secret is not None:
                    stamp = int(time.time())
                    headers[TIMESTAMP_HEADER] = str(stamp)
                    headers[SIGNATURE_HEADER] = sign(settings.secret.reveal(), body, stamp)
                try:
                    response = client.post(settings.url, content=body, headers=headers)
                except httpx.TimeoutException as exc:
                    raise _Retry(_timeout_reason(exc, settings)) from exc
                except httpx.TransportError as exc:
                    raise _Retry(_transport_reason(exc, settings)) from exc
                status = response.status_code
                if 200 <= status < 300:
                    return _answer(response)
                if status >= 500 or status == 429:
                    raise _Retry(_answer(response), wait=_retry_after(response), status=status)
                raise _Final(_answer(response), status=status)

            retrying = Retrying(
                stop=stop_after_attempt(settings.max_attempts),
                wait=_Wait(settings),
                retry=retry_if_exception_type(_Retry),
                sleep=settings.sleep,
                reraise=True,
            )
            detail = retrying(attempt)
    except (_Retry, _Final) as exc:
        gave_up = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        return DeliveryResult(
            alert=alert_name,
            channel="webhook",
            status="failed",
            attempts=attempts,
            reason=f"{settings.shown_url} answered {exc.reason}{gave_up}"
            if exc.status is not None
            else f"{exc.reason}{gave_up}",
        )
    except Exception as exc:  # a failing alert is reported, never raised (see delivery)
        return DeliveryResult(
            alert=alert_name,
            channel="webhook",
            status="failed",
            attempts=attempts,
            reason=redact(f"could not send to {settings.shown_url}: {type(exc).__name__}: {exc}"),
        )
    return DeliveryResult(
        alert=alert_name, channel="webhook", status="delivered", attempts=attempts, detail=detail
    )


def _header_text(text: str) -> str:
    """A header value: printable ASCII on one line (httpx refuses anything else)."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def _timeout_reason(exc: httpx.TimeoutException, settings: WebhookSettings) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        seconds = settings.connect_timeout
        return f"{settings.shown_url} did not accept a connection within {seconds:g} s"
    return f"{settings.shown_url} did not answer within {settings.timeout:g} s"


def _transport_reason(exc: httpx.TransportError, settings: WebhookSettings) -> str:
    if isinstance(exc, httpx.ConnectError):
        return redact(f"could not connect to {settings.shown_url}: {exc}")
    return redact(f"the connection to {settings.shown_url} failed: {type(exc).__name__}: {exc}")

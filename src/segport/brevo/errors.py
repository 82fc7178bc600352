"""Exceptions raised by the Brevo client, one class per way a call can fail.

Every error carries what Brevo said (``code``, ``message``), the HTTP ``status``, the
request id Brevo's support asks for, and the method and path of the call, so a log line
or a run's failure reason is enough to understand and report the problem. None of them
ever holds the API key: the key lives only in the client's request headers, and what a
server answered is redacted (:func:`segport.secret.redact`) before it is kept here.
"""

from __future__ import annotations

from typing import Any

from segport.errors import Unavailable
from segport.secret import redact, redact_data

# Body excerpts kept in messages when the answer is not Brevo's JSON (an HTML 524 page).
_EXCERPT_CHARS = 200


class BrevoError(Unavailable):
    """A Brevo API call failed. ``retryable`` says whether sending it again may succeed.

    ``code`` is segport's stable code (``brevo_not_found``, ...); ``brevo_code`` is the
    code Brevo answered with (``document_not_found``, ``unauthorized``, ...)."""

    retryable: bool = False
    default_code = "brevo_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
        metadata: dict[str, Any] | None = None,
        retryable: bool | None = None,
    ) -> None:
        # What a server answered may echo our request headers (a misconfigured proxy):
        # scrub the key here, where every error of the client is made.
        message = redact(message)
        Exception.__init__(self, message)
        self.field = None
        self.details = {}
        self.code = self.default_code
        if retryable is not None:
            self.retryable = retryable
        self.message = message
        self.brevo_code = redact(code) if code is not None else None
        self.status = status
        self.request_id = redact(request_id) if request_id is not None else None
        self.method = method
        self.path = redact(path) if path is not None else None
        self.metadata = redact_data(metadata) if metadata else {}

    @property
    def message(self) -> str:
        return self._message

    @message.setter
    def message(self, value: str) -> None:
        self._message = redact(value)  # also when extended after the error was made

    def __str__(self) -> str:
        if self.status is not None:
            head = f"Brevo said {self.status}"
            if self.brevo_code:
                head += f" {self.brevo_code}"
            text = f"{head}: {self.message}"
        else:
            text = self.message
        where = f"{self.method} {self.path}" if self.method and self.path else None
        details = ", ".join(
            part
            for part in (where, f"request id {self.request_id}" if self.request_id else None)
            if part
        )
        # Redacted again: ``message`` may have been extended since it was made.
        return redact(f"{text} ({details})" if details else text)

    def __repr__(self) -> str:
        return redact(
            f"{type(self).__name__}(status={self.status!r}, code={self.brevo_code!r}, "
            f"message={self.message!r}, method={self.method!r}, path={self.path!r}, "
            f"request_id={self.request_id!r})"
        )


class AuthenticationError(BrevoError):
    """401/403: the API key is wrong, revoked, truncated, or this IP address is blocked."""

    default_code = "brevo_authentication"


class NotFoundError(BrevoError):
    """404: the list, contact or process does not exist (in this account)."""

    default_code = "brevo_not_found"


class InvalidRequestError(BrevoError):
    """Brevo refused the request as sent (400, 402, 405, 406, 409, 422, 425, ...)."""

    default_code = "brevo_invalid_request"


class RateLimitedError(BrevoError):
    """Brevo's rate limit was hit and waiting for the reset would exceed the configured cap.

    ``retry_after`` is the wait in seconds the call would have needed (None when unknown).
    While the wait fits under the cap the client waits and retries on its own (the error
    is then ``retryable``), so callers only see it beyond the cap or after the bounded
    number of rate-limited attempts.
    """

    default_code = "brevo_rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(BrevoError):
    """5xx (including Cloudflare's 524 origin time-out) or an unreadable success answer."""

    default_code = "brevo_server_error"

    retryable = True


class TransportError(BrevoError):
    """No answer: connection refused or dropped, a timeout, a TLS failure.

    ``request_sent`` is False when the request certainly never reached Brevo (the
    connection could not be opened), which makes even a non-idempotent call safe to retry.
    """

    default_code = "brevo_unreachable"

    retryable = True

    def __init__(self, message: str, *, request_sent: bool = True, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.request_sent = request_sent


class ProcessTimeoutError(BrevoError):
    """A background process (an import) did not finish within the time we were given."""

    default_code = "brevo_process_timeout"

    def __init__(self, message: str, *, process_id: int, last_status: str | None, **kw: Any):
        super().__init__(message, **kw)
        self.process_id = process_id
        self.last_status = last_status


def excerpt(text: str) -> str:
    """A short single-line excerpt of a non-JSON body, for messages."""
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= _EXCERPT_CHARS else flat[:_EXCERPT_CHARS] + "…"


def error_for_status(status: int) -> type[BrevoError]:
    """The exception class for an HTTP error status (429 is handled by the caller)."""
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status == 429:
        return RateLimitedError
    if status >= 500:
        return ServerError
    return InvalidRequestError

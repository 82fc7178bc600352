"""When a failed Brevo call is sent again, and how long we wait first (tenacity).

* 5xx, Cloudflare's 524, unreadable success answers, timeouts and dropped connections are
  retried with exponential backoff and jitter, at most ``max_retries`` times, but only for
  calls that are safe to repeat: reads, imports (an import is an upsert: the same rows
  twice give the same contacts), list add/remove (membership is a set) and contact
  updates. Creating a list, folder, attribute or contact is retried only when the request
  certainly never left (the connection could not be opened), or it could be made twice.
* 429 is retried for every call (Brevo refused it before doing anything) after the wait
  the pacer derived from the headers; these retries have their own, larger budget.
* 400, 401, 403, 404 and the other 4xx are final: sending the same request again cannot
  change Brevo's answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, retry_if_exception
from tenacity.wait import wait_base, wait_exponential_jitter

from segport.brevo.errors import BrevoError, RateLimitedError, TransportError

log = logging.getLogger("segport.brevo")


def should_retry(error: BaseException, *, idempotent: bool) -> bool:
    """Whether a call that failed with ``error`` may be sent again."""
    if not isinstance(error, BrevoError) or not error.retryable:
        return False
    if isinstance(error, RateLimitedError) or idempotent:
        return True
    return isinstance(error, TransportError) and not error.request_sent


class RetryBudget:
    """tenacity stop condition counting error retries and rate-limit retries apart."""

    def __init__(self, max_retries: int, max_rate_limited: int) -> None:
        self.max_retries = max_retries
        self.max_rate_limited = max_rate_limited
        self.errors = 0
        self.rate_limited = 0

    def __call__(self, retry_state: RetryCallState) -> bool:
        assert retry_state.outcome is not None
        if isinstance(retry_state.outcome.exception(), RateLimitedError):
            self.rate_limited += 1
            return self.rate_limited > self.max_rate_limited
        self.errors += 1
        return self.errors > self.max_retries


class BackoffWait(wait_base):
    """Exponential backoff with jitter for errors; none after a 429, whose wait the pacer
    already imposes on every request of the family (other threads included)."""

    def __init__(self, initial: float, maximum: float, jitter: float) -> None:
        self._backoff = wait_exponential_jitter(multiplier=initial, max=maximum, jitter=jitter)

    def __call__(self, retry_state: RetryCallState) -> float:
        assert retry_state.outcome is not None
        if isinstance(retry_state.outcome.exception(), RateLimitedError):
            return 0.0
        return float(self._backoff(retry_state))


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    max_rate_limited_retries: int = 20
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    jitter: float = 0.5
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.max_rate_limited_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if self.initial_backoff < 0 or self.max_backoff < self.initial_backoff:
            raise ValueError("backoff must be 0 or more, and max_backoff at least initial_backoff")

    def retrying(self, *, idempotent: bool, what: str) -> Retrying:
        """A fresh tenacity controller for one call (``what`` names it in log lines)."""

        def before_sleep(retry_state: RetryCallState) -> None:
            assert retry_state.outcome is not None and retry_state.next_action is not None
            error = retry_state.outcome.exception()
            if isinstance(error, RateLimitedError):
                return  # the session already logged the wait for the reset
            log.warning(
                "retrying %s (attempt %d) in %.1f s after: %s",
                what,
                retry_state.attempt_number + 1,
                retry_state.next_action.sleep,
                error,
            )

        return Retrying(
            retry=retry_if_exception(lambda e: should_retry(e, idempotent=idempotent)),
            stop=RetryBudget(self.max_retries, self.max_rate_limited_retries),
            wait=BackoffWait(self.initial_backoff, self.max_backoff, self.jitter),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )

"""Staying under Brevo's rate limits: our own pacing plus what Brevo's headers say.

Brevo allows 10 requests/s on ``/contacts`` endpoints on the general plan (20 or 60 on
bigger plans) and about 100 requests/hour on the others (``/account``, ``/processes``).
Two mechanisms work together, per *family* of endpoints:

* a GCRA token bucket spaces ``/contacts`` calls evenly under ``requests_per_second``
  (burst 1 by default, so no sliding one-second window ever sees more than the rate + 1);
* the ``x-sib-ratelimit-*`` headers of every answer: when ``remaining`` reaches 0, or on a
  429, the family is blocked until the announced reset. A wait longer than the caller's
  cap is not slept: :class:`WaitTooLong` reports the wait it would need.

Time and sleep are injected so the arithmetic is tested without waiting. The state is
shared by all threads using one client; the lock is held only to compute a reservation,
never while sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

CONTACTS = "contacts"
OTHER = "other"

# A reset announced as 0 with nothing remaining still needs a pause, or we would spin.
MIN_BLOCK_SECONDS = 0.05
# Without any header on a 429, back off from 1 s, doubling up to this.
MAX_BLIND_BACKOFF = 30.0
# A reset this large is a Unix timestamp, not a number of seconds.
_EPOCH_THRESHOLD = 1_000_000_000


def family_of(path: str) -> str:
    """The rate-limit family of an API path (``/contacts/...`` or everything else)."""
    return CONTACTS if path == "/contacts" or path.startswith("/contacts/") else OTHER


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


@dataclass(frozen=True, slots=True)
class RateLimitHeaders:
    """The ``x-sib-ratelimit-*`` headers (and ``Retry-After``) of one answer."""

    limit: float | None = None
    remaining: float | None = None
    reset: float | None = None  # seconds until the window resets
    retry_after: float | None = None

    @classmethod
    def from_headers(
        cls, headers: Mapping[str, str], *, wall_clock: Callable[[], float] = time.time
    ) -> RateLimitHeaders:
        reset = _number(headers.get("x-sib-ratelimit-reset"))
        if reset is not None and reset > _EPOCH_THRESHOLD:
            reset = max(0.0, reset - wall_clock())
        return cls(
            limit=_number(headers.get("x-sib-ratelimit-limit")),
            remaining=_number(headers.get("x-sib-ratelimit-remaining")),
            reset=reset,
            # Only the delta-seconds form; Brevo is not known to send Retry-After at all.
            retry_after=_number(headers.get("retry-after")),
        )

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0


class WaitTooLong(Exception):
    """Pacing would have to sleep ``wait`` seconds, more than the caller's cap."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limit reset in {wait:.1f} s")
        self.wait = wait


class TokenBucket:
    """GCRA form of a token bucket: ``rate`` per second, ``burst`` back-to-back at most."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        if rate <= 0:
            raise ValueError(f"requests_per_second must be positive, got {rate}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval
        self._tat = float("-inf")  # theoretical arrival time of the next request

    def reserve(self, at: float) -> float:
        """Reserve a slot for a request wanting to go at ``at``; the delay it must wait."""
        tat = max(self._tat, at)
        delay = max(0.0, tat - self.tolerance - at)
        self._tat = tat + self.interval
        return delay


class Pacer:
    """Decides how long each request waits before it is sent, across threads."""

    def __init__(
        self,
        requests_per_second: float | None,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._buckets: dict[str, TokenBucket] = {}
        if requests_per_second is not None:
            self._buckets[CONTACTS] = TokenBucket(requests_per_second, burst)
        self._blocked_until: dict[str, float] = {}
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.slept = 0.0  # total seconds slept for pacing, for statistics

    def reserve(self, family: str, max_wait: float) -> float:
        """The wait before the next request of ``family`` may go; reserves its slot.

        Raises WaitTooLong, reserving nothing, when a header-announced block lasts
        longer than ``max_wait``.
        """
        with self._lock:
            now = self._clock()
            blocked = max(0.0, self._blocked_until.get(family, now) - now)
            if blocked > max_wait:
                raise WaitTooLong(blocked)
            bucket = self._buckets.get(family)
            spacing = bucket.reserve(now + blocked) if bucket else 0.0
            return blocked + spacing

    def acquire(self, family: str, max_wait: float) -> float:
        """Sleep until a request of ``family`` may go; returns the seconds slept."""
        wait = self.reserve(family, max_wait)
        if wait > 0:
            self._sleep(wait)
            with self._lock:
                self.slept += wait
        return wait

    def observe(self, family: str, headers: RateLimitHeaders) -> None:
        """Block the family until the reset when an answer says nothing is left.

        Not for a per-second window of a family we space ourselves: its last request
        always reads ``remaining: 0`` with the reset rounded up to a whole second, and
        blocking a full second each time would halve the rate the bucket already keeps.
        """
        if not headers.exhausted:
            return
        reset = headers.reset if headers.reset is not None else 1.0
        if reset <= 1.0 and family in self._buckets:
            return
        self.block(family, reset)

    def on_rate_limited(self, family: str, headers: RateLimitHeaders, attempt: int) -> float:
        """After a 429: block the family until the reset; returns the wait in seconds.

        ``attempt`` counts the consecutive 429s of this call (1 for the first); it only
        matters when Brevo gave no reset, then the wait doubles from 1 s.
        """
        if headers.reset is not None:
            wait = headers.reset
        elif headers.retry_after is not None:
            wait = headers.retry_after
        else:
            wait = min(MAX_BLIND_BACKOFF, 2.0 ** max(0, attempt - 1))
        return self.block(family, wait)

    def block(self, family: str, seconds: float) -> float:
        seconds = max(MIN_BLOCK_SECONDS, seconds)
        with self._lock:
            until = self._clock() + seconds
            self._blocked_until[family] = max(self._blocked_until.get(family, until), until)
        return seconds

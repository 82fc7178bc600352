"""The sign-in rate limit: failed attempts per account and per client address.

Kept in memory, so it holds for one server process (what `segport serve` is); servers
behind a load balancer each count their own. Only failures count, and a success clears
the account's count, so a user who mistypes once is not held back.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from segport.errors import SegportError


class TooManyAttempts(SegportError):
    """Too many failed sign-ins: wait ``retry_after`` seconds."""

    kind = "forbidden"
    default_code = "login_rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after


class LoginLimiter:
    def __init__(
        self,
        per_account: int,
        per_address: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"account": per_account, "address": per_address}
        self.window = window
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            times = self._failures[key] = deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def check(self, account: str, address: str) -> None:
        """:class:`TooManyAttempts` if the account or the address used up its attempts."""
        now = self._clock()
        with self._lock:
            for kind, value in (("account", account.casefold()), ("address", address)):
                times = self._recent((kind, value), now)
                if len(times) >= self.limits[kind]:
                    wait = max(1, math.ceil(times[0] + self.window - now))
                    raise TooManyAttempts(
                        f"too many failed sign-ins for this {kind}: try again in {wait} s",
                        retry_after=wait,
                    )

    def failed(self, account: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key in (("account", account.casefold()), ("address", address)):
                self._recent(key, now).append(now)
            if len(self._failures) > 10_000:  # forget keys whose attempts all expired
                for key in [
                    k for k, v in self._failures.items() if not v or v[-1] <= now - self.window
                ]:
                    del self._failures[key]

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._failures.pop(("account", account.casefold()), None)

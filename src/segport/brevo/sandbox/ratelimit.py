"""Brevo's general-tier rate limits, per API key, with the `x-sib-ratelimit-*` headers.

Contacts endpoints (`/v3/contacts...`): 10 requests per second and 36,000 per hour.
All other endpoints: 100 per hour. Windows are fixed (aligned on the clock).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

# bucket -> [(window seconds, allowance)]
BREVO_GENERAL: dict[str, list[tuple[int, int]]] = {
    "contacts": [(1, 10), (3600, 36_000)],
    "other": [(3600, 100)],
}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the reported window resets

    def headers(self) -> dict[str, str]:
        return {
            "x-sib-ratelimit-limit": str(self.limit),
            "x-sib-ratelimit-remaining": str(self.remaining),
            "x-sib-ratelimit-reset": str(self.reset),
        }


def bucket_of(path: str) -> str:
    """`/v3/contacts...` is the contacts bucket; everything else is `other`."""
    return "contacts" if path == "/v3/contacts" or path.startswith("/v3/contacts/") else "other"


class RateLimiter:
    def __init__(self, tiers: dict[str, list[tuple[int, int]]] | None = None) -> None:
        self.tiers = tiers if tiers is not None else BREVO_GENERAL
        self._lock = threading.Lock()
        # (key, bucket, window) -> (window start, used)
        self._used: dict[tuple[str, str, int], tuple[int, int]] = {}

    def check(self, key: str, bucket: str, now: float | None = None) -> Verdict:
        """Count one request; report the tightest window (the exhausted one on a 429)."""
        now = time.time() if now is None else now
        with self._lock:
            states = []
            for window, allowance in self.tiers[bucket]:
                start = int(now // window) * window
                prev_start, used = self._used.get((key, bucket, window), (start, 0))
                if prev_start != start:
                    used = 0
                reset = max(1, math.ceil(start + window - now))
                states.append((window, allowance, start, used, reset))
            blocked = [s for s in states if s[3] >= s[1]]
            if blocked:
                window, allowance, _, _, reset = max(blocked, key=lambda s: s[4])
                return Verdict(False, allowance, 0, reset)
            for window, _allowance, start, used, _reset in states:
                self._used[(key, bucket, window)] = (start, used + 1)
            window, allowance, _, used, reset = min(states, key=lambda s: (s[1] - s[3], s[0]))
            return Verdict(True, allowance, allowance - used - 1, reset)

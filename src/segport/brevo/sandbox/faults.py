"""Injected faults: chosen endpoints answer 429/5xx, answer slowly, or drop the connection.

Spec: comma-separated rules `ENDPOINT:ACTION[@RATE][xCOUNT]`, e.g.
`import:429@0.2,processes:500@0.1,import:drop@0.05,lists:slow=1.5@0.3,account:500x2`.

- ENDPOINT: a route group (see `ENDPOINTS`) or `*` for every /v3 route.
- ACTION: `429`, `500`, `502`, `503`, `524`, `drop` (the TCP connection is torn down
  before any answer), or `slow=SECONDS` (the answer is delayed, then served normally).
- RATE: probability in 0..1 (default 1). COUNT: fire at most that many times.

Each rule has its own random stream seeded from (seed, rule position), and draws once per
matching request, so a run with the same seed and request order faults the same requests.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field

ENDPOINTS = (
    "account",
    "attributes",
    "folders",
    "lists",
    "list-contacts",
    "import",
    "processes",
    "contacts",
)
ACTIONS = ("429", "500", "502", "503", "524", "drop", "slow")
_RULE = re.compile(
    r"(?P<endpoint>[a-z*-]+):(?P<action>\d{3}|drop|slow=(?P<delay>\d+(?:\.\d+)?))"
    r"(?:@(?P<rate>\d*\.?\d+))?(?:x(?P<count>\d+))?"
)


class FaultSpecError(ValueError):
    """A fault spec that cannot be parsed; the message names the rule and the fix."""


@dataclass
class FaultRule:
    endpoint: str
    action: str
    delay: float = 0.0
    rate: float = 1.0
    count: int | None = None
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random)


@dataclass(frozen=True)
class Fault:
    action: str  # "429", "500", "502", "503", "524", "drop" or "slow"
    delay: float = 0.0


def parse_faults(spec: str, seed: int = 0) -> list[FaultRule]:
    rules: list[FaultRule] = []
    for position, text in enumerate(p.strip() for p in spec.split(",") if p.strip()):
        m = _RULE.fullmatch(text)
        if m is None:
            raise FaultSpecError(
                f"fault rule {text!r}: expected ENDPOINT:ACTION[@RATE][xCOUNT], "
                "e.g. import:429@0.2 or lists:slow=1.5@0.3 or account:500x2"
            )
        endpoint, action = m["endpoint"], m["action"]
        if endpoint != "*" and endpoint not in ENDPOINTS:
            raise FaultSpecError(
                f"fault rule {text!r}: unknown endpoint {endpoint!r}; "
                f"use one of {', '.join(ENDPOINTS)} or *"
            )
        if m["delay"] is not None:
            action = "slow"
        elif action not in ACTIONS:
            raise FaultSpecError(
                f"fault rule {text!r}: unknown action {action!r}; "
                "use 429, 500, 502, 503, 524, drop or slow=SECONDS"
            )
        rate = float(m["rate"]) if m["rate"] is not None else 1.0
        if not 0.0 <= rate <= 1.0:
            raise FaultSpecError(f"fault rule {text!r}: rate must be between 0 and 1")
        rules.append(
            FaultRule(
                endpoint=endpoint,
                action=action,
                delay=float(m["delay"] or 0.0),
                rate=rate,
                count=int(m["count"]) if m["count"] is not None else None,
                rng=random.Random(f"{seed}:{position}"),
            )
        )
    return rules


class FaultInjector:
    def __init__(self, spec: str, seed: int = 0) -> None:
        self.rules = parse_faults(spec, seed)
        self._lock = threading.Lock()

    def pick(self, endpoint: str) -> Fault | None:
        """The fault for this request, if any (first firing rule wins)."""
        if not self.rules:
            return None
        with self._lock:
            chosen: Fault | None = None
            for rule in self.rules:
                if rule.endpoint not in ("*", endpoint):
                    continue
                if rule.count is not None and rule.fired >= rule.count:
                    continue
                hit = rule.rng.random() < rule.rate
                if hit and chosen is None:
                    rule.fired += 1
                    chosen = Fault(rule.action, rule.delay)
            return chosen

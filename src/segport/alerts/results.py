"""What became of one alert's delivery: delivered, or failed with the reason, and how many
attempts it took."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DeliveryResult", "one_line"]

# Line breaks, control characters and bidirectional overrides: what would split a mail
# header, or steer a terminal showing a result.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def one_line(text: object) -> str:
    """Text from outside (an export's name, a server's answer) on one plain line."""
    return _CONTROL.sub(" ", str(text)).strip()


Channel = Literal["email", "webhook"]


@dataclass(frozen=True)
class DeliveryResult:
    """One alert sent (``delivered``) or given up on (``failed``, with ``reason``).

    ``attempts`` counts the tries made (0 when nothing could be tried: no SMTP server
    set, a secret missing from the environment). ``detail`` says what answered: the HTTP
    status, or the SMTP server's reply. ``reason`` never holds a secret.
    """

    alert: str
    channel: Channel
    status: Literal["delivered", "failed"]
    attempts: int
    reason: str | None = None
    detail: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status == "delivered"

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert": self.alert,
            "channel": self.channel,
            "status": self.status,
            "attempts": self.attempts,
            "reason": self.reason,
            "detail": self.detail,
        }

"""What became of one alert's delivery: delivered, or failed with the reason, and how many
attempts it took."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DeliveryResult"]

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

"""Settings of one sandbox server (what `segport sandbox` options and test fixtures set)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

RateLimitMode = Literal["brevo", "off"]
Locale = Literal["en", "fr"]

DEFAULT_API_KEY = "sandbox"


@dataclass(frozen=True)
class SandboxConfig:
    """How a sandbox server listens and behaves.

    `port=0` picks a free port. `faults` is a fault spec (see `faults.parse_faults`);
    `seed` makes the faults reproducible. `state_file` is loaded at start when it
    exists and written at stop.
    """

    host: str = "127.0.0.1"
    port: int = 8765
    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    state_file: Path | str | None = None
    rate_limits: RateLimitMode = "brevo"
    faults: str = ""
    seed: int = 0
    locale: Locale = "en"

    def __post_init__(self) -> None:
        if not self.api_keys or any(not k for k in self.api_keys):
            raise ValueError("api_keys: give at least one non-empty API key")
        if self.rate_limits not in ("brevo", "off"):
            raise ValueError(f"rate_limits: expected 'brevo' or 'off', got {self.rate_limits!r}")
        if self.locale not in ("en", "fr"):
            raise ValueError(f"locale: expected 'en' or 'fr', got {self.locale!r}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port: expected 0..65535, got {self.port}")

"""Helpers for the Brevo client's unit tests: a fake clock and scripted HTTP answers.

These tests use httpx.MockTransport only for what the sandbox cannot produce on demand
(torn connections, HTML 524 pages, malformed JSON) and for exact pacing arithmetic; the
client's behaviour against a real server is tested in tests/integration/brevo/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from segport.brevo import BrevoClient

API_KEY = "xkeysib-0123456789abcdef0123456789abcdef-SecretSecret42"
BASE_URL = "https://api.brevo.test/v3"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeClock:
    """Monotonic time that only moves when the code under test sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Script:
    """Answers requests in order from a list; records every request it saw."""

    answers: list[Answer]
    requests: list[httpx.Request] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    clock: FakeClock | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if self.clock is not None:
            self.times.append(self.clock.now)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def scripted(clock: FakeClock) -> Iterator[Callable[..., tuple[BrevoClient, Script]]]:
    """``scripted(answer, ..., **client_options)`` -> a client answering from the script."""
    clients: list[BrevoClient] = []

    def make(*answers: Answer, **options: Any) -> tuple[BrevoClient, Script]:
        script = Script(list(answers), clock=clock)
        options.setdefault("requests_per_second", 10.0)
        client = BrevoClient(
            API_KEY,
            BASE_URL,
            transport=httpx.MockTransport(script),
            clock=clock,
            sleep=clock.sleep,
            **options,
        )
        clients.append(client)
        return client, script

    yield make
    for client in clients:
        client.close()

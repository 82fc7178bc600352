"""One sandbox per test module: starting and stopping one per test costs ~0.2 s each.

Tests here make their own lists and names, so sharing the account is safe.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from segport.brevo.sandbox import SandboxConfig, SandboxServer

# A distinctive key, so tests can search files, logs and outputs for it.
SANDBOX_KEY = "xkeysib-0d4c1f3e9a7b-segport-workspace-test-SECRET-5e2a"
OTHER_KEY = "xkeysib-second-key-of-the-same-account-7f31"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(
        SandboxConfig(port=0, rate_limits="off", api_keys=(SANDBOX_KEY, OTHER_KEY))
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()

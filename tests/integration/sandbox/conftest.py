"""Helpers for the sandbox suites: an official brevo-python 5.x client on the sandbox."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from brevo import Brevo
from brevo.core.http_response import HttpResponse

from segport.brevo.sandbox import SandboxServer

# (tests/conftest.py unsets BREVO_CLIENT_ID/SECRET before brevo-python is imported)

M = TypeVar("M")


@pytest.fixture
def brevo(sandbox: SandboxServer) -> Brevo:
    """The official client, pointed at the sandbox, without retries (deterministic)."""
    return Brevo(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=0, timeout=10)


def strict(model: type[M], raw: HttpResponse[Any]) -> M:
    """Validate the raw JSON answer against the SDK model (pydantic, by alias).

    The SDK itself builds its models without validation; this proves the answer really
    has the shape and types brevo-python declares.
    """
    validated: M = model.model_validate(raw.response.json())  # type: ignore[attr-defined]
    return validated


def wait_completed(client: Brevo, sandbox: SandboxServer, process_id: int) -> Any:
    """The process, read through the SDK once the sandbox has finished every import."""
    sandbox.state.wait_idle(timeout=20)
    proc = client.process.get_process(process_id)
    assert proc.status == "completed", f"process {process_id} is {proc.status}"
    return proc

"""What the API and page tests share: checking a problem-details answer, and runs
queued for a test and then settled (a queued run blocks the next request of its export)."""

from __future__ import annotations

from typing import Any

import httpx
from tests.fixtures.server import Web

from segport.service import cancel_run, page_runs, request_run

PROBLEM = "application/problem+json"


def problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The problem body of ``answer``, checked to be RFC 9457 with this status and code."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:segport:problem:{code}"
    assert body["title"] and body["detail"]
    return body


def cancel_queued(web: Web) -> None:
    """Cancel every queued run of the server's workspace."""
    admin = web.actor("admin")
    for run in page_runs(web.ws, admin, status="queued", limit=500).runs:
        cancel_run(web.ws, admin, run.id)


def canceled_run(web: Web, export: str) -> int:
    """The id of a run of ``export`` requested and canceled at once (an ended run)."""
    admin = web.actor("admin")
    run = request_run(web.ws, admin, export)
    cancel_run(web.ws, admin, run.id)
    return run.id

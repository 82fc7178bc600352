"""What the API tests share: checking a problem-details answer."""

from __future__ import annotations

from typing import Any

import httpx

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

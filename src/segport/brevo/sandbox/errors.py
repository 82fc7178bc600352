"""Brevo's error bodies: `{code, message}` (plus `metadata` on some contact errors)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class ApiProblem(Exception):
    """Raised by a route to answer with a Brevo error body."""

    def __init__(
        self, status: int, code: str, message: str, metadata: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.metadata = metadata

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.metadata is not None:
            out["metadata"] = self.metadata
        return out


def bad_request(message: str, code: str = "invalid_parameter") -> ApiProblem:
    return ApiProblem(400, code, message)


def missing(field: str, message: str | None = None) -> ApiProblem:
    return ApiProblem(400, "missing_parameter", message or f"{field} is missing")


def not_found(message: str) -> ApiProblem:
    return ApiProblem(404, "document_not_found", message)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def problem_response(problem: ApiProblem, headers: dict[str, str] | None = None) -> Response:
    return json_response(problem.body(), problem.status, headers)

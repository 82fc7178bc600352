"""Errors as RFC 9457 problem details (``application/problem+json``).

Every :class:`SegportError` is mapped mechanically: its kind gives the HTTP status, its
code and field go into the body as they are (``SegportError.to_dict()``), the message is
the ``detail``. Request validation errors and HTTP errors of the framework get the same
shape, so a client reads one kind of error body.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from segport.errors import SegportError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("segport.server")

# kind -> HTTP status (segport/errors.py's table)
STATUS_OF_KIND = {
    "not_found": 404,
    "invalid": 422,
    "forbidden": 403,
    "conflict": 409,
    "busy": 409,
    "unavailable": 502,
}
# Codes whose status is not their kind's: who is asking is not known (yet).
STATUS_OF_CODE = {
    "bad_credentials": 401,
    "session_invalid": 401,
    "authentication_required": 401,
    "login_rate_limited": 429,
}
TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many attempts",
    500: "Server error",
    502: "Brevo or a database is unavailable",
}


class Problem(BaseModel):
    """An error (RFC 9457). ``code`` is stable (match on it, never on ``detail``);
    ``field`` names the input at fault, when one is."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    kind: str | None = None
    field: str | None = None
    details: dict[str, Any] | None = None


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    kind: str | None = None,
    field: str | None = None,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=f"urn:segport:problem:{code}",
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        code=code,
        kind=kind,
        field=field,
        details=details or None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def status_of(exc: SegportError) -> int:
    return STATUS_OF_CODE.get(exc.code, STATUS_OF_KIND[exc.kind])


def from_error(exc: SegportError) -> JSONResponse:
    data = exc.to_dict()
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 429:
        headers = {"Retry-After": str(exc.details.get("retry_after", 60))}
    return problem_response(
        status,
        data["code"],
        data["message"],
        kind=data["kind"],
        field=data.get("field"),
        details=data.get("details"),
        headers=headers,
    )


def _error(e: Any) -> dict[str, Any]:
    return {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}


def _validation(exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    where = [str(p) for p in first.get("loc", ())]
    # loc is ("body" | "query" | "path", name, ...): the field is the name within it
    field = ".".join(where[1:]) or (where[0] if where else None)
    detail = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg', '')}"
        for e in errors
    )
    return problem_response(
        422,
        "request_invalid",
        detail or "the request is not valid",
        kind="invalid",
        field=field,
        details={
            "errors": [
                {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg"))}
                for e in errors
            ]
        },
    )


def install(app: FastAPI) -> None:
    """Answer every error the app raises as problem details."""

    async def on_segport(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SegportError)
        return from_error(exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return _validation(exc)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = TITLES.get(exc.status_code, "error").lower().replace(" ", "_")
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        return problem_response(exc.status_code, code, detail, headers=exc.headers)

    async def on_database(request: Request, exc: Exception) -> JSONResponse:
        # The metadata database failed (a lost server, a damaged page): what the driver
        # said, without the statement, as the CLI reports it.
        orig = getattr(exc, "orig", None)
        said = str(orig).strip().splitlines()[0] if orig is not None and str(orig).strip() else "?"
        return problem_response(
            502,
            "database_failed",
            f"the metadata database failed ({type(orig).__name__}: {said}); nothing more was "
            "done. Run `segport doctor` on the workspace",
            kind="unavailable",
        )

    async def on_bug(request: Request, exc: Exception) -> JSONResponse:
        # A bug: logged with its traceback for the operator, one line for the client.
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return problem_response(500, "internal_error", "the server failed: see its log")

    from sqlalchemy.exc import DBAPIError

    app.add_exception_handler(DBAPIError, on_database)
    app.add_exception_handler(Exception, on_bug)
    app.add_exception_handler(SegportError, on_segport)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)


# What routes declare in OpenAPI for an error status: a problem body.
def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        s: {
            "model": Problem,
            "description": TITLES.get(s, "Error"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }

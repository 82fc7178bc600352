"""Reading requests: JSON bodies, query and path parameters, each with a clear 400."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request

from segport.brevo.sandbox.errors import bad_request
from segport.brevo.sandbox.state import AccountState
from segport.brevo.sandbox.values import parse_time

if TYPE_CHECKING:  # (imports.py reads bodies with the helpers below)
    from segport.brevo.sandbox.imports import ImportWorker


@dataclass
class Context:
    state: AccountState
    worker: ImportWorker | None = None  # set when the server binds


def ctx(request: Request) -> Context:
    context: Context = request.app.state.sandbox
    return context


async def json_body(request: Request) -> tuple[dict[str, Any], int]:
    """The JSON object sent, and its size in bytes."""
    raw = await request.body()
    if not raw.strip():
        return {}, 0
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"Input must be valid JSON: {exc}", "bad_request") from None
    if not isinstance(body, dict):
        raise bad_request("Input must be a JSON object", "bad_request")
    return body, len(raw)


def query_int(
    request: Request, name: str, default: int, minimum: int = 0, maximum: int | None = None
) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name} should be an integer, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        hi = f" and {maximum}" if maximum is not None else ""
        raise bad_request(f"{name} should be between {minimum}{hi}, got {value}", "out_of_range")
    return value


def query_sort(request: Request) -> str:
    sort = request.query_params.get("sort", "desc") or "desc"
    if sort not in ("asc", "desc"):
        raise bad_request(f"sort should be asc or desc, got {sort!r}")
    return sort


def query_time(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    ts = parse_time(raw)
    if ts is None:
        raise bad_request(
            f"{name} should be a UTC date-time like 2024-01-31T12:00:00.000Z, got {raw!r}"
        )
    return ts


def path_int(request: Request, name: str) -> int:
    raw = request.path_params[name]
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} should be an integer, got {raw!r}") from None


def body_int(body: dict[str, Any], name: str, required: bool = True) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise bad_request(f"{name} is missing", "missing_parameter")
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_request(f"{name} should be an integer")
    return value


def body_str(body: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip() and required):
        if required:
            raise bad_request(f"{name} is missing", "missing_parameter")
        return None
    if not isinstance(value, str):
        raise bad_request(f"{name} should be a string")
    return value


def body_bool(body: dict[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"{name} should be a boolean (true or false)")
    return value


def body_int_list(body: dict[str, Any], name: str) -> list[int] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        raise bad_request(f"{name} should be an array of integers")
    return value


def page(items: list[Any], offset: int, limit: int) -> list[Any]:
    return items[offset : offset + limit]

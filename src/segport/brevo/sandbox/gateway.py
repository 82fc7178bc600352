"""What stands in front of every /v3 route: the request log, the `api-key` check, the
rate limits and injected faults (a thin ASGI layer around the Starlette routes)."""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from segport.brevo.sandbox.faults import FaultInjector
from segport.brevo.sandbox.ratelimit import RateLimiter, Verdict, bucket_of

# (pattern on the path after /v3, endpoint group for faults, template for the log)
_ROUTES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(p), group, template)
    for p, group, template in [
        (r"/account", "account", "/account"),
        (r"/contacts/attributes(?:/[^/]+/[^/]+)?", "attributes", "/contacts/attributes"),
        (r"/contacts/folders", "folders", "/contacts/folders"),
        (r"/contacts/folders/[^/]+", "folders", "/contacts/folders/{folderId}"),
        (r"/contacts/folders/[^/]+/lists", "folders", "/contacts/folders/{folderId}/lists"),
        (r"/contacts/segments", "contacts", "/contacts/segments"),
        (r"/contacts/lists/[^/]+/contacts", "list-contacts", "/contacts/lists/{listId}/contacts"),
        (
            r"/contacts/lists/[^/]+/contacts/add",
            "list-contacts",
            "/contacts/lists/{listId}/contacts/add",
        ),
        (
            r"/contacts/lists/[^/]+/contacts/remove",
            "list-contacts",
            "/contacts/lists/{listId}/contacts/remove",
        ),
        (r"/contacts/lists", "lists", "/contacts/lists"),
        (r"/contacts/lists/[^/]+", "lists", "/contacts/lists/{listId}"),
        (r"/contacts/import", "import", "/contacts/import"),
        (r"/contacts/batch", "contacts", "/contacts/batch"),
        (r"/processes", "processes", "/processes"),
        (r"/processes/[^/]+", "processes", "/processes/{processId}"),
        (r"/contacts", "contacts", "/contacts"),
        (r"/contacts/[^/]+", "contacts", "/contacts/{identifier}"),
    ]
]


def classify(path: str) -> tuple[str, str]:
    """(endpoint group, path template) of a /v3 path; ("other", path) when unknown."""
    sub = path[3:]
    for pattern, group, template in _ROUTES:
        if pattern.fullmatch(sub):
            if template.endswith("/attributes") and sub != "/contacts/attributes":
                template = "/contacts/attributes/{category}/{name}"
            return group, template
    return "other", sub


@dataclass(frozen=True)
class RequestRecord:
    at: float
    method: str
    route: str  # e.g. "POST /contacts/import"
    path: str
    status: int  # 0 when the connection was dropped before any answer


class RequestLog:
    """Every /v3 request the sandbox saw, for tests of pacing and retries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Notified on every change, so a test waits for a request instead of sleeping.
        self.changed = threading.Condition(self._lock)
        self.entries: list[RequestRecord] = []

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self.entries.append(record)
            self.changed.notify_all()

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(e.route for e in self.entries)

    def count(self, route: str | None = None, status: int | None = None) -> int:
        """Requests to `route` ("POST /contacts/import"; None = all), optionally by status."""
        with self._lock:
            return sum(
                1
                for e in self.entries
                if (route is None or e.route == route) and (status is None or e.status == status)
            )

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()
            self.changed.notify_all()


_MISSING_KEY = orjson.dumps(
    {"message": "authentication not found in headers", "code": "unauthorized"}
)
_BAD_KEY = orjson.dumps({"message": "Key not found", "code": "unauthorized"})
_RATE_LIMITED = orjson.dumps({"code": "too_many_requests", "message": "Too many requests"})
_FAULT_BODIES: dict[str, tuple[bytes, bytes]] = {
    "429": (_RATE_LIMITED, b"application/json"),
    "500": (
        orjson.dumps({"code": "internal_error", "message": "Internal server error"}),
        b"application/json",
    ),
    "502": (b"error code: 502", b"text/plain; charset=UTF-8"),
    "503": (b"error code: 503", b"text/plain; charset=UTF-8"),
    "524": (b"error code: 524", b"text/plain; charset=UTF-8"),
}


class Gateway:
    def __init__(
        self,
        app: ASGIApp,
        api_keys: tuple[str, ...],
        limiter: RateLimiter | None,
        faults: FaultInjector,
        log: RequestLog,
        drop_connection: Callable[[Scope], None],
    ) -> None:
        self.app = app
        self.api_keys = frozenset(api_keys)
        self.limiter = limiter
        self.faults = faults
        self.log = log
        self.drop_connection = drop_connection
        self._ids = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/v3" or path.startswith("/v3/")):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        group, template = classify(path)
        route = f"{method} {template}"
        status_box = [0]
        extra: list[tuple[bytes, bytes]] = [
            (b"sib-request-id", f"sandbox-{next(self._ids):08x}".encode())
        ]

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                # logged before the answer leaves, so a client never sees an unlogged answer
                self.log.add(RequestRecord(time.time(), method, route, path, status_box[0]))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        def log_unanswered() -> None:  # dropped, or failed before answering
            self.log.add(RequestRecord(time.time(), method, route, path, 0))

        try:
            await self._handle(scope, receive, send_wrapped, group, extra, log_unanswered)
        except BaseException:
            if status_box[0] == 0:
                log_unanswered()
            raise

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        group: str,
        extra: list[tuple[bytes, bytes]],
        log_unanswered: Callable[[], None],
    ) -> None:
        key = _header(scope, b"api-key")
        if key is None:
            await _answer(send, 401, _MISSING_KEY)
            return
        if key not in self.api_keys:
            await _answer(send, 401, _BAD_KEY)
            return
        if self.limiter is not None:
            verdict: Verdict = self.limiter.check(key, bucket_of(scope["path"]))
            extra.extend((k.encode(), v.encode()) for k, v in verdict.headers().items())
            if not verdict.allowed:
                await _answer(send, 429, _RATE_LIMITED)
                return
        fault = self.faults.pick(group)
        if fault is not None:
            if fault.action == "drop":
                log_unanswered()
                self.drop_connection(scope)
                return
            if fault.action == "slow":
                await asyncio.sleep(fault.delay)
            else:
                body, ctype = _FAULT_BODIES[fault.action]
                await _answer(send, int(fault.action), body, ctype)
                return
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope["headers"]:
        if k == name:
            value: str = v.decode("latin-1")
            return value
    return None


async def _answer(send: Send, status: int, body: bytes, ctype: bytes = b"application/json") -> None:
    headers: list[Any] = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

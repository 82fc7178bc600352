"""Run a sandbox: uvicorn on a loopback socket, in a background thread or in the foreground."""

from __future__ import annotations

import asyncio
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.types import Scope
from uvicorn.protocols.http.h11_impl import H11Protocol

from segport.brevo.sandbox.app import build_app
from segport.brevo.sandbox.config import SandboxConfig
from segport.brevo.sandbox.gateway import RequestLog
from segport.brevo.sandbox.imports import ImportWorker
from segport.brevo.sandbox.params import Context
from segport.brevo.sandbox.persistence import load_state, save_state
from segport.brevo.sandbox.state import AccountState


def _protocol_with_registry(registry: dict[Any, asyncio.Transport]) -> type[H11Protocol]:
    """An h11 protocol that lets the app find its connection's transport (to drop it)."""

    class Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
            super().connection_made(transport)  # type: ignore[arg-type]
            peer = transport.get_extra_info("peername")
            if peer is not None:
                registry[tuple(peer[:2])] = transport  # type: ignore[assignment]

        def connection_lost(self, exc: Exception | None) -> None:
            peer = self.transport.get_extra_info("peername") if self.transport else None
            if peer is not None:
                registry.pop(tuple(peer[:2]), None)
            super().connection_lost(exc)

    return Protocol


class SandboxServer:
    """A Brevo API v3 stand-in on loopback. `start()` serves it from a background thread."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.state_path = Path(self.config.state_file) if self.config.state_file else None
        self.state: AccountState = (
            load_state(self.state_path, self.config.locale)
            if self.state_path is not None
            else AccountState(self.config.locale)
        )
        self.requests_log = RequestLog()
        self._transports: dict[Any, asyncio.Transport] = {}
        self._worker: ImportWorker | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = self.config.port
        # Built now so that a bad fault spec fails before anything listens.
        self._app = build_app(
            self.config,
            Context(self.state, None),
            self.requests_log,
            self._drop,  # type: ignore[arg-type]
        )

    # --- addresses -----------------------------------------------------------------
    @property
    def root_url(self) -> str:
        host = self.config.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v3"

    @property
    def api_key(self) -> str:
        return self.config.api_keys[0]

    # --- life cycle ----------------------------------------------------------------
    def bind(self) -> uvicorn.Server:
        """Open the listening socket (so `port`/`base_url` are known) and ready the server."""
        if self._server is not None:
            return self._server
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this: without it small answers stall ~40 ms (Nagle).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self.config.host, self.config.port))
        except OSError as exc:
            sock.close()
            raise OSError(
                f"cannot listen on {self.config.host}:{self.config.port} ({exc.strerror}); "
                "choose another --port (0 picks a free one)"
            ) from None
        # Listening now (uvicorn listens again, harmlessly, when it starts) makes the
        # address usable from here on: a client that connects before the server runs waits
        # in the backlog instead of being refused, so "serving URL" is true once printed.
        sock.listen(2048)
        self._socket = sock
        self.port = sock.getsockname()[1]
        self._worker = ImportWorker(self.state)
        self._app.app.state.sandbox.worker = self._worker  # type: ignore[attr-defined]
        config = uvicorn.Config(
            self._app,
            http=_protocol_with_registry(self._transports),
            ws="none",
            lifespan="off",
            loop="asyncio",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        return self._server

    def start(self, timeout: float = 10.0) -> SandboxServer:
        """Serve from a background thread; returns once the socket accepts requests."""
        server = self.bind()
        sock = self._socket
        assert sock is not None
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="sandbox-http", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.002)
        return self

    def serve_forever(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve in this thread until Ctrl-C or SIGTERM, then stop cleanly. ``on_ready``
        runs once the signals are handled (a caller announces the address there, so a
        signal sent as soon as it reads that is never lost)."""
        server = self.bind()

        # uvicorn handles SIGINT/SIGTERM while serving and re-raises them once stopped.
        # Until its handlers are in place (and for that re-raise) ours asks the server to
        # stop: a signal in that window is not lost, and the state is still saved.
        def stop(signum: int, frame: object) -> None:
            server.should_exit = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            if on_ready is not None:
                on_ready()
            server.run(sockets=[self._socket] if self._socket else None)
        finally:
            self._finish()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextmanager
    def imports_paused(self) -> Iterator[None]:
        """Imports accepted inside the block stay ``queued`` until it ends (for tests)."""
        if self._worker is None:
            raise RuntimeError("the sandbox is not started")
        worker = self._worker
        worker.pause()
        try:
            yield
        finally:
            worker.resume()

    def stop(self) -> None:
        """Stop serving, finish queued imports, and save the state file if one is set."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self._finish()

    def _finish(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._server = None
        if self.state_path is not None:
            save_state(self.state, self.state_path)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- faults ----------------------------------------------------------------------
    def _drop(self, scope: Scope) -> None:
        """Tear the request's TCP connection down with a reset (the client sees an error)."""
        client = scope.get("client")
        transport = self._transports.get(tuple(client)) if client else None
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # SO_LINGER 0: close sends RST instead of FIN, like a dropped connection
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()

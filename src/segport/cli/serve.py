"""`segport serve`: the JSON API (and, next, the web pages) over HTTP, with an embedded
worker. Parsing and starting only: the app is :mod:`segport.server`, the worker
:class:`segport.service.Worker`; docs/server.md."""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer

from segport.cli.text import clean
from segport.cli.workspace import fail, opened, service_errors

if TYPE_CHECKING:
    from segport.service import Worker


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def _listen(host: str, port: int) -> socket.socket:
    """A bound socket, so the address printed is the one listened on (``--port 0``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        fail(f"cannot listen on {host}:{port} ({exc.strerror}): pick another --port or --host")
    sock.listen(128)
    return sock


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", metavar="HOST", help="Address to listen on."),
    port: int = typer.Option(
        8000, "--port", min=0, max=65535, metavar="PORT", help="Port (0 picks a free one)."
    ),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="Serve only: leave requested runs to `segport worker`."
    ),
) -> None:
    """Serve the API under http://HOST:PORT/api/v1 (docs at /api/v1/docs) and, unless
    --no-worker, execute requested and scheduled runs in the same process.

    Settings come from the environment (docs/server.md): SEGPORT_SESSION_SECRET,
    SEGPORT_ALLOWED_HOSTS, SEGPORT_SECURE_COOKIES, SEGPORT_SESSION_HOURS, ...
    SIGTERM or Ctrl-C stops the server and the worker (a run going on is handed back).
    """
    from segport.server import Settings, create_app
    from segport.service import Worker

    def log(line: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(f"{stamp} {clean(line)}", err=True)

    with opened(ctx) as (ws, actor):
        with service_errors():
            settings = Settings.from_env(ws.path, listen_host=host)
        app = create_app(settings, ws)
        sock = _listen(host, port)
        shown = f"[{host}]" if ":" in host else host
        typer.echo(
            f"segport serves http://{shown}:{sock.getsockname()[1]}/ "
            "(API: /api/v1, docs: /api/v1/docs); Ctrl-C stops it",
            err=True,
        )
        worker: Worker | None = None
        thread: threading.Thread | None = None
        if not no_worker:
            worker = Worker(ws, actor, log=log)
            thread = threading.Thread(
                target=_work, args=(worker, log), name="segport-worker", daemon=True
            )
            thread.start()

        def stop_worker(signal_name: str) -> None:
            # Off the main thread the worker installs no signal handlers: uvicorn catches
            # the signal, and the worker is told here (a run going on stops after its
            # chunk and is handed back, as with `segport worker`).
            if worker is not None and worker.stopping is None:
                worker.stopping = signal_name

        try:
            _run_server(app, sock, stop_worker)
        finally:
            stop_worker("shutdown")
            if thread is not None:
                thread.join()
            sock.close()


def _run_server(app: Any, sock: socket.socket, on_exit: Callable[[str], None]) -> None:
    """Serve ``app`` on ``sock`` with uvicorn until SIGTERM or Ctrl-C, telling ``on_exit``
    first. uvicorn re-raises the signal once it has shut down, which would kill the
    process before the worker had stopped and unregistered: here it is not re-raised, so
    a graceful stop exits 0, as `segport worker` does."""
    import uvicorn  # here, not at the top: `segport --help` stays fast

    class Server(uvicorn.Server):  # type: ignore[misc]
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            on_exit(signal.Signals(sig).name)
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    config = uvicorn.Config(app, log_level="info", lifespan="on", server_header=False)
    Server(config).run(sockets=[sock])


def _work(worker: Worker, log: Callable[[str], None]) -> None:
    from segport.errors import SegportError

    try:
        worker.run()
    except SegportError as exc:  # another worker holds a SQLite workspace, say
        log(f"the embedded worker stopped: {exc}")

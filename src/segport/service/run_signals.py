"""Signals that cancel a run: what any process executing runs in its main thread (the
command line's ``exports run``, a worker) installs while a run goes on.

SIGTERM (a service manager or container stopping the process) and Ctrl-C end the run
``canceled`` and resumable, through the engine's stop request (:mod:`segport.exports.stop`),
which a run checks at its safe points. Further signals are ignored while it winds down.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from segport.exports import stop

__all__ = ["signals_cancel"]


@contextmanager
def signals_cancel() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGINT cancel the run (nothing off the main
    thread, where Python cannot install handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def cancel(signum: int, frame: object) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        raise stop.request_stop(signal.Signals(signum).name)

    stop.clear()
    previous = {sig: signal.signal(sig, cancel) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

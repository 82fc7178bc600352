"""Build the items of an iterator on a worker thread, one step ahead of their consumer.

The sender posts one import body while the next is serialised: the POST mostly waits on
the network (the GIL is free), serialising is Arrow and DuckDB work. Errors of the worker
reach the consumer; leaving the ``with`` block early stops the worker and waits for it, so
no thread outlives the sender (a crash kills both: nothing is checkpointed by the worker).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_ITEM, _ERROR, _END = "item", "error", "end"


@contextmanager
def prefetched(make: Callable[[], Iterator[T]], depth: int = 1) -> Iterator[Iterator[T]]:
    """Yield an iterator over ``make()``'s items, produced ``depth`` ahead on a thread."""
    slots: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: str, value: object) -> bool:
        while not stop.is_set():
            try:
                slots.put((kind, value), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in make():
                if not put(_ITEM, item):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_ERROR, exc)
            return
        put(_END, None)

    def items() -> Iterator[T]:
        while True:
            kind, value = slots.get()
            if kind == _END:
                return
            if kind == _ERROR:
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]

    worker = threading.Thread(target=work, name="segport-prefetch", daemon=True)
    worker.start()
    try:
        yield items()
    finally:
        stop.set()
        worker.join()

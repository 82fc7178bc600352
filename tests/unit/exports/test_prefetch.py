"""The sender's read-ahead thread: same items in order, errors surface, early exit stops it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from segport.exports.prefetch import prefetched


def test_items_come_in_order_and_end() -> None:
    with prefetched(lambda: iter(range(100))) as items:
        assert list(items) == list(range(100))


def test_a_worker_error_reaches_the_consumer_after_the_items_before_it() -> None:
    def broken() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("window 3 failed")

    seen: list[int] = []
    with pytest.raises(ValueError, match="window 3 failed"), prefetched(broken) as items:
        for item in items:
            seen.append(item)
    assert seen == [1, 2]


def test_leaving_early_stops_the_worker_without_producing_everything() -> None:
    produced: list[int] = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    before = threading.active_count()
    with pytest.raises(RuntimeError), prefetched(endless, depth=1) as items:
        for item in items:
            if item == 3:
                raise RuntimeError("the POST failed")
    assert threading.active_count() == before  # the worker was joined
    assert len(produced) <= 3 + 1 + 2  # at most the queue depth and one in hand ahead

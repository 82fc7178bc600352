"""Every time the CLI prints is ISO 8601 in the local time zone, with its offset."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from segport.cli.text import when


@pytest.fixture
def paris(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_utc_time_is_shown_in_the_local_zone_with_its_offset(paris: None) -> None:
    assert when(datetime(2026, 12, 4, 21, 10, 5, tzinfo=UTC)) == "2026-12-04 22:10:05+01:00"
    assert when(datetime(2026, 7, 4, 21, 10, 5, 999, tzinfo=UTC)) == "2026-07-04 23:10:05+02:00"


def test_a_naive_time_is_utc_as_the_metadata_stores_it(paris: None) -> None:
    assert when(datetime(2026, 12, 4, 21, 10, 5)) == "2026-12-04 22:10:05+01:00"


def test_another_zone_is_converted(paris: None) -> None:
    tokyo = timezone(timedelta(hours=9))
    assert when(datetime(2026, 12, 5, 6, 10, 5, tzinfo=tokyo)) == "2026-12-04 22:10:05+01:00"


def test_no_time() -> None:
    assert when(None) == "-"
    assert when(None, "never") == "never"

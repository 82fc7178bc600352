"""Views serialise to JSON as they are: one serializer for every face."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import pytest

from segport.secret import Secret
from segport.service import Rows, to_json


class Colour(StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Inner:
    at: datetime
    colour: Colour


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner
    items: list[Inner] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)


def test_dataclasses_times_and_enums() -> None:
    at = datetime(2026, 12, 4, 22, 10, 5, tzinfo=timezone(timedelta(hours=1)))
    view = Outer("x", Inner(at, Colour.RED), [Inner(datetime(2026, 1, 2, 3, 4, 5), Colour.RED)])
    assert to_json(view) == {
        "name": "x",
        "inner": {"at": "2026-12-04T22:10:05+01:00", "colour": "red"},
        "items": [{"at": "2026-01-02T03:04:05+00:00", "colour": "red"}],  # naive: UTC
        "extra": {},
    }


def test_profile_values() -> None:
    values = {
        "d": date(2026, 1, 2),
        "price": Decimal("12.30"),
        "nan": float("nan"),
        "p": Path("/a/b"),
        "t": (1, 2),
    }
    out = to_json(values)
    assert out == {"d": "2026-01-02", "price": "12.30", "nan": "nan", "p": "/a/b", "t": [1, 2]}
    json.dumps(out, allow_nan=False)  # strictly JSON


def test_rows() -> None:
    rows = Rows(columns=["id", "at"], rows=[{"id": 1, "at": datetime(2026, 1, 1, tzinfo=UTC)}])
    assert rows.num_rows == 1 and rows.column("id") == [1]
    assert to_json(rows) == {
        "columns": ["id", "at"],
        "rows": [{"id": 1, "at": "2026-01-01T00:00:00+00:00"}],
    }


def test_a_secret_is_never_serialised() -> None:
    with pytest.raises(TypeError, match="Secret"):
        to_json({"key": Secret("xkeysib-abc")})


def test_an_engine_object_is_refused() -> None:
    with pytest.raises(TypeError):
        to_json({"x": object()})

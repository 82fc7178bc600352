"""Views as JSON: the one serializer every face uses (``--json`` in the CLI; the API will
return the same shapes).

Views are frozen dataclasses of plain values. :func:`to_json` turns one (or a list, or a
dict of them) into JSON-ready data: dataclasses become objects of their fields, datetimes
ISO 8601 with their offset (a naive one is UTC, as the metadata stores it), dates ISO
8601, enums their value, paths strings, tuples lists. A :class:`~segport.secret.Secret`
is refused, never written: a view must not hold one.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any

from segport.secret import Secret

__all__ = ["Rows", "dumps", "to_json"]

JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]


@dataclass(frozen=True)
class Rows:
    """A few profiles (a preview, or a segment's first members) as plain rows: column
    names in order, and one mapping of column -> value per profile."""

    columns: list[str]
    rows: list[dict[str, Any]]

    @property
    def num_rows(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[Any]:
        """The values of one column, row by row."""
        if name not in self.columns:
            raise KeyError(name)
        return [row.get(name) for row in self.rows]


def to_json(view: Any) -> JSON:
    """``view`` as JSON-ready data (see the module's docstring)."""
    if view is None or isinstance(view, bool | int | str):
        return view
    if isinstance(view, float):
        # JSON has no NaN or infinity: a profile value can hold one, so it is spelt out
        return view if math.isfinite(view) else str(view)
    if isinstance(view, Decimal):
        return str(view)  # exact: a float could change a price or an id
    if isinstance(view, time):
        return view.isoformat()
    if isinstance(view, timedelta):
        return view.total_seconds()
    if isinstance(view, bytes):
        return view.hex()
    if isinstance(view, Secret):
        raise TypeError("a view holds a Secret: API keys are never serialised")
    if isinstance(view, Enum):
        return to_json(view.value)
    if isinstance(view, datetime):
        return (view if view.tzinfo is not None else view.replace(tzinfo=UTC)).isoformat()
    if isinstance(view, date):
        return view.isoformat()
    if isinstance(view, PurePath):
        return str(view)
    if dataclasses.is_dataclass(view) and not isinstance(view, type):
        return {f.name: to_json(getattr(view, f.name)) for f in dataclasses.fields(view)}
    if isinstance(view, dict):
        return {str(k): to_json(v) for k, v in view.items()}
    if isinstance(view, list | tuple | set | frozenset):
        return [to_json(v) for v in view]
    raise TypeError(f"{type(view).__name__} is not a view value (JSON cannot hold it)")


def dumps(view: Any) -> str:
    """``view`` as indented JSON text (UTF-8 kept as it is)."""
    return json.dumps(to_json(view), indent=2, ensure_ascii=False)

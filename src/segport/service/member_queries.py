"""The SQL of an export's member queries, cached in the workspace between runs.

Rendering segments into SQL takes sqlglot and its DuckDB dialect, about 0.35 s of CPU to
import and run: a sixth of a run after a small change. The text only changes when a
segment, the profile table's columns, the day (rules like ``today() - 30 days`` are
rendered as dates), the query's shape or segport changes, so all of those make the key;
a key never seen is rendered afresh. The file holds what the metadata holds already (the
rules' values), nothing secret, and is rewritten atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport import __version__
from segport.segments.models import Segment

CACHE_FILE = Path("cache") / "member-queries.json"
MAX_ENTRIES = 64


def query_key(
    session: Session,
    store: Any,
    segments: Sequence[str],
    shape: dict[str, Any],
) -> str:
    """A key covering everything the rendered text of a query over ``segments`` depends on.

    ``store`` is the profile store (its dialect, table, id column and column types count);
    ``shape`` says which query (kind, columns, catalog...).
    """
    definitions = session.execute(
        select(Segment.name, Segment.kind, Segment.definition).order_by(Segment.name)
    ).all()
    try:
        sqlglot_version = metadata.version("sqlglot")
    except metadata.PackageNotFoundError:  # pragma: no cover - a dependency
        sqlglot_version = "?"
    data = {
        "segport": __version__,
        "sqlglot": sqlglot_version,
        "store": [store.dialect, store.table, store.id_column],
        "schema": store.schema(),
        "segments": list(segments),
        "definitions": [list(row) for row in definitions],
        "today": datetime.now(UTC).date().isoformat(),
        "shape": shape,
    }
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class QueryCache:
    """A small JSON file of key -> SQL text (the newest ``MAX_ENTRIES`` kept)."""

    def __init__(self, workspace_path: Path) -> None:
        self.path = workspace_path / CACHE_FILE

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # missing or unreadable: rendered afresh and rewritten
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get_or_render(self, key: str, render: Callable[[], str]) -> str:
        entries = self._load()
        sql = entries.get(key)
        if sql is not None:
            return sql
        sql = render()
        entries.pop(key, None)
        entries[key] = sql
        while len(entries) > MAX_ENTRIES:
            entries.pop(next(iter(entries)))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(entries), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:
            pass  # a cache that cannot be written only costs the rendering next time
        return sql

"""The embedded DuckDB profile store inside the workspace."""

from __future__ import annotations

from pathlib import Path


def create_embedded_store(path: Path) -> None:
    """Create an empty DuckDB profile store file at ``path``."""
    import duckdb

    con = duckdb.connect(str(path))
    con.close()

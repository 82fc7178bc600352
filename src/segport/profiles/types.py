"""Logical types of profile attributes, from each engine's own type names."""

from __future__ import annotations

LOGICAL_TYPES = ("text", "number", "date", "timestamp", "boolean")

_DUCKDB_NUMBER = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "REAL",
)
_PG_NUMBER = ("smallint", "integer", "bigint", "numeric", "real", "double precision", "decimal")


def duckdb_logical(native: str) -> str:
    """``text``/``number``/``date``/``timestamp``/``boolean``, or ``other`` (lists, blobs...)."""
    t = native.upper()
    if t.startswith(("VARCHAR", "UUID")) or t == "TEXT":
        return "text"
    if t.startswith(_DUCKDB_NUMBER):
        return "number"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t == "BOOLEAN":
        return "boolean"
    return "other"


def postgres_logical(native: str) -> str:
    t = native.lower()
    if t in ("text", "character varying", "character", "uuid", "citext", "name"):
        return "text"
    if t in _PG_NUMBER:
        return "number"
    if t == "date":
        return "date"
    if t.startswith("timestamp"):
        return "timestamp"
    if t == "boolean":
        return "boolean"
    return "other"

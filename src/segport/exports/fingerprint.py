"""Stable fingerprints, computed in DuckDB SQL.

A fingerprint is the 128-bit MD5 (``md5_number``) of the values joined with the unit
separator, NULL written as the record separator so that ``('a', NULL)`` and ``(NULL, 'a')``
differ. MD5 and the text forms of values are fixed, unlike DuckDB's ``hash()``, which
changed between releases (duckdb/duckdb#17596): state written by one release must compare
equal under the next, or every contact would be sent again. A golden test pins the values.
"""

from __future__ import annotations

from collections.abc import Sequence


def quote_ident(name: str) -> str:
    """A DuckDB identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A DuckDB string literal."""
    return "'" + value.replace("'", "''") + "'"


def fingerprint_sql(columns: Sequence[str], *, labelled: bool = True, prefix: str = "") -> str:
    """SQL for the fingerprint of ``columns`` of one row.

    ``labelled`` puts each column's name beside its value, so that mapping a value to
    another attribute changes the fingerprint even when the value does not.
    """
    parts = []
    for col in columns:
        value = f"coalesce(CAST({prefix}{quote_ident(col)} AS VARCHAR), chr(30))"
        parts.append(f"{quote_literal(col + '=')} || {value}" if labelled else value)
    if not parts:
        return "md5_number('')"
    return f"md5_number(concat_ws(chr(31), {', '.join(parts)}))"


def quick_hash_sql(columns: Sequence[str]) -> str:
    """A fast 64-bit hash of ``columns`` for the prepared-contacts cache key.

    DuckDB's ``hash()`` may change between releases; the cache key therefore includes
    DuckDB's version (see target.config_fingerprint), so an upgrade only makes the next
    run prepare every row again. Never use it for what Brevo holds: that is
    :func:`fingerprint_sql`.
    """
    values = [f"CAST({quote_ident(c)} AS VARCHAR)" for c in columns]
    return f"hash({', '.join(values)})" if values else "hash('')"

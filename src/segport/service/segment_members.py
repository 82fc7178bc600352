"""The export's segments as the engine's member source (exports.stage.MemberSource)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from segport.service.member_queries import QueryCache, query_key
from segport.service.workspace import Workspace


class SegmentMembers:
    """The export's segments as a member source for the engine.

    The profile store is opened per call and closed right after: its database keeps the
    blocks it read cached while open, memory the rest of the run needs more.
    """

    def __init__(self, ws: Workspace, segments: Sequence[str]) -> None:
        self._ws = ws
        self._segments = list(segments)
        with self._store() as store:
            self._id_column = str(store.id_column)
            self._dialect = str(store.dialect)

    @contextmanager
    def _store(self) -> Iterator[Any]:
        from segport.profiles import open_profile_store

        store = open_profile_store(self._ws.engine, self._ws.path)
        try:
            yield store
        finally:
            store.close()

    @property
    def id_column(self) -> str:
        return self._id_column

    def count(self) -> int:
        from segport.segments import count_members

        with self._store() as store, self._ws.session() as session:
            if self._dialect != "duckdb":
                return count_members(session, store, self._segments)

            def render() -> str:
                from sqlglot import exp

                from segport.segments.evaluation import members_predicate

                where = members_predicate(session, store, self._segments)
                query = exp.select(exp.Count(this=exp.Star())).from_(store.table_expr())
                return str(store.render(query.where(where)))

            key = query_key(session, store, self._segments, {"kind": "count"})
            sql = QueryCache(self._ws.path).get_or_render(key, render)
            rows = store.con.execute(sql).fetchall()
            return int(rows[0][0] or 0) if rows else 0

    def batches(self, columns: Sequence[str], batch_size: int) -> Iterator[pa.RecordBatch]:
        from segport.segments import stream_members

        with self._store() as store, self._ws.session() as session:
            yield from stream_members(session, store, self._segments, columns, batch_size)

    def duckdb_members(self, columns: Sequence[str], catalog: str) -> tuple[Path, str] | None:
        """The profile file and the members query with its table in ``catalog``, for the
        export state to attach and read (exports.members); None unless the profiles are in
        the workspace's DuckDB file."""
        if self._dialect != "duckdb":
            return None
        with self._store() as store, self._ws.session() as session:

            def render() -> str:
                from segport.segments.evaluation import members_predicate, members_query

                where = members_predicate(session, store, self._segments)
                query = members_query(store, where, columns)
                return str(store.render(_in_catalog(query, store.table_expr().name, catalog)))

            shape = {"kind": "members", "columns": list(columns), "catalog": catalog}
            key = query_key(session, store, self._segments, shape)
            return Path(store.path), QueryCache(self._ws.path).get_or_render(key, render)


def _in_catalog(query: Any, table: str, catalog: str) -> Any:
    """``query`` (a sqlglot tree) with every reference to ``table`` qualified by
    ``catalog`` (and schema ``main`` where it has none)."""
    from sqlglot import exp

    def qualify(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.name == table:
            qualified = node.copy()
            qualified.set("catalog", exp.to_identifier(catalog, quoted=True))
            if not qualified.args.get("db"):
                qualified.set("db", exp.to_identifier("main", quoted=True))
            return qualified
        return node

    return query.transform(qualify)

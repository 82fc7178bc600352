"""Segments -> one query on the profile store: lookup, predicates, counting and streaming.

A combination's predicate is built from its parts' predicates (union: or, intersect: and,
except: and not), so any mix of segments is one scan of the profile table. Cycles among
combinations are refused with the path that loops.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport.errors import NotFound
from segport.segments.combinations import Combination, SegmentRef, SetOp, from_tree
from segport.segments.documents import from_document
from segport.segments.models import COMBINATION, Segment
from segport.segments.rules import Rule, RuleError

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

    from segport.profiles.store import ProfileStore


class SegmentNotFound(NotFound, LookupError):
    """No segment has that name; the message lists the ones that exist."""

    default_code = "segment_not_found"

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "segment not found"


class CombinationCycle(RuleError):
    """A combination refers back to itself."""

    default_code = "combination_cycle"


def segment_names(session: Session) -> list[str]:
    return list(session.scalars(select(Segment.name).order_by(Segment.name)))


def get_segment(session: Session, name: str) -> Segment:
    """The segment called ``name``, or :class:`SegmentNotFound` listing existing names."""
    seg = session.scalars(select(Segment).where(Segment.name == name)).one_or_none()
    if seg is None:
        names = segment_names(session)
        known = ", ".join(names) if names else "none yet (create one first)"
        raise SegmentNotFound(f"no segment named {name!r}; the segments are: {known}")
    return seg


def rule_of(seg: Segment) -> Rule:
    try:
        return from_document(json.loads(seg.definition), where="rule")
    except RuleError as exc:  # saved before a check existed (a 1e999 saved as Infinity)
        raise RuleError(
            f"the saved rule of segment {seg.name!r} can no longer be used ({exc}); give the "
            "segment a new rule",
            code="saved_rule_unusable",
            field="rule",
            details={"segment": seg.name},
        ) from None


def combination_of(seg: Segment) -> Combination:
    tree = json.loads(seg.definition)
    return from_tree(tree)


def predicate(
    session: Session,
    store: ProfileStore,
    name: str,
    today: date | None = None,
    *,
    overrides: dict[str, Combination | Rule] | None = None,
) -> exp.Expr:
    """The predicate selecting the members of segment ``name`` on ``store``.

    ``overrides`` gives definitions not saved yet (checked before saving).
    """
    from sqlglot import exp

    from segport.segments.compiler import compile_rule

    columns = store.columns()
    cache: dict[str, exp.Expr] = {}

    def build(node: Combination, path: tuple[str, ...]) -> exp.Expr:
        if isinstance(node, SegmentRef):
            return of(node.name, path)
        left, right = build(node.left, path), build(node.right, path)
        if node.op == "union":
            return exp.or_(left, right)
        if node.op == "intersect":
            return exp.and_(left, right)
        # NULL-safe: a profile the right side cannot decide stays in.
        return exp.and_(left, exp.not_(exp.Coalesce(this=right, expressions=[exp.false()])))

    def of(seg_name: str, path: tuple[str, ...]) -> exp.Expr:
        if seg_name in path:
            loop = " -> ".join((*path[path.index(seg_name) :], seg_name))
            raise CombinationCycle(f"combination cycle: {loop}; a segment cannot contain itself")
        if seg_name in cache:
            return cache[seg_name].copy()
        if overrides and seg_name in overrides:
            new = overrides[seg_name]
            if isinstance(new, SegmentRef | SetOp):
                result = build(new, (*path, seg_name))
            else:
                result = compile_rule(new, columns, today)
        else:
            seg = get_segment(session, seg_name)
            if seg.kind == COMBINATION:
                result = build(combination_of(seg), (*path, seg_name))
            else:
                rule = rule_of(seg)
                try:
                    result = compile_rule(rule, columns, today)
                except RuleError as exc:
                    raise RuleError(f"segment {seg_name!r}: {exc}") from None
        cache[seg_name] = result
        return result.copy()

    return of(name, ())


def members_predicate(
    session: Session, store: ProfileStore, segment_names: Sequence[str], today: date | None = None
) -> exp.Expr:
    from sqlglot import exp

    if not segment_names:
        raise RuleError("name at least one segment")
    preds = [predicate(session, store, n, today) for n in dict.fromkeys(segment_names)]
    return exp.or_(*preds) if len(preds) > 1 else preds[0]


def members_query(
    store: ProfileStore, where: exp.Expr, columns: Sequence[str], limit: int | None = None
) -> exp.Select:
    from sqlglot import exp

    from segport.profiles.errors import ProfileError

    known = store.columns()
    wanted = [store.id_column] + [c for c in dict.fromkeys(columns) if c != store.id_column]
    missing = [c for c in wanted if c not in known]
    if missing:
        import difflib

        close = {c: difflib.get_close_matches(c, list(known), n=1) for c in missing}
        hints = [f"{m[0]!r} for {c!r}" for c, m in close.items() if m]
        if len(missing) == 1 and hints:
            hints = [hints[0].split(" for ")[0]]
        hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
        raise ProfileError(
            f"unknown profile attribute(s) {', '.join(map(repr, missing))}{hint}; "
            f"the profile attributes are: {', '.join(known)}"
        )
    query = exp.select(*(store.select_expr(c) for c in wanted)).from_(store.table_expr())
    query = query.where(where)
    if limit is not None:
        query = query.order_by(exp.column(store.id_column, quoted=True)).limit(limit)
    return query


def stream_members(
    session: Session,
    store: ProfileStore,
    segment_names: Sequence[str],
    columns: Sequence[str],
    batch_size: int = 100_000,
    today: date | None = None,
) -> Iterator[pa.RecordBatch]:
    """The distinct profiles in any of ``segment_names``: id column first, then ``columns``."""
    where = members_predicate(session, store, segment_names, today)
    yield from store.stream(members_query(store, where, columns), batch_size)


def count_members(
    session: Session, store: ProfileStore, segment_names: Sequence[str], today: date | None = None
) -> int:
    """How many distinct profiles are in any of ``segment_names``."""
    from sqlglot import exp

    where = members_predicate(session, store, segment_names, today)
    query = exp.select(exp.Count(this=exp.Star())).from_(store.table_expr()).where(where)
    return int(store.scalar(query) or 0)

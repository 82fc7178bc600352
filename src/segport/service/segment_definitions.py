"""Segment services the faces call: create, update, list, show, preview, count, activate,
deactivate, rename and delete.

Each function checks the actor's permission first; changes are recorded in the audit log.
A rule is checked against the profile table before it is saved (unknown attributes, type
mismatches), and a combination is checked for unknown segments and cycles.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport.errors import Conflict, Invalid, SegportError
from segport.segments.combinations import (
    OPERATORS,
    Combination,
    parse_combination,
    references,
    renamed,
    to_text,
    to_tree,
)
from segport.segments.evaluation import combination_of, get_segment, predicate
from segport.segments.models import ACTIVE, COMBINATION, INACTIVE, RULE, Segment
from segport.segments.rules import Rule, RuleError
from segport.service import audit, usage
from segport.service.access import Action, Actor, authorize
from segport.service.views import Rows
from segport.service.workspace import Workspace

if TYPE_CHECKING:
    from segport.profiles.store import ProfileStore

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}")


class SegmentError(Invalid, ValueError):
    """A segment command cannot be done as asked; the message says why and what to do."""

    default_code = "segment_invalid"


class SegmentInUse(Conflict, SegmentError):
    """An export or a combination uses the segment: it cannot be deleted or renamed yet."""

    default_code = "segment_in_use"


@contextmanager
def blamed(field: str | None) -> Iterator[None]:
    """A refusal raised inside names ``field`` as the input at fault, unless it names one."""
    try:
        yield
    except SegportError as exc:
        if exc.field is None and field is not None:
            exc.field = field
        raise


@dataclass
class SegmentInfo:
    name: str
    kind: str  # rule | combination
    expression: str
    description: str | None
    state: str
    member_count: int | None
    evaluated_at: datetime | None
    created_by: str | None
    created_at: datetime | None
    updated_at: datetime | None
    definition: dict[str, Any] = field(default_factory=dict)
    uses: list[str] = field(default_factory=list)  # segments a combination is made of
    used_by: list[str] = field(default_factory=list)  # combinations that use this segment
    exports: list[str] = field(default_factory=list)


def _info(session: Session, seg: Segment, details: bool = False) -> SegmentInfo:
    definition = json.loads(seg.definition)
    info = SegmentInfo(
        name=seg.name,
        kind=seg.kind,
        expression=seg.expression,
        description=seg.description,
        state=seg.state,
        member_count=seg.member_count,
        evaluated_at=seg.evaluated_at,
        created_by=seg.created_by,
        created_at=seg.created_at,
        updated_at=seg.updated_at,
        definition=definition,
    )
    if seg.kind == COMBINATION:
        info.uses = references(combination_of(seg))
    if details:
        info.used_by = _used_by(session, seg.name)
        info.exports = usage.exports_using_segment(session, seg.name)
    return info


def _used_by(session: Session, name: str) -> list[str]:
    combos = session.scalars(select(Segment).where(Segment.kind == COMBINATION))
    return sorted(c.name for c in combos if name in references(combination_of(c)))


def check_name(name: str, field: str = "name") -> str:
    name = name.strip()
    if not name:
        raise SegmentError(
            "the segment name is empty; give it a name such as high_value",
            code="name_invalid",
            field=field,
        )
    if not NAME.fullmatch(name):
        raise SegmentError(
            f"segment name {name!r} is not allowed: use up to 100 letters, digits, _, - and ., "
            "starting with a letter, digit or _",
            code="name_invalid",
            field=field,
        )
    if name.lower() in OPERATORS:
        raise SegmentError(
            f"{name!r} is a word of combinations; pick another segment name",
            code="name_invalid",
            field=field,
        )
    return name


def _open_store(ws: Workspace) -> ProfileStore:
    from segport.profiles.store import open_profile_store

    return open_profile_store(ws.engine, ws.path)


@dataclass
class _Definition:
    kind: str
    definition: str
    expression: str
    parsed: Combination | Rule
    field: str | None = None  # the input it came from: where, combine or rule


def _define(
    where: str | None, rule_file: Path | None, combine: str | None, document: Any = None
) -> _Definition:
    from segport.segments.documents import from_document, load_document_file, to_document
    from segport.segments.expression import parse_expression, to_expression

    given = [x for x in (where, rule_file, combine, document) if x is not None]
    if len(given) != 1:
        raise SegmentError(
            "give exactly one of a rule, a rule document or a combination",
            code="rule_required",
            field="rule",
        )
    if combine is not None:
        with blamed("combine"):
            tree = parse_combination(combine)
        return _Definition(
            COMBINATION, json.dumps(to_tree(tree)), to_text(tree), tree, field="combine"
        )
    field = None
    if where is not None:
        with blamed(field := "where"):
            rule = parse_expression(where)
    elif rule_file is not None:
        rule = load_document_file(rule_file)
    else:
        with blamed(field := "rule"):
            rule = from_document(document)
    return _Definition(RULE, json.dumps(to_document(rule)), to_expression(rule), rule, field)


def _validate(session: Session, ws: Workspace, name: str, definition: _Definition) -> None:
    """Compile the new definition on the profile table, with every combination using it.

    Unknown attributes, type mismatches, unknown segments and cycles all stop here.
    """
    overrides = {name: definition.parsed}
    with blamed(definition.field), _open_store(ws) as store:
        predicate(session, store, name, overrides=overrides)
        for user in _used_by(session, name):
            predicate(session, store, user, overrides=overrides)


def create_segment(
    ws: Workspace,
    actor: Actor,
    name: str,
    *,
    where: str | None = None,
    rule_file: Path | None = None,
    combine: str | None = None,
    document: Any = None,
    description: str | None = None,
) -> SegmentInfo:
    who = authorize(ws, actor, Action.SEGMENTS_WRITE)
    name = check_name(name)
    definition = _define(where, rule_file, combine, document)
    with ws.session() as session:
        if session.scalars(select(Segment.id).where(Segment.name == name)).first() is not None:
            raise SegmentError(
                f"a segment named {name!r} already exists; pick another name, or update that "
                "segment",
                code="segment_exists",
                field="name",
            )
        _validate(session, ws, name, definition)
        seg = Segment(
            name=name,
            description=description,
            kind=definition.kind,
            definition=definition.definition,
            expression=definition.expression,
            state=ACTIVE,
            created_by=who.name,
        )
        session.add(seg)
        session.flush()
        details = {"kind": seg.kind, "expression": seg.expression}
        audit.record(session, who, "segments.create", name, details)
        return _info(session, seg)


def update_segment(
    ws: Workspace,
    actor: Actor,
    name: str,
    *,
    where: str | None = None,
    rule_file: Path | None = None,
    combine: str | None = None,
    document: Any = None,
    description: str | None = None,
) -> SegmentInfo:
    """Change a segment's rule or combination and/or its description."""
    who = authorize(ws, actor, Action.SEGMENTS_WRITE)
    with ws.session() as session:
        seg = get_segment(session, name)
        changes: dict[str, Any] = {}
        if any(x is not None for x in (where, rule_file, combine, document)):
            definition = _define(where, rule_file, combine, document)
            _validate(session, ws, name, definition)
            seg.kind, seg.definition = definition.kind, definition.definition
            seg.expression = definition.expression
            seg.member_count, seg.evaluated_at = None, None
            changes["expression"] = seg.expression
        if description is not None:
            seg.description = description or None
            changes["description"] = description
        if not changes:
            raise SegmentError(
                "nothing to change: give a rule, a rule document, a combination or a description",
                code="nothing_to_change",
                field="rule",
            )
        audit.record(session, who, "segments.update", name, changes)
        return _info(session, seg)


def _evaluate(session: Session, store: ProfileStore, seg: Segment) -> int:
    from segport.segments.evaluation import count_members

    n = count_members(session, store, [seg.name])
    seg.member_count, seg.evaluated_at = n, datetime.now(UTC)
    return n


def list_segments(ws: Workspace, actor: Actor, refresh: bool = False) -> list[SegmentInfo]:
    """All segments by name; with ``refresh``, their member counts are evaluated now."""
    authorize(ws, actor, Action.SEGMENTS_READ)
    with ws.session() as session:
        segs = list(session.scalars(select(Segment).order_by(Segment.name)))
        if refresh and segs:
            with _open_store(ws) as store:
                for seg in segs:
                    _evaluate(session, store, seg)
        return [_info(session, s) for s in segs]


def show_segment(ws: Workspace, actor: Actor, name: str) -> SegmentInfo:
    authorize(ws, actor, Action.SEGMENTS_READ)
    with ws.session() as session:
        return _info(session, get_segment(session, name), details=True)


def count_segment(ws: Workspace, actor: Actor, name: str) -> int:
    """Evaluate the segment now; the count is kept as its last evaluation."""
    authorize(ws, actor, Action.SEGMENTS_READ)
    with ws.session() as session, _open_store(ws) as store:
        return _evaluate(session, store, get_segment(session, name))


def preview_segment(
    ws: Workspace,
    actor: Actor,
    name: str,
    limit: int = 10,
    columns: list[str] | None = None,
) -> Rows:
    """The first ``limit`` members by id, with ``columns`` (default: all)."""
    import pyarrow as pa

    from segport.segments.evaluation import members_query

    authorize(ws, actor, Action.SEGMENTS_READ)
    if not 1 <= limit <= 2**63 - 1:  # a 64-bit integer in SQL
        raise SegmentError(
            f"the limit must be 1 or more, and below 2**63 (got {limit})",
            code="limit_invalid",
            field="limit",
        )
    with ws.session() as session, _open_store(ws) as store:
        get_segment(session, name)
        where = predicate(session, store, name)
        cols = columns or list(store.columns())
        batches = list(store.stream(members_query(store, where, cols, limit=limit), limit))
        if not batches:
            wanted = [store.id_column, *[c for c in cols if c != store.id_column]]
            return Rows(columns=wanted, rows=[])
        table = pa.Table.from_batches(batches)
        return Rows(columns=table.column_names, rows=table.to_pylist())


def set_state(ws: Workspace, actor: Actor, name: str, active: bool) -> SegmentInfo:
    who = authorize(ws, actor, Action.SEGMENTS_WRITE)
    with ws.session() as session:
        seg = get_segment(session, name)
        seg.state = ACTIVE if active else INACTIVE
        action = "segments.activate" if active else "segments.deactivate"
        audit.record(session, who, action, name, {})
        return _info(session, seg)


def rename_segment(ws: Workspace, actor: Actor, name: str, new_name: str) -> SegmentInfo:
    """Rename a segment; combinations that use it follow the new name."""
    who = authorize(ws, actor, Action.SEGMENTS_WRITE)
    new_name = check_name(new_name, "new_name")
    with ws.session() as session:
        seg = get_segment(session, name)
        if new_name == name:
            return _info(session, seg)
        if session.scalars(select(Segment.id).where(Segment.name == new_name)).first():
            raise SegmentError(
                f"a segment named {new_name!r} already exists; pick another name",
                code="segment_exists",
                field="new_name",
            )
        exports = usage.exports_using_segment(session, name)
        if exports:
            raise SegmentInUse(
                f"segment {name!r} is used by export(s) {', '.join(exports)}; remove it from "
                "them before renaming it",
                details={"exports": exports},
            )
        for user in _used_by(session, name):
            combo = get_segment(session, user)
            tree = renamed(combination_of(combo), name, new_name)
            combo.definition, combo.expression = json.dumps(to_tree(tree)), to_text(tree)
        seg.name = new_name
        audit.record(session, who, "segments.rename", name, {"new_name": new_name})
        return _info(session, seg)


def delete_segment(ws: Workspace, actor: Actor, name: str) -> None:
    """Delete a segment no export and no combination uses."""
    who = authorize(ws, actor, Action.SEGMENTS_WRITE)
    with ws.session() as session:
        seg = get_segment(session, name)
        exports = usage.exports_using_segment(session, name)
        if exports:
            raise SegmentInUse(
                f"segment {name!r} is used by export(s) {', '.join(exports)}; remove it from "
                "those exports first",
                details={"exports": exports},
            )
        users = _used_by(session, name)
        if users:
            raise SegmentInUse(
                f"segment {name!r} is part of combination(s) {', '.join(users)}; change or "
                "delete those first",
                details={"combinations": users},
            )
        session.delete(seg)
        audit.record(session, who, "segments.delete", name, {"expression": seg.expression})


__all__ = [
    "RuleError",
    "SegmentError",
    "SegmentInUse",
    "SegmentInfo",
    "count_segment",
    "create_segment",
    "delete_segment",
    "list_segments",
    "preview_segment",
    "rename_segment",
    "set_state",
    "show_segment",
    "update_segment",
]

"""Segments not saved yet: what the rule builder needs (the attributes with their types and
operators, the other segments), a definition's members counted and previewed before it
is saved, and a draft saved or edited (the builder's form, :mod:`segment_forms`, turned
into a rule document first).

A draft passes the same checks as :func:`create_segment` (the name when one is given, the
rule or combination, compiled on the profile table with the combinations that use it),
so a count the builder shows is the count the saved segment will have. Refusals name the
input at fault: ``name``, ``where``, ``combine``, ``rule``, or one condition of the form
as ``g<group>.c<condition>.<attribute|operator|value>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from segport.errors import SegportError
from segport.segments.models import COMBINATION, Segment
from segport.segments.rules import RuleError
from segport.service.access import Action, Actor, authorize
from segport.service.segment_definitions import (
    SegmentError,
    SegmentInfo,
    _define,
    _info,
    _open_store,
    _validate,
    check_name,
    create_segment,
    rename_segment,
    update_segment,
)
from segport.service.segment_forms import (
    OPERATOR_LABELS,
    AttributeChoice,
    RuleForm,
    _operators,
    form_of,
    rule_document,
)
from segport.service.views import Rows
from segport.service.workspace import Workspace

if TYPE_CHECKING:
    from segport.profiles.store import ProfileStore

PREVIEW_LIMIT = 5


@dataclass(frozen=True)
class SegmentBuilder:
    """What the builder's form shows: the profile attributes, the segments a combination
    may use, and the segment being edited (None for a new one) with its rule as a form
    when the form can hold it (two levels of all/any, no ignore case, no not)."""

    attributes: list[AttributeChoice]
    operator_labels: dict[str, str]
    segments: list[str]
    segment: SegmentInfo | None = None
    form: RuleForm | None = None


@dataclass(frozen=True)
class SegmentDraft:
    """A definition counted and previewed, not saved."""

    kind: str  # rule | combination
    expression: str
    definition: dict[str, Any]
    member_count: int
    preview: Rows = field(default_factory=lambda: Rows(columns=[], rows=[]))


def segment_builder(ws: Workspace, actor: Actor, name: str | None = None) -> SegmentBuilder:
    """The builder's choices; with ``name``, the segment to edit (changing it needs the
    right to write segments: asked for here, so a viewer is refused the form)."""
    from segport.segments.documents import from_document

    authorize(ws, actor, Action.SEGMENTS_WRITE)
    with ws.session() as session, _open_store(ws) as store:
        columns = store.columns()
        others = list(session.scalars(select(Segment.name).order_by(Segment.name)))
        info = form = None
        if name is not None:
            from segport.segments.evaluation import get_segment

            seg = get_segment(session, name)
            info = _info(session, seg, details=True)
            others = [o for o in others if o != name]
            if seg.kind != COMBINATION:
                try:
                    form = form_of(from_document(json.loads(seg.definition)))
                except RuleError:
                    form = None
    return SegmentBuilder(
        attributes=[AttributeChoice(n, t, _operators(t)) for n, t in columns.items()],
        operator_labels=OPERATOR_LABELS,
        segments=others,
        segment=info,
        form=form,
    )


def _document(
    ws: Workspace, store: ProfileStore | None, form: RuleForm | None, document: Any
) -> Any:
    if form is None:
        return document
    if store is not None:
        return rule_document(form, store.columns())
    with _open_store(ws) as opened:
        return rule_document(form, opened.columns())


def try_segment(
    ws: Workspace,
    actor: Actor,
    *,
    name: str | None = None,
    where: str | None = None,
    combine: str | None = None,
    document: Any = None,
    form: RuleForm | None = None,
    limit: int = PREVIEW_LIMIT,
) -> SegmentDraft:
    """Count and preview a definition without saving it: a rule (``where``, ``document``
    or the builder's ``form``) or a combination (``combine``). With ``name`` (the segment
    being made or edited), the checks are those of saving it under that name."""
    from sqlglot import exp

    from segport.segments.evaluation import members_query, predicate

    authorize(ws, actor, Action.SEGMENTS_READ)
    if not 1 <= limit <= 100:
        raise SegmentError(
            f"the preview shows 1 to 100 profiles (got {limit})",
            code="limit_invalid",
            field="limit",
        )
    label = check_name(name) if name else "(draft)"  # "(draft)" is no segment name
    with ws.session() as session, _open_store(ws) as store:
        definition = _define(where, None, combine, _document(ws, store, form, document))
        _validate(session, ws, label, definition)
        where_expr = predicate(session, store, label, overrides={label: definition.parsed})
        count = exp.select(exp.Count(this=exp.Star())).from_(store.table_expr())
        members = int(store.scalar(count.where(where_expr.copy())) or 0)
        cols = list(store.columns())
        import pyarrow as pa

        batches = list(store.stream(members_query(store, where_expr, cols, limit=limit), limit))
        if batches:
            table = pa.Table.from_batches(batches)
            preview = Rows(columns=table.column_names, rows=table.to_pylist())
        else:
            preview = Rows(columns=[store.id_column, *(c for c in cols if c != store.id_column)],
                           rows=[])  # fmt: skip
    return SegmentDraft(
        kind=definition.kind,
        expression=definition.expression,
        definition=json.loads(definition.definition),
        member_count=members,
        preview=preview,
    )


def save_segment(
    ws: Workspace,
    actor: Actor,
    name: str,
    *,
    original: str | None = None,
    where: str | None = None,
    combine: str | None = None,
    document: Any = None,
    form: RuleForm | None = None,
    description: str | None = None,
) -> SegmentInfo:
    """Create segment ``name`` (``original`` None), or change segment ``original``: its
    definition, its description (empty: none) and its name when ``name`` differs."""
    authorize(ws, actor, Action.SEGMENTS_WRITE)
    document = _document(ws, None, form, document)
    if original is None:
        return create_segment(
            ws,
            actor,
            name,
            where=where,
            combine=combine,
            document=document,
            description=description,
        )
    try:
        return edit_segment(
            ws,
            actor,
            original,
            new_name=name if name.strip() != original else None,
            where=where,
            combine=combine,
            document=document,
            description=description if description is not None else "",
        )
    except SegportError as exc:
        if exc.field == "new_name":  # the form has one name field
            exc.field = "name"
        raise


def edit_segment(
    ws: Workspace,
    actor: Actor,
    name: str,
    *,
    new_name: str | None = None,
    where: str | None = None,
    combine: str | None = None,
    document: Any = None,
    description: str | None = None,
) -> SegmentInfo:
    """Change a segment's definition and/or description, and/or rename it (the API's
    update: what is not given stays as it is). A new definition is checked before the
    rename, so a refusal of either changes nothing."""
    from segport.segments.evaluation import get_segment

    authorize(ws, actor, Action.SEGMENTS_WRITE)
    definition_given = any(x is not None for x in (where, combine, document))
    if not definition_given and description is None and new_name is None:
        raise SegmentError(
            "nothing to change: give a rule, a combination, a description or a new name",
            code="nothing_to_change",
            field="rule",
        )
    if new_name is not None and definition_given:
        with ws.session() as session:
            get_segment(session, name)
            _validate(session, ws, name, _define(where, None, combine, document))
    info = None
    if new_name is not None:
        info = rename_segment(ws, actor, name, new_name)
        name = info.name
    if definition_given or description is not None:
        info = update_segment(
            ws,
            actor,
            name,
            where=where,
            combine=combine,
            document=document,
            description=description,
        )
    assert info is not None
    return info


__all__ = [
    "SegmentBuilder",
    "SegmentDraft",
    "edit_segment",
    "save_segment",
    "segment_builder",
    "try_segment",
]

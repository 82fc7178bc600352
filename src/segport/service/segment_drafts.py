"""Segments not saved yet: what the rule builder needs (the attributes with their types and
operators, the other segments), a definition's members counted and previewed before it
is saved, and the builder's form (conditions as typed, in all/any groups) turned into a
rule document with each condition's values of its attribute's type.

A draft passes the same checks as :func:`create_segment` (the name when one is given, the
rule or combination, compiled on the profile table with the combinations that use it),
so a count the builder shows is the count the saved segment will have. Refusals name the
input at fault: ``name``, ``where``, ``combine``, ``rule``, or one condition of the form
as ``g<group>.c<condition>.<attribute|operator|value>``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from segport.errors import SegportError
from segport.segments.documents import to_document
from segport.segments.models import COMBINATION, Segment
from segport.segments.rules import ARITY, UNITS, Op, RuleError
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
from segport.service.views import Rows
from segport.service.workspace import Workspace

if TYPE_CHECKING:
    from segport.profiles.store import ProfileStore

MATCHES = ("all", "any")
PREVIEW_LIMIT = 5
MULTIPLE = {Op.ANY_OF, Op.NONE_OF, Op.BETWEEN}  # values separated by commas in the form
_WITHIN = re.compile(r"\s*(\d+)\s*([A-Za-z]*)\s*")
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}

# What each operator reads like on a page, in the builder's order.
OPERATOR_LABELS: dict[str, str] = {
    "equals": "is",
    "not_equals": "is not",
    "less_than": "is less than",
    "less_or_equal": "is at most",
    "greater_than": "is greater than",
    "greater_or_equal": "is at least",
    "between": "is between",
    "contains": "contains",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "any_of": "is any of",
    "none_of": "is none of",
    "before": "is before",
    "after": "is after",
    "within_last": "is within the last",
    "in_month": "is in the month",
    "is_true": "is true",
    "is_false": "is false",
    "has_value": "has a value",
    "is_empty": "is empty",
    "is_null": "is unknown (null)",
    "is_not_null": "is known (not null)",
}


@dataclass(frozen=True)
class AttributeChoice:
    name: str
    type: str  # text, number, date, timestamp, boolean or other
    operators: list[str]


@dataclass(frozen=True)
class FormCondition:
    """One condition as typed in the builder: the value is text (several separated by
    commas for between, any of and none of)."""

    attribute: str = ""
    operator: str = "equals"
    value: str = ""


@dataclass(frozen=True)
class FormGroup:
    match: str = "all"  # all | any of its conditions
    conditions: tuple[FormCondition, ...] = (FormCondition(),)


@dataclass(frozen=True)
class RuleForm:
    match: str = "all"  # all | any of the groups
    groups: tuple[FormGroup, ...] = (FormGroup(),)


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


def _operators(kind: str) -> list[str]:
    from segport.segments.compiler import NULL_OPS, OPS_BY_TYPE

    allowed = OPS_BY_TYPE.get(kind, set()) | NULL_OPS
    return [op for op in OPERATOR_LABELS if Op(op) in allowed]


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


def form_of(rule: Any) -> RuleForm | None:
    """The builder's form of a rule, or None when the form cannot hold it."""
    doc = to_document(rule)

    def condition(item: dict[str, Any]) -> FormCondition | None:
        if "attribute" not in item or item.get("ignore_case"):
            return None
        values = item.get("values", [item["value"]] if "value" in item else [])
        texts = []
        for v in values:
            if isinstance(v, dict):
                texts.append(str(v["date"]))
            elif isinstance(v, bool):
                texts.append("true" if v else "false")
            else:
                texts.append(str(v))
        text = ", ".join(texts)
        if item["operator"] == Op.WITHIN_LAST.value:
            text = f"{text} {item.get('unit', 'days')}"
        return FormCondition(item["attribute"], item["operator"], text)

    def group(item: dict[str, Any]) -> FormGroup | None:
        if "attribute" in item:
            one = condition(item)
            return FormGroup("all", (one,)) if one else None
        key = next((k for k in MATCHES if k in item), None)
        if key is None:
            return None
        conds = [condition(i) for i in item[key]]
        if any(c is None for c in conds):
            return None
        return FormGroup(key, tuple(c for c in conds if c is not None))

    if "attribute" in doc:
        one = group(doc)
        return RuleForm("all", (one,)) if one else None
    key = next((k for k in MATCHES if k in doc), None)
    if key is None:
        return None
    items = doc[key]
    if all("attribute" in i for i in items):
        whole = group(doc)
        return RuleForm("all", (whole,)) if whole else None
    groups = [group(i) for i in items]
    if any(g is None for g in groups):
        return None
    return RuleForm(key, tuple(g for g in groups if g is not None))


def _typed(text: str, kind: str, where: str) -> Any:
    text = text.strip()
    if kind == "number":
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            raise RuleError(f"{text!r} is not a number", field=where) from None
    if kind == "boolean":
        if text.lower() not in _BOOLEANS:
            raise RuleError(f"{text!r} is not true or false", field=where)
        return _BOOLEANS[text.lower()]
    if kind in ("date", "timestamp"):
        return {"date": text}
    return text


def _condition_document(
    cond: FormCondition, columns: dict[str, str], at: str
) -> dict[str, Any] | None:
    """One form condition as a document condition, checked on its own against the
    profile table so that a refusal names its attribute, operator or value."""
    from segport.segments.compiler import NULL_OPS, OPS_BY_TYPE, compile_rule, resolve_attribute
    from segport.segments.documents import from_document

    if not cond.attribute.strip():
        return None  # a row left empty
    try:
        name = resolve_attribute(cond.attribute.strip(), columns)
    except RuleError as exc:
        raise RuleError(exc.message, field=f"{at}.attribute") from None
    kind = columns[name]
    try:
        op = Op(cond.operator)
    except ValueError:
        raise RuleError(
            f"operator {cond.operator!r} is not known", field=f"{at}.operator"
        ) from None
    if op not in OPS_BY_TYPE.get(kind, set()) | NULL_OPS:
        raise RuleError(
            f"{name} is {kind}: {OPERATOR_LABELS[op.value]!r} does not apply to it",
            field=f"{at}.operator",
        )
    doc: dict[str, Any] = {"attribute": name, "operator": op.value}
    value = f"{at}.value"
    if ARITY.get(op, 1) == 0:
        pass
    elif op == Op.WITHIN_LAST:
        found = _WITHIN.fullmatch(cond.value)
        unit = (found.group(2).lower() if found else "") or "days"
        unit = unit if unit.endswith("s") else unit + "s"
        if found is None or unit not in UNITS:
            raise RuleError(
                f"{name}: give a whole number and a unit, such as 30 days ({', '.join(UNITS)})",
                field=value,
            )
        doc["value"], doc["unit"] = int(found.group(1)), unit
    elif op == Op.IN_MONTH:
        doc["value"] = cond.value.strip()
    elif op in MULTIPLE:
        parts = [p for p in (p.strip() for p in cond.value.split(",")) if p]
        doc["values"] = [_typed(p, kind, value) for p in parts]
    else:
        if not cond.value.strip() and kind != "text":
            raise RuleError(f"{name}: give a value", field=value)
        doc["value"] = _typed(cond.value, kind, value)
    try:
        compile_rule(from_document(doc, where=name), columns)
    except RuleError as exc:
        raise RuleError(exc.message, field=value) from None
    return doc


def rule_document(form: RuleForm, columns: dict[str, str]) -> dict[str, Any]:
    """The rule document of the builder's form; refusals name the condition at fault."""
    groups = []
    for g, group in enumerate(form.groups):
        conds = []
        for c, cond in enumerate(group.conditions):
            doc = _condition_document(cond, columns, f"g{g}.c{c}")
            if doc is not None:
                conds.append(doc)
        if conds:
            key = group.match if group.match in MATCHES else "all"
            groups.append(conds[0] if len(conds) == 1 else {key: conds})
    if not groups:
        raise SegmentError(
            "the rule has no condition: pick an attribute, an operator and a value",
            code="rule_required",
            field="g0.c0.attribute",
        )
    key = form.match if form.match in MATCHES else "all"
    return groups[0] if len(groups) == 1 else {key: groups}


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
    "AttributeChoice",
    "FormCondition",
    "FormGroup",
    "RuleForm",
    "SegmentBuilder",
    "SegmentDraft",
    "edit_segment",
    "save_segment",
    "segment_builder",
    "try_segment",
]

"""The rule builder's form: conditions as typed (text), in all/any groups, the operators
each attribute type offers with what they read like on a page, and the form turned into a
rule document with each condition's values of its attribute's type (and back, for a
saved rule the form can hold).

Refusals name the condition at fault as ``g<group>.c<condition>.<attribute|operator|value>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from segport.segments.documents import to_document
from segport.segments.rules import ARITY, UNITS, Op, RuleError
from segport.service.segment_definitions import SegmentError

MATCHES = ("all", "any")
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


def _operators(kind: str) -> list[str]:
    from segport.segments.compiler import NULL_OPS, OPS_BY_TYPE

    allowed = OPS_BY_TYPE.get(kind, set()) | NULL_OPS
    return [op for op in OPERATOR_LABELS if Op(op) in allowed]


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


__all__ = [
    "MATCHES",
    "MULTIPLE",
    "OPERATOR_LABELS",
    "AttributeChoice",
    "FormCondition",
    "FormGroup",
    "RuleForm",
    "form_of",
    "rule_document",
]

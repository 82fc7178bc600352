"""Structured rule documents (YAML or JSON): groups of conditions joined by ``all``/``any``,
nestable, with ``not``. The form a page builds; it becomes the same rule AST as the
expression language, and is also how rules are stored.

    all:
      - {attribute: country, operator: equals, value: GB}
      - {attribute: lifetime_value, operator: greater_than, value: 100}
      - any:
          - {attribute: email, operator: ends_with, value: "@example.com", ignore_case: true}
          - {attribute: last_purchase, operator: within_last, value: 30, unit: days}
      - not: {attribute: churned, operator: is_true}
      - {attribute: signup, operator: after, value: {date: "today() - interval 1 year"}}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from segport.segments.expression import _Parser
from segport.segments.rules import (
    ARITY,
    All,
    AnyOf,
    Condition,
    DateValue,
    Not,
    Op,
    Rule,
    RuleError,
    Value,
    check_shape,
    number_problem,
)

_CONDITION_KEYS = {"attribute", "operator", "value", "values", "ignore_case", "unit"}


def load_document_file(path: Path) -> Rule:
    """Read a ``.yaml``/``.yml``/``.json`` rule document into the rule AST."""
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise RuleError(f"{path}: a rule document must end in .yaml, .yml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read it ({exc})") from exc
    try:
        if suffix == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except ValueError as exc:  # yaml.YAMLError is not a ValueError; handled below
        raise RuleError(f"{path}: not valid JSON ({exc})") from exc
    except Exception as exc:
        raise RuleError(f"{path}: not valid YAML ({exc})") from exc
    return from_document(data, where=path.name)


def from_document(data: Any, where: str = "rule") -> Rule:
    """The rule AST of a parsed document; errors name the path inside the document."""
    if not isinstance(data, dict):
        raise RuleError(f"{where}: expected a mapping with all, any, not or attribute")
    groups = [k for k in ("all", "any", "not") if k in data]
    if groups:
        if len(data) != 1:
            extra = ", ".join(sorted(str(k) for k in data if k != groups[0]))
            raise RuleError(f"{where}: '{groups[0]}' must stand alone, found also: {extra}")
        key = groups[0]
        if key == "not":
            return Not(from_document(data["not"], f"{where}.not"))
        items = data[key]
        if not isinstance(items, list) or not items:
            raise RuleError(f"{where}.{key}: expected a non-empty list of conditions or groups")
        rules = tuple(from_document(item, f"{where}.{key}[{i}]") for i, item in enumerate(items))
        return All(rules) if key == "all" else AnyOf(rules)
    return _condition(data, where)


def _condition(data: dict[str, Any], where: str) -> Condition:
    unknown = set(data) - _CONDITION_KEYS
    if unknown:
        raise RuleError(
            f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; a condition has "
            "attribute, operator, value or values, and optionally ignore_case and unit; "
            "a group is all, any or not"
        )
    attr = data.get("attribute")
    if not isinstance(attr, str) or not attr.strip():
        raise RuleError(f"{where}: 'attribute' must name a profile attribute")
    try:
        op = Op(str(data.get("operator")))
    except ValueError:
        import difflib

        names = [o.value for o in Op]
        close = difflib.get_close_matches(str(data.get("operator")), names, n=1)
        if close:
            raise RuleError(
                f"{where}: operator {data.get('operator')!r} is not known; did you mean "
                f"{close[0]!r}?"
            ) from None
        raise RuleError(
            f"{where}: operator {data.get('operator')!r} is not one of " + ", ".join(names)
        ) from None
    if "value" in data and "values" in data:
        raise RuleError(f"{where}: give either 'value' or 'values', not both")
    raw = data["values"] if "values" in data else ([data["value"]] if "value" in data else [])
    if not isinstance(raw, list):
        raise RuleError(f"{where}: 'values' must be a list")
    if ARITY.get(op, 1) == 0 and raw:
        raise RuleError(f"{where}: {op} takes no value")
    values = tuple(_value(v, f"{where}.value") for v in raw)
    ignore_case = data.get("ignore_case", False)
    if not isinstance(ignore_case, bool):
        raise RuleError(f"{where}: ignore_case must be true or false")
    unit = str(data.get("unit", "days"))
    cond = Condition(attr, op, values, ignore_case, unit)
    try:
        check_shape(cond)
    except RuleError as exc:
        raise RuleError(f"{where}: {exc}") from None
    return cond


def _value(raw: Any, where: str) -> Value:
    if isinstance(raw, dict):
        if set(raw) != {"date"} or not isinstance(raw["date"], str):
            raise RuleError(
                f'{where}: an object value must be {{date: "today() - interval 7 days"}}'
            )
        parser = _Parser(raw["date"])
        if parser.tok.word not in ("today", "date"):
            text = raw["date"].strip()
            parser = _Parser(f"date '{text}'")
        try:
            value = parser.date_value()
            if parser.tok.kind != "end":
                raise parser.fail("the end of the date")
        except RuleError as exc:
            raise RuleError(f"{where}: {exc}") from None
        return value
    if isinstance(raw, str | bool | int | float):
        # JSON's NaN/Infinity/1e999 and YAML's .inf/.nan parse as floats SQL cannot hold.
        problem = number_problem(raw)
        if problem is not None:
            raise RuleError(f"{where}: {problem}")
        return raw
    # YAML turns unquoted 2024-01-31 into a date: accept it as a fixed date.
    from datetime import date, datetime

    if isinstance(raw, date) and not isinstance(raw, datetime):
        return DateValue(raw)
    raise RuleError(f"{where}: {raw!r} is not a text, number, boolean or date value")


def to_document(rule: Rule) -> dict[str, Any]:
    """The JSON-ready document of a rule (``from_document`` gives the rule back)."""
    if isinstance(rule, Not):
        return {"not": to_document(rule.item)}
    if isinstance(rule, All):
        return {"all": [to_document(i) for i in rule.items]}
    if isinstance(rule, AnyOf):
        return {"any": [to_document(i) for i in rule.items]}
    doc: dict[str, Any] = {"attribute": rule.attribute, "operator": rule.op.value}
    values = [{"date": v.to_text()} if isinstance(v, DateValue) else v for v in rule.values]
    if len(values) == 1 and ARITY.get(rule.op, 1) == 1:
        doc["value"] = values[0]
    elif values:
        doc["values"] = values
    if rule.ignore_case:
        doc["ignore_case"] = True
    if rule.op == Op.WITHIN_LAST:
        doc["unit"] = rule.unit
    return doc

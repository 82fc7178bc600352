"""Rule AST -> sqlglot predicate over the profile table, checked against its columns.

Only the operators below exist, attribute names must be columns of the table, and every
user value becomes a literal node of the tree, so no rule can inject SQL. Date and
timestamp comparisons are made on whole days with half-open ranges, and relative dates
are resolved here in Python, so DuckDB and PostgreSQL give the same members.
"""

from __future__ import annotations

import calendar
import difflib
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlglot import exp

from segport.segments.rules import (
    All,
    AnyOf,
    Condition,
    DateValue,
    Not,
    Op,
    Rule,
    RuleError,
    Value,
    number_problem,
    parse_month,
)

TEXT_OPS = {
    Op.EQUALS,
    Op.NOT_EQUALS,
    Op.CONTAINS,
    Op.STARTS_WITH,
    Op.ENDS_WITH,
    Op.ANY_OF,
    Op.NONE_OF,
}
NUMBER_OPS = {
    Op.EQUALS,
    Op.NOT_EQUALS,
    Op.LESS_THAN,
    Op.LESS_OR_EQUAL,
    Op.GREATER_THAN,
    Op.GREATER_OR_EQUAL,
    Op.BETWEEN,
    Op.ANY_OF,
    Op.NONE_OF,
}
DATE_OPS = {
    Op.EQUALS,
    Op.NOT_EQUALS,
    Op.LESS_THAN,
    Op.LESS_OR_EQUAL,
    Op.GREATER_THAN,
    Op.GREATER_OR_EQUAL,
    Op.BETWEEN,
    Op.BEFORE,
    Op.AFTER,
    Op.WITHIN_LAST,
    Op.IN_MONTH,
}
BOOLEAN_OPS = {Op.EQUALS, Op.NOT_EQUALS, Op.IS_TRUE, Op.IS_FALSE}
NULL_OPS = {Op.IS_NULL, Op.IS_NOT_NULL, Op.IS_EMPTY, Op.HAS_VALUE}
OPS_BY_TYPE = {
    "text": TEXT_OPS,
    "number": NUMBER_OPS,
    "date": DATE_OPS,
    "timestamp": DATE_OPS,
    "boolean": BOOLEAN_OPS,
    "other": set(),
}


def column(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def resolve_attribute(name: str, columns: Mapping[str, str]) -> str:
    """The column ``name`` refers to (exact, else case-insensitive); else a clear error."""
    if name in columns:
        return name
    folded = [c for c in columns if c.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0]
    close = difflib.get_close_matches(name, list(columns), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise RuleError(
        f"unknown attribute {name!r}{hint}; the profile attributes are: {', '.join(columns)}"
    )


def value_type(value: Value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, DateValue):
        return "date"
    return "text"


def _describe(value: Value) -> str:
    return value.to_text() if isinstance(value, DateValue) else repr(value)


class _Compiler:
    def __init__(self, columns: Mapping[str, str], today: date) -> None:
        self.columns = columns
        self.today = today

    def rule(self, rule: Rule) -> exp.Expr:
        if isinstance(rule, All):
            return exp.and_(*(self.rule(i) for i in rule.items))
        if isinstance(rule, AnyOf):
            return exp.or_(*(self.rule(i) for i in rule.items))
        if isinstance(rule, Not):
            # "not X" keeps the profiles X does not match, including those where X is unknown.
            return exp.not_(exp.Coalesce(this=self.rule(rule.item), expressions=[exp.false()]))
        return self.condition(rule)

    def condition(self, cond: Condition) -> exp.Expr:
        name = resolve_attribute(cond.attribute, self.columns)
        kind = self.columns[name]
        col = column(name)
        if cond.op in NULL_OPS:
            return self.nullness(col, kind, cond.op)
        allowed = OPS_BY_TYPE.get(kind, set())
        if cond.op not in allowed:
            ops = ", ".join(sorted(o.value for o in allowed | NULL_OPS))
            raise RuleError(
                f"{name} is {kind}: {cond.op.value} does not apply to {kind} attributes "
                f"(use one of: {ops})"
            )
        if kind == "text":
            return self.text(col, name, cond)
        if kind == "number":
            return self.number(col, name, cond)
        if kind == "boolean":
            return self.boolean(col, name, cond)
        return self.dates(col, name, kind, cond)

    def mismatch(self, name: str, kind: str, value: Value) -> RuleError:
        return RuleError(
            f"type mismatch: {name} is {kind}, but {_describe(value)} is {value_type(value)}"
        )

    def nullness(self, col: exp.Column, kind: str, op: Op) -> exp.Expr:
        is_null = exp.Is(this=col.copy(), expression=exp.null())
        if kind == "text" and op in (Op.IS_EMPTY, Op.HAS_VALUE):
            blank = exp.EQ(this=exp.Trim(this=col.copy()), expression=exp.Literal.string(""))
            empty = exp.or_(is_null, blank)
            return empty if op == Op.IS_EMPTY else exp.and_(exp.not_(is_null), exp.not_(blank))
        return is_null if op in (Op.IS_NULL, Op.IS_EMPTY) else exp.not_(is_null)

    def text(self, col: exp.Column, name: str, cond: Condition) -> exp.Expr:
        lits: list[exp.Expr] = []
        for value in cond.values:
            if not isinstance(value, str):
                raise self.mismatch(name, "text", value)
            lits.append(exp.Literal.string(value))
        subject: exp.Expr = col
        if cond.ignore_case:
            subject = exp.Lower(this=col)
            lits = [exp.Lower(this=lit) for lit in lits]
        op = cond.op
        if op in (Op.ANY_OF, Op.NONE_OF):
            found = exp.In(this=subject, expressions=lits)
            return found if op == Op.ANY_OF else exp.not_(found)
        lit = lits[0]
        if op == Op.EQUALS:
            return exp.EQ(this=subject, expression=lit)
        if op == Op.NOT_EQUALS:
            return exp.NEQ(this=subject, expression=lit)
        if op == Op.CONTAINS:
            pos = exp.StrPosition(this=subject, substr=lit)
            return exp.GT(this=pos, expression=exp.Literal.number(0))
        part = exp.Left if op == Op.STARTS_WITH else exp.Right
        cut = part(this=subject, expression=exp.Length(this=lit.copy()))
        return exp.EQ(this=cut, expression=lit)

    def number(self, col: exp.Column, name: str, cond: Condition) -> exp.Expr:
        lits: list[exp.Expr] = []
        for value in cond.values:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.mismatch(name, "number", value)
            problem = number_problem(value)
            if problem is not None:  # a rule built in code; parsers refuse these earlier
                raise RuleError(f"{name}: {problem}")
            lits.append(exp.Literal.number(repr(value)))
        return self.ordered(col, cond.op, lits)

    def ordered(self, col: exp.Column, op: Op, lits: list[exp.Expr]) -> exp.Expr:
        if op == Op.BETWEEN:
            return exp.Between(this=col, low=lits[0], high=lits[1])
        if op in (Op.ANY_OF, Op.NONE_OF):
            found = exp.In(this=col, expressions=lits)
            return found if op == Op.ANY_OF else exp.not_(found)
        node = {
            Op.EQUALS: exp.EQ,
            Op.NOT_EQUALS: exp.NEQ,
            Op.LESS_THAN: exp.LT,
            Op.LESS_OR_EQUAL: exp.LTE,
            Op.GREATER_THAN: exp.GT,
            Op.GREATER_OR_EQUAL: exp.GTE,
        }[op]
        return node(this=col, expression=lits[0])

    def boolean(self, col: exp.Column, name: str, cond: Condition) -> exp.Expr:
        if cond.op in (Op.IS_TRUE, Op.IS_FALSE):
            return exp.EQ(this=col, expression=exp.Boolean(this=cond.op == Op.IS_TRUE))
        (value,) = cond.values
        if not isinstance(value, bool):
            raise self.mismatch(name, "boolean", value)
        node = exp.EQ if cond.op == Op.EQUALS else exp.NEQ
        return node(this=col, expression=exp.Boolean(this=value))

    def day(self, name: str, kind: str, value: Value) -> date:
        if isinstance(value, DateValue):
            return value.resolve(self.today)
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                if any(ch.isdigit() for ch in value):  # meant as a date, but not one
                    raise RuleError(
                        f"{value!r} is not a valid date for {name}: write dates as "
                        "'YYYY-MM-DD', e.g. '2026-01-31'"
                    ) from None
        raise self.mismatch(name, kind, value)

    def dates(self, col: exp.Column, name: str, kind: str, cond: Condition) -> exp.Expr:
        op = cond.op
        if op == Op.WITHIN_LAST:
            (amount,) = cond.values
            assert isinstance(amount, int)
            start = DateValue(None, ((-amount, cond.unit),)).resolve(self.today)
            return self.range(col, start, self.today + timedelta(days=1))
        if op == Op.IN_MONTH:
            (text,) = cond.values
            assert isinstance(text, str)
            ym = parse_month(text)
            assert ym is not None
            first = date(ym[0], ym[1], 1)
            last = date(ym[0], ym[1], calendar.monthrange(*ym)[1])
            return self.range(col, first, next_day(last))
        days = [self.day(name, kind, v) for v in cond.values]
        first = days[0]
        after = next_day(first)
        if op == Op.BETWEEN:
            low, high = sorted(days)
            return self.range(col, low, next_day(high))
        if op == Op.EQUALS:
            return self.range(col, first, after)
        if op == Op.NOT_EQUALS:
            return exp.or_(self.cmp(exp.LT, col, first), self.cmp(exp.GTE, col, after))
        if op in (Op.LESS_THAN, Op.BEFORE):
            return self.cmp(exp.LT, col, first)
        if op == Op.LESS_OR_EQUAL:
            return self.cmp(exp.LT, col, after)
        if op in (Op.GREATER_THAN, Op.AFTER):
            return self.cmp(exp.GTE, col, after)
        return self.cmp(exp.GTE, col, first)  # GREATER_OR_EQUAL

    def cmp(self, node: type[exp.Binary], col: exp.Column, day: date) -> exp.Expr:
        return node(this=col.copy(), expression=date_literal(day))

    def range(self, col: exp.Column, start: date, end: date) -> exp.Expr:
        return exp.and_(self.cmp(exp.GTE, col, start), self.cmp(exp.LT, col, end))


def next_day(day: date) -> date:
    """The day after ``day``: the end of a half-open range (none after 9999-12-31)."""
    if day == date.max:
        raise RuleError(
            f"{day} is the last day of the calendar; a rule can use dates up to 9999-12-30"
        )
    return day + timedelta(days=1)


def date_literal(day: date) -> exp.Expr:
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.Type.DATE)


def compile_rule(rule: Rule, columns: Mapping[str, str], today: date | None = None) -> exp.Expr:
    """The predicate of ``rule`` over a table with ``columns`` (name -> logical type)."""
    from datetime import UTC

    return _Compiler(columns, today or datetime.now(UTC).date()).rule(rule)

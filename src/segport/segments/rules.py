"""The rule model: a small AST of our own that both the expression language and the
structured documents become, and the only thing the compiler accepts.

Values are plain Python values or :class:`DateValue`; nothing here holds SQL text.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from segport.errors import Invalid


class RuleError(Invalid, ValueError):
    """A rule cannot be parsed or does not fit the profile table; the message says why."""

    default_code = "rule_invalid"


class Op(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    LESS_THAN = "less_than"
    LESS_OR_EQUAL = "less_or_equal"
    GREATER_THAN = "greater_than"
    GREATER_OR_EQUAL = "greater_or_equal"
    BETWEEN = "between"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    ANY_OF = "any_of"
    NONE_OF = "none_of"
    IS_EMPTY = "is_empty"
    HAS_VALUE = "has_value"
    IS_NULL = "is_null"
    IS_NOT_NULL = "is_not_null"
    IS_TRUE = "is_true"
    IS_FALSE = "is_false"
    BEFORE = "before"
    AFTER = "after"
    WITHIN_LAST = "within_last"
    IN_MONTH = "in_month"


# How many values each operator takes (None: one or more).
ARITY: dict[Op, int | None] = {
    Op.BETWEEN: 2,
    Op.ANY_OF: None,
    Op.NONE_OF: None,
    Op.IS_EMPTY: 0,
    Op.HAS_VALUE: 0,
    Op.IS_NULL: 0,
    Op.IS_NOT_NULL: 0,
    Op.IS_TRUE: 0,
    Op.IS_FALSE: 0,
}

TEXT_ONLY = {Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH}
CASE_FOLDABLE = {
    Op.EQUALS,
    Op.NOT_EQUALS,
    Op.CONTAINS,
    Op.STARTS_WITH,
    Op.ENDS_WITH,
    Op.ANY_OF,
    Op.NONE_OF,
}
DATE_ONLY = {Op.BEFORE, Op.AFTER, Op.WITHIN_LAST, Op.IN_MONTH}
UNITS = ("days", "weeks", "months", "years")


def shift(day: date, amount: int, unit: str) -> date:
    """``day`` moved by ``amount`` units; months and years keep the day, clamped to the month."""
    from datetime import timedelta

    try:
        if unit == "days":
            return day + timedelta(days=amount)
        if unit == "weeks":
            return day + timedelta(weeks=amount)
    except OverflowError:
        raise RuleError(f"moving {day} by {amount} {unit} leaves the calendar") from None
    months = amount * (12 if unit == "years" else 1)
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise RuleError(f"moving {day} by {amount} {unit} leaves the calendar")
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class DateValue:
    """A date: fixed (``base`` set) or relative to today (``base`` None) plus offsets.

    Relative dates are resolved when the rule is compiled, in Python, so DuckDB and
    PostgreSQL see the same literal whatever their session time zones.
    """

    base: date | None
    offsets: tuple[tuple[int, str], ...] = ()

    def resolve(self, today: date) -> date:
        day = self.base if self.base is not None else today
        for amount, unit in self.offsets:
            day = shift(day, amount, unit)
        return day

    def to_text(self) -> str:
        text = f"date '{self.base.isoformat()}'" if self.base is not None else "today()"
        for amount, unit in self.offsets:
            sign = "+" if amount >= 0 else "-"
            text += f" {sign} interval {abs(amount)} {unit}"
        return text


Value = str | int | float | bool | DateValue


@dataclass(frozen=True)
class Condition:
    attribute: str
    op: Op
    values: tuple[Value, ...] = ()
    ignore_case: bool = False
    unit: str = "days"  # only for WITHIN_LAST


@dataclass(frozen=True)
class All:
    items: tuple[Rule, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Rule, ...]


@dataclass(frozen=True)
class Not:
    item: Rule


Rule = Condition | All | AnyOf | Not


def attributes(rule: Rule) -> set[str]:
    """Every attribute the rule reads."""
    if isinstance(rule, Condition):
        return {rule.attribute}
    if isinstance(rule, Not):
        return attributes(rule.item)
    out: set[str] = set()
    for item in rule.items:
        out |= attributes(item)
    return out


def number_problem(value: object) -> str | None:
    """Why ``value`` cannot stand in a rule as a number, or None when it can (or is no number).

    Infinity and NaN have no SQL literal (``repr`` gives ``inf``, which SQL reads as a
    column name), and an integer beyond the float range overflows the same way in DuckDB.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN (not a number) cannot be compared with; give a number such as 100"
        if math.isinf(value):
            return (
                f"{'-' if value < 0 else ''}infinity is not a number a rule can use: numbers "
                "must be finite, smaller in size than 1.8e308"
            )
        return None
    try:
        float(value)
    except OverflowError:
        return "the number is too large: numbers must be smaller in size than 1.8e308"
    return None


def check_shape(cond: Condition) -> None:
    """Refuse a condition whose operator got the wrong number or kind of values."""
    for value in cond.values:
        problem = number_problem(value)
        if problem is not None:
            raise RuleError(f"{cond.attribute}: {problem}")
    arity = ARITY.get(cond.op, 1)
    n = len(cond.values)
    if arity is None and n == 0:
        raise RuleError(f"{cond.attribute}: {cond.op} needs at least one value")
    if arity is not None and n != arity:
        raise RuleError(f"{cond.attribute}: {cond.op} takes {arity} value(s), got {n}")
    if cond.ignore_case and cond.op not in CASE_FOLDABLE:
        raise RuleError(f"{cond.attribute}: ignore case does not apply to {cond.op}")
    if cond.op == Op.WITHIN_LAST:
        (n_units,) = cond.values
        if isinstance(n_units, bool) or not isinstance(n_units, int) or n_units < 0:
            raise RuleError(f"{cond.attribute}: within last needs a whole number >= 0")
        if cond.unit not in UNITS:
            raise RuleError(
                f"{cond.attribute}: unit {cond.unit!r} is not one of {', '.join(UNITS)}"
            )
    if cond.op == Op.IN_MONTH:
        (month,) = cond.values
        if not isinstance(month, str) or parse_month(month) is None:
            raise RuleError(f"{cond.attribute}: in month needs 'YYYY-MM', got {month!r}")


def parse_month(text: str) -> tuple[int, int] | None:
    parts = text.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        return None
    year, month = int(parts[0]), int(parts[1])
    return (year, month) if 1 <= month <= 12 and year >= 1 else None

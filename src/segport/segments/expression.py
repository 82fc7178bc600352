"""The ``--where`` expression language: text in, :mod:`segport.segments.rules` AST out.

A hand-written tokenizer and recursive-descent parser: the grammar is small, the errors
must name the position and what was expected, and nothing of the text reaches SQL.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from segport.segments.rules import (
    UNITS,
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

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|<>|==|=|<|>|\(|\)|,|\+|-)
    """,
    re.VERBOSE,
)

_COMPARISONS = {
    "=": Op.EQUALS,
    "==": Op.EQUALS,
    "!=": Op.NOT_EQUALS,
    "<>": Op.NOT_EQUALS,
    "<": Op.LESS_THAN,
    "<=": Op.LESS_OR_EQUAL,
    ">": Op.GREATER_THAN,
    ">=": Op.GREATER_OR_EQUAL,
}
_UNITS_TEXT = "days, weeks, months or years"
_CHARACTER_HINTS = {
    "'": " (a text in single quotes is not closed)",
    '"': " (an attribute name in double quotes is not closed; text goes in single quotes)",
    "&": " (write 'and')",
    "|": " (write 'or')",
    "!": " (write 'not', or != for 'not equal')",
    ";": " (a rule is one expression; join conditions with 'and' or 'or')",
}
_UNIT_WORDS = {u: u for u in UNITS} | {u[:-1]: u for u in UNITS}


@dataclass(frozen=True)
class Token:
    kind: str  # string | quoted | number | name | op | end
    text: str
    pos: int

    @property
    def word(self) -> str:
        return self.text.lower() if self.kind == "name" else ""

    def describe(self) -> str:
        return "the end of the expression" if self.kind == "end" else repr(self.text)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            bad = text[pos]
            hint = _CHARACTER_HINTS.get(bad, "")
            raise RuleError(f"at position {pos + 1}: unexpected character {bad!r}{hint}")
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tok
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def fail(self, expected: str, hint: str = "") -> RuleError:
        tok = self.tok
        return RuleError(
            f"at position {tok.pos + 1}: expected {expected}, found {tok.describe()}{hint}"
        )

    def accept_word(self, *words: str) -> bool:
        if self.tok.word in words:
            self.advance()
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.accept_word(word):
            raise self.fail(f"'{word}'")

    def expect_op(self, op: str) -> None:
        if self.tok.kind != "op" or self.tok.text != op:
            raise self.fail(f"'{op}'")
        self.advance()

    # expr := and_expr ('or' and_expr)*
    def parse(self) -> Rule:
        if self.tok.kind == "end":
            raise RuleError("the expression is empty; write a condition such as country = 'GB'")
        rule = self.or_expr()
        if self.tok.kind != "end":
            raise self.fail("'and', 'or' or the end of the expression")
        return rule

    def or_expr(self) -> Rule:
        items = [self.and_expr()]
        while self.accept_word("or"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else AnyOf(tuple(items))

    def and_expr(self) -> Rule:
        items = [self.not_expr()]
        while self.accept_word("and"):
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else All(tuple(items))

    def not_expr(self) -> Rule:
        if self.accept_word("not"):
            return Not(self.not_expr())
        if self.tok.kind == "op" and self.tok.text == "(":
            self.advance()
            rule = self.or_expr()
            self.expect_op(")")
            return rule
        return self.condition()

    def attribute(self) -> str:
        tok = self.tok
        if tok.kind == "name":
            self.advance()
            return tok.text
        if tok.kind == "quoted":
            self.advance()
            return tok.text[1:-1].replace('""', '"')
        raise self.fail("an attribute name")

    def condition(self) -> Rule:
        attr = self.attribute()
        tok = self.tok
        if tok.kind == "end" or tok.word in ("and", "or") or tok.text == ")":
            return Condition(attr, Op.IS_TRUE)  # a bare boolean attribute
        if tok.kind == "op" and tok.text in _COMPARISONS:
            self.advance()
            return self.finish(Condition(attr, _COMPARISONS[tok.text], (self.value(),)))
        negate = self.accept_word("not")
        rule = self.word_condition(attr, negated=negate)
        return Not(rule) if negate and not isinstance(rule, Not) else rule

    def word_condition(self, attr: str, negated: bool) -> Rule:
        word = self.tok.word
        if word == "between":
            self.advance()
            low = self.value()
            self.expect_word("and")
            return self.finish(Condition(attr, Op.BETWEEN, (low, self.value())))
        if word == "contains":
            self.advance()
            return self.finish(Condition(attr, Op.CONTAINS, (self.value(),)))
        if word in ("starts", "ends"):
            self.advance()
            self.expect_word("with")
            op = Op.STARTS_WITH if word == "starts" else Op.ENDS_WITH
            return self.finish(Condition(attr, op, (self.value(),)))
        if word == "in" and self.peek().word == "month":
            self.advance()
            self.advance()
            return self.finish(Condition(attr, Op.IN_MONTH, (self.value(),)))
        if word in ("in", "any", "none"):
            self.advance()
            if word != "in":
                self.expect_word("of")
            op = Op.NONE_OF if word == "none" else Op.ANY_OF
            return self.finish(Condition(attr, op, self.value_list()))
        if word == "is" and not negated:
            self.advance()
            is_not = self.accept_word("not")
            what = self.tok.word
            ops = {"empty": Op.IS_EMPTY, "null": Op.IS_NULL, "true": Op.IS_TRUE}
            ops["false"] = Op.IS_FALSE
            if what not in ops:
                raise self.fail("'empty', 'null', 'true' or 'false' after 'is'")
            self.advance()
            op = ops[what]
            if is_not:
                special = {Op.IS_EMPTY: Op.HAS_VALUE, Op.IS_NULL: Op.IS_NOT_NULL}
                return Condition(attr, special[op]) if op in special else Not(Condition(attr, op))
            return Condition(attr, op)
        if word == "has" and not negated:
            self.advance()
            self.expect_word("value")
            return Condition(attr, Op.HAS_VALUE)
        if word in ("before", "after"):
            self.advance()
            op = Op.BEFORE if word == "before" else Op.AFTER
            return self.finish(Condition(attr, op, (self.value(),)))
        if word == "within":
            self.advance()
            self.accept_word("the")
            self.expect_word("last")
            amount = self.whole_number()
            unit = self.unit()
            return self.finish(Condition(attr, Op.WITHIN_LAST, (amount,), unit=unit))
        hint = (
            "; for patterns use contains, starts with or ends with (there are no wildcards)"
            if word in ("like", "ilike", "glob", "regexp", "matches")
            else ""
        )
        raise self.fail(
            "an operator (=, !=, <, <=, >, >=, between, contains, starts with, ends with, in, "
            "any of, none of, is empty, has value, is null, is true, before, after, within "
            "last, in month)",
            hint,
        )

    def finish(self, cond: Condition) -> Condition:
        """Read an optional trailing ``ignore case`` and check the condition's shape."""
        if self.tok.word == "ignore":
            self.advance()
            self.expect_word("case")
            cond = Condition(cond.attribute, cond.op, cond.values, True, cond.unit)
        check_shape(cond)
        return cond

    def value_list(self) -> tuple[Value, ...]:
        if self.tok.kind != "op" or self.tok.text != "(":
            raise self.fail("'('", "; a list of values goes in parentheses: in ('GB', 'IE')")
        self.expect_op("(")
        values = [self.value()]
        while self.tok.text == "," and self.tok.kind == "op":
            self.advance()
            values.append(self.value())
        self.expect_op(")")
        return tuple(values)

    def whole_number(self) -> int:
        tok = self.tok
        if tok.kind != "number" or not tok.text.isdigit():
            raise self.fail("a whole number")
        self.advance()
        return _count(tok.text, tok.pos)

    def unit(self) -> str:
        unit = _UNIT_WORDS.get(self.tok.word)
        if unit is None:
            raise self.fail("a unit (days, weeks, months or years)")
        self.advance()
        return unit

    def value(self) -> Value:
        tok = self.tok
        if tok.kind == "string":
            self.advance()
            return tok.text[1:-1].replace("''", "'")
        if tok.kind == "number" or (tok.text == "-" and self.peek().kind == "number"):
            sign = -1 if tok.text == "-" else 1
            if sign < 0:
                self.advance()
            return sign * _number(self.advance(), start=tok.pos, negative=sign < 0)
        if tok.word in ("true", "false"):
            self.advance()
            return tok.word == "true"
        if tok.word in ("today", "date"):
            return self.date_value()
        if tok.word == "null":
            raise self.fail("a value (to test for missing values write 'is null')")
        expected = "a value: a 'string', a number, true, false, today() or date 'YYYY-MM-DD'"
        hint = ""
        if tok.kind == "name":
            text = tok.text.replace("'", "''")
            hint = f"; text goes in single quotes: '{text}'"
        elif tok.kind == "quoted":
            text = tok.text[1:-1].replace('""', '"').replace("'", "''")
            hint = f"; double quotes are for attribute names, write text as '{text}'"
        raise self.fail(expected, hint)

    def date_value(self) -> DateValue:
        base: date | None = None
        if self.accept_word("today"):
            self.expect_op("(")
            self.expect_op(")")
        else:
            self.expect_word("date")
            tok = self.tok
            if tok.kind != "string":
                raise self.fail("a date in quotes after 'date', like date '2024-01-31'")
            self.advance()
            try:
                base = date.fromisoformat(tok.text[1:-1])
            except ValueError:
                raise RuleError(
                    f"at position {tok.pos + 1}: {tok.text} is not a date (use 'YYYY-MM-DD')"
                ) from None
        offsets: list[tuple[int, str]] = []
        while self.tok.kind == "op" and self.tok.text in "+-" and self.peek().word == "interval":
            sign = 1 if self.advance().text == "+" else -1
            self.advance()
            offsets.append(self.interval(sign))
        return DateValue(base, tuple(offsets))

    def interval(self, sign: int) -> tuple[int, str]:
        tok = self.tok
        if tok.kind == "string":  # interval '30 days'
            self.advance()
            parts = tok.text[1:-1].split()
            if len(parts) == 2 and parts[0].isdigit() and parts[1].lower() in _UNIT_WORDS:
                return sign * _count(parts[0], tok.pos), _UNIT_WORDS[parts[1].lower()]
            raise RuleError(
                f"at position {tok.pos + 1}: {tok.text} is not an interval like '30 days'"
            )
        return sign * self.whole_number(), self.unit()


def _number(tok: Token, start: int, negative: bool) -> int | float:
    """The value of a number token; one that overflows (``1e999``) is refused here, where
    its position is known, rather than reaching SQL as ``inf``."""
    shown = ("-" if negative else "") + tok.text
    where = f"at position {start + 1}: {_clip(shown)}"
    try:
        number: int | float = int(tok.text) if tok.text.isdigit() else float(tok.text)
    except ValueError:  # more digits than Python converts
        number = math.inf
    problem = number_problem(number)
    if problem is not None:
        raise RuleError(
            f"{where} is too large: numbers in rules must be smaller in size than 1.8e308"
        )
    return number


def _count(digits: str, pos: int) -> int:
    if len(digits.lstrip("0")) > 9:  # no calendar spans a billion days (nor does timedelta)
        raise RuleError(
            f"at position {pos + 1}: {_clip(digits)} is too large a count of {_UNITS_TEXT}"
        )
    return int(digits)


def _clip(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}...{text[-10:]} ({len(text)} characters)"


def parse_expression(text: str) -> Rule:
    """Parse a ``--where`` expression into the rule AST, or raise :class:`RuleError`."""
    return _Parser(text).parse()


def _quote_attr(name: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def _value_text(value: Value) -> str:
    if isinstance(value, DateValue):
        return value.to_text()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


_SYMBOL = {v: k for k, v in _COMPARISONS.items() if k not in ("==", "<>")}
_WORDS = {
    Op.CONTAINS: "contains",
    Op.STARTS_WITH: "starts with",
    Op.ENDS_WITH: "ends with",
    Op.BEFORE: "before",
    Op.AFTER: "after",
    Op.IN_MONTH: "in month",
}
_NULLARY = {
    Op.IS_EMPTY: "is empty",
    Op.HAS_VALUE: "has value",
    Op.IS_NULL: "is null",
    Op.IS_NOT_NULL: "is not null",
    Op.IS_TRUE: "is true",
    Op.IS_FALSE: "is false",
}


def to_expression(rule: Rule) -> str:
    """The canonical expression text of a rule (parses back to the same rule)."""
    if isinstance(rule, Not):
        return f"not ({to_expression(rule.item)})"
    if isinstance(rule, All | AnyOf):
        joiner = " and " if isinstance(rule, All) else " or "
        parts = [
            f"({to_expression(i)})" if isinstance(i, All | AnyOf) else to_expression(i)
            for i in rule.items
        ]
        return joiner.join(parts)
    attr = _quote_attr(rule.attribute)
    vals = [_value_text(v) for v in rule.values]
    if rule.op in _NULLARY:
        text = f"{attr} {_NULLARY[rule.op]}"
    elif rule.op in _SYMBOL:
        text = f"{attr} {_SYMBOL[rule.op]} {vals[0]}"
    elif rule.op in _WORDS:
        text = f"{attr} {_WORDS[rule.op]} {vals[0]}"
    elif rule.op == Op.BETWEEN:
        text = f"{attr} between {vals[0]} and {vals[1]}"
    elif rule.op in (Op.ANY_OF, Op.NONE_OF):
        word = "in" if rule.op == Op.ANY_OF else "none of"
        text = f"{attr} {word} ({', '.join(vals)})"
    else:  # WITHIN_LAST
        text = f"{attr} within last {vals[0]} {rule.unit}"
    return text + (" ignore case" if rule.ignore_case else "")

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segport.segments.expression import parse_expression, to_expression
from segport.segments.rules import All, AnyOf, Condition, DateValue, Not, Op, RuleError


def test_example_from_the_issue() -> None:
    rule = parse_expression(
        "country = 'GB' and lifetime_value > 100 and last_purchase >= today() - interval 30 days"
    )
    assert rule == All(
        (
            Condition("country", Op.EQUALS, ("GB",)),
            Condition("lifetime_value", Op.GREATER_THAN, (100,)),
            Condition("last_purchase", Op.GREATER_OR_EQUAL, (DateValue(None, ((-30, "days"),)),)),
        )
    )


def test_and_binds_tighter_than_or_and_parens_override() -> None:
    a, b, c = (Condition(x, Op.IS_TRUE) for x in "abc")
    assert parse_expression("a or b and c") == AnyOf((a, All((b, c))))
    assert parse_expression("(a or b) and c") == All((AnyOf((a, b)), c))
    assert parse_expression("not a and b") == All((Not(a), b))
    assert parse_expression("NOT (a OR b)") == Not(AnyOf((a, b)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x = 'a'", Condition("x", Op.EQUALS, ("a",))),
        ("x == 1", Condition("x", Op.EQUALS, (1,))),
        ("x != 1.5", Condition("x", Op.NOT_EQUALS, (1.5,))),
        ("x <> -2", Condition("x", Op.NOT_EQUALS, (-2,))),
        ("x < 1", Condition("x", Op.LESS_THAN, (1,))),
        ("x <= 1", Condition("x", Op.LESS_OR_EQUAL, (1,))),
        ("x > 1", Condition("x", Op.GREATER_THAN, (1,))),
        ("x >= 1e3", Condition("x", Op.GREATER_OR_EQUAL, (1000.0,))),
        ("x between 1 and 2", Condition("x", Op.BETWEEN, (1, 2))),
        ("x not between 1 and 2", Not(Condition("x", Op.BETWEEN, (1, 2)))),
        ("x contains 'a'", Condition("x", Op.CONTAINS, ("a",))),
        ("x contains 'a' ignore case", Condition("x", Op.CONTAINS, ("a",), True)),
        ("x not contains 'a'", Not(Condition("x", Op.CONTAINS, ("a",)))),
        ("x starts with 'a'", Condition("x", Op.STARTS_WITH, ("a",))),
        ("x ends with 'a' IGNORE CASE", Condition("x", Op.ENDS_WITH, ("a",), True)),
        ("x in ('a', 'b')", Condition("x", Op.ANY_OF, ("a", "b"))),
        ("x any of ('a')", Condition("x", Op.ANY_OF, ("a",))),
        ("x none of (1, 2)", Condition("x", Op.NONE_OF, (1, 2))),
        ("x not in ('a')", Not(Condition("x", Op.ANY_OF, ("a",)))),
        ("x is empty", Condition("x", Op.IS_EMPTY)),
        ("x is not empty", Condition("x", Op.HAS_VALUE)),
        ("x has value", Condition("x", Op.HAS_VALUE)),
        ("x is null", Condition("x", Op.IS_NULL)),
        ("x is not null", Condition("x", Op.IS_NOT_NULL)),
        ("x is true", Condition("x", Op.IS_TRUE)),
        ("x is false", Condition("x", Op.IS_FALSE)),
        ("x is not true", Not(Condition("x", Op.IS_TRUE))),
        ("x = true", Condition("x", Op.EQUALS, (True,))),
        ("x", Condition("x", Op.IS_TRUE)),
        ("x before '2024-01-01'", Condition("x", Op.BEFORE, ("2024-01-01",))),
        ("x after date '2024-01-01'", Condition("x", Op.AFTER, (DateValue(date(2024, 1, 1)),))),
        ("x within last 30 days", Condition("x", Op.WITHIN_LAST, (30,))),
        ("x within the last 2 month", Condition("x", Op.WITHIN_LAST, (2,), unit="months")),
        ("x in month '2024-02'", Condition("x", Op.IN_MONTH, ("2024-02",))),
        ("x = today()", Condition("x", Op.EQUALS, (DateValue(None),))),
        (
            "x < today() + interval 1 year - interval '2 weeks'",
            Condition("x", Op.LESS_THAN, (DateValue(None, ((1, "years"), (-2, "weeks"))),)),
        ),
        ("\"first name\" = 'Ann'", Condition("first name", Op.EQUALS, ("Ann",))),
        ("x = 'O''Brien'", Condition("x", Op.EQUALS, ("O'Brien",))),
    ],
)
def test_every_operator_spelling(text: str, expected: object) -> None:
    assert parse_expression(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("country =", "position 10: expected a value"),
        ("country = 'GB' and", "expected an attribute name"),
        ("country 'GB'", "expected an operator"),
        ("country = 'GB", 'unexpected character "\'"'),
        ('country = "GB"', "expected a value"),
        ("(country = 'GB'", "expected ')'"),
        ("country = 'GB')", "expected 'and', 'or' or the end"),
        ("country = 'GB'; DROP TABLE customers", "unexpected character ';'"),
        ("country = 'GB' -- comment", "position 16"),
        ("x = null", "write 'is null'"),
        ("x within last 1.5 days", "a whole number"),
        ("x within last 3 fortnights", "a unit"),
        ("x in month 'May'", "in month needs 'YYYY-MM'"),
        ("x > 3 ignore case", "ignore case does not apply"),
        ("x between 1", "expected 'and'"),
        ("x = date '2024-13-01'", "is not a date"),
        ("x > today() - interval 'a while'", "is not an interval"),
        ("x is maybe", "after 'is'"),
        ("x in ()", "expected a value"),
    ],
)
def test_bad_expressions_say_where_and_what(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_expression(text)


@pytest.mark.parametrize(
    "text",
    [
        "country = 'GB' and lifetime_value > 100 and last_purchase >= today() - interval 30 days",
        "(a = 'x' or b is empty) and not (c between 1 and 2.5)",
        "\"odd name\" none of ('a', 'b') ignore case or d within last 3 weeks",
        "e in month '2024-02' and f after date '2024-01-01' + interval 1 month and g is not null",
    ],
)
def test_canonical_text_parses_back_to_the_same_rule(text: str) -> None:
    rule = parse_expression(text)
    assert parse_expression(to_expression(rule)) == rule


@given(st.text(max_size=40))
def test_any_text_value_round_trips_through_the_canonical_text(value: str) -> None:
    rule = Condition("name", Op.EQUALS, (value,))
    assert parse_expression(to_expression(rule)) == rule


_WORDS = st.sampled_from(
    ["and", "or", "not", "(", ")", "x", "'a'", "1", "-", "+", "=", "<", ">=", "between",
     "in", "is", "empty", "null", "today()", "interval", "3", "days", "ignore", "case",
     "within", "last", "month", "contains", "starts", "with", ",", "date", "'2024-01-01'"]
)  # fmt: skip


@given(st.lists(_WORDS, max_size=12).map(" ".join) | st.text(max_size=30))
def test_any_input_parses_or_fails_with_a_rule_error(text: str) -> None:
    try:
        rule = parse_expression(text)
    except RuleError:
        return
    assert parse_expression(to_expression(rule)) == rule

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlglot
from hypothesis import given
from hypothesis import strategies as st
from sqlglot import exp

from segport.segments.compiler import compile_rule
from segport.segments.expression import parse_expression
from segport.segments.rules import Condition, Op, RuleError, shift

COLUMNS = {
    "country": "text",
    "email": "text",
    "lifetime_value": "number",
    "last_purchase": "date",
    "signed_up_at": "timestamp",
    "is_vip": "boolean",
    "tags": "other",
}
TODAY = date(2026, 3, 31)


def sql(text: str, dialect: str = "duckdb") -> str:
    return compile_rule(parse_expression(text), COLUMNS, TODAY).sql(dialect=dialect)


def test_relative_dates_become_literal_dates_resolved_in_python() -> None:
    assert sql("last_purchase >= today() - interval 1 month") == (
        "\"last_purchase\" >= CAST('2026-02-28' AS DATE)"
    )
    assert sql("last_purchase within last 7 days", "postgres") == (
        '"last_purchase" >= CAST(\'2026-03-24\' AS DATE) AND "last_purchase" < '
        "CAST('2026-04-01' AS DATE)"
    )


def test_month_and_year_arithmetic_clamps_to_the_month() -> None:
    assert shift(date(2024, 1, 31), 1, "months") == date(2024, 2, 29)
    assert shift(date(2024, 2, 29), 1, "years") == date(2025, 2, 28)
    assert shift(date(2024, 3, 1), -1, "days") == date(2024, 2, 29)
    assert shift(date(2024, 1, 1), 2, "weeks") == date(2024, 1, 15)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("contry = 'GB'", "unknown attribute 'contry' (did you mean 'country'?)"),
        ("nothing_like_it = 1", "the profile attributes are: country, email"),
        ("country > 'GB'", "country is text: greater_than does not apply"),
        ("country = 100", "type mismatch: country is text, but 100 is number"),
        ("lifetime_value = '100'", "lifetime_value is number, but '100' is text"),
        ("lifetime_value = true", "lifetime_value is number, but True is boolean"),
        ("lifetime_value contains '1'", "contains does not apply to number"),
        ("last_purchase > 3", "last_purchase is date, but 3 is number"),
        ("last_purchase > 'yesterday'", "last_purchase is date, but 'yesterday' is text"),
        ("signed_up_at in ('2024-01-01')", "any_of does not apply to timestamp"),
        ("is_vip = 'yes'", "is_vip is boolean, but 'yes' is text"),
        ("is_vip > 1", "greater_than does not apply to boolean"),
        ("country = today()", "country is text, but today\\(\\) is date"),
        ("tags = 'a'", "tags is other"),
    ],
)
def test_wrong_rules_name_attribute_and_types(text: str, message: str) -> None:
    with pytest.raises(RuleError) as err:
        sql(text)
    assert re.search(message, str(err.value)) or message in str(err.value)


def test_attribute_names_match_case_insensitively_when_unambiguous() -> None:
    assert sql("COUNTRY = 'GB'") == "\"country\" = 'GB'"


def test_null_checks_apply_to_every_type() -> None:
    assert sql("tags is null") == '"tags" IS NULL'
    assert sql("lifetime_value is empty") == '"lifetime_value" IS NULL'


@given(st.text(max_size=30))
def test_values_stay_literals_whatever_they_hold(value: str) -> None:
    """A value can never become SQL: the rendered query parses back to one literal."""
    for dialect in ("duckdb", "postgres"):
        tree = compile_rule(Condition("email", Op.CONTAINS, (value,)), COLUMNS, TODAY)
        rendered = tree.sql(dialect=dialect)
        parsed = sqlglot.parse_one(rendered, dialect=dialect)
        literals = [lit.this for lit in parsed.find_all(exp.Literal) if lit.is_string]
        assert literals == [value]
        assert [c.name for c in parsed.find_all(exp.Column)] == ["email"]


@pytest.mark.parametrize(
    "attack",
    [
        "x' OR '1'='1",
        "'; DROP TABLE customers; --",
        "\\'; SELECT 1; --",
        "$$; DROP TABLE x; $$",
    ],
)
def test_injection_attempts_in_values_are_just_text(attack: str) -> None:
    rule = Condition("country", Op.EQUALS, (attack,))
    for dialect in ("duckdb", "postgres"):
        parsed = sqlglot.parse_one(compile_rule(rule, COLUMNS, TODAY).sql(dialect), dialect)
        assert isinstance(parsed, exp.EQ)
        assert parsed.expression.this == attack


def test_injection_attempts_in_attribute_names_are_unknown_attributes() -> None:
    with pytest.raises(RuleError, match="unknown attribute"):
        compile_rule(Condition('country" = country OR "1', Op.IS_NULL), COLUMNS, TODAY)

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segport.segments.combinations import (
    SegmentRef,
    SetOp,
    from_tree,
    parse_combination,
    references,
    renamed,
    to_text,
    to_tree,
)
from segport.segments.rules import RuleError

a, b, c = SegmentRef("a"), SegmentRef("b"), SegmentRef("c")


def test_intersect_binds_tighter_and_the_rest_is_left_to_right() -> None:
    assert parse_combination("a union b intersect c") == SetOp("union", a, SetOp("intersect", b, c))
    assert parse_combination("a except b union c") == SetOp("union", SetOp("except", a, b), c)
    assert parse_combination("a except (b union c)") == SetOp("except", a, SetOp("union", b, c))
    assert parse_combination("A UNION b") == SetOp("union", SegmentRef("A"), b)


@pytest.mark.parametrize(
    "text",
    ["a union b intersect c", "a except (b union c)", "(a union b) intersect c", "a except b"],
)
def test_text_and_tree_round_trip(text: str) -> None:
    node = parse_combination(text)
    assert parse_combination(to_text(node)) == node
    assert from_tree(to_tree(node)) == node


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "combination is empty"),
        ("a union", "expected a segment name"),
        ("union a", "expected a segment name"),
        ("a b", "expected union, intersect or except"),
        ("(a union b", "expected '\\)'"),
        ("a; drop", "unexpected ';'"),
        ("a or b", "expected union, intersect or except"),
    ],
)
def test_bad_combinations(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_combination(text)


def test_references_and_rename() -> None:
    node = parse_combination("high-value.gb except churned union high-value.gb")
    assert references(node) == ["high-value.gb", "churned"]
    assert references(renamed(node, "churned", "lost")) == ["high-value.gb", "lost"]


@given(st.lists(st.sampled_from(["a", "b", "union", "intersect", "except", "(", ")"]), max_size=9))
def test_any_input_parses_or_fails_with_a_rule_error(words: list[str]) -> None:
    try:
        node = parse_combination(" ".join(words))
    except RuleError:
        return
    assert parse_combination(to_text(node)) == node

"""The rule builder's service (segment_drafts): a form's typed-in values become values of
each attribute's type, a refusal names the condition's part at fault, a saved rule comes
back as the same form, and a draft's count is the count of the segment once saved."""

from __future__ import annotations

import pytest

from segport.errors import SegportError
from segport.service import (
    FormCondition,
    FormGroup,
    RuleForm,
    count_segment,
    create_segment,
    save_segment,
    segment_builder,
    show_segment,
    try_segment,
)
from segport.service.access import actor_named
from segport.service.workspace import Workspace


def _form(*conds: tuple[str, str, str], match: str = "all") -> RuleForm:
    return RuleForm("all", (FormGroup(match, tuple(FormCondition(*c) for c in conds)),))


def test_values_are_typed_by_attribute_and_the_count_is_the_saved_count(
    loaded_workspace: Workspace,
) -> None:
    ws = loaded_workspace
    admin = actor_named(ws, None)
    form = RuleForm(
        "any",
        (
            FormGroup(
                "all",
                (
                    FormCondition("lifetime_value", "between", "100, 300.5"),
                    FormCondition("is_vip", "equals", "yes"),
                    FormCondition("last_purchase", "within_last", "90 days"),
                ),
            ),
            FormGroup(
                "any",
                (
                    FormCondition("country", "any_of", "GB, FR"),
                    FormCondition("signed_up_at", "before", "2025-02-01"),
                    FormCondition("orders", "is_null", "ignored"),
                ),
            ),
        ),
    )
    draft = try_segment(ws, admin, form=form, limit=3)
    assert draft.kind == "rule" and len(draft.preview.rows) == 3
    info = save_segment(ws, admin, "built", form=form)
    assert info.expression == draft.expression
    assert "lifetime_value between 100 and 300.5" in info.expression
    assert "is_vip = true" in info.expression and "country in ('GB', 'FR')" in info.expression
    assert count_segment(ws, admin, "built") == draft.member_count > 0
    # the saved rule comes back as the same form (values as text)
    back = segment_builder(ws, admin, "built")
    assert back.form == form.__class__(
        "any",
        (
            FormGroup(
                "all",
                (
                    FormCondition("lifetime_value", "between", "100, 300.5"),
                    FormCondition("is_vip", "equals", "true"),
                    FormCondition("last_purchase", "within_last", "90 days"),
                ),
            ),
            FormGroup(
                "any",
                (
                    FormCondition("country", "any_of", "GB, FR"),
                    FormCondition("signed_up_at", "before", "date '2025-02-01'"),
                    FormCondition("orders", "is_null", ""),
                ),
            ),
        ),
    )
    names = {a.name: a for a in back.attributes}
    assert "contains" in names["email"].operators and "contains" not in names["orders"].operators


@pytest.mark.parametrize(
    ("cond", "field", "words"),
    [
        (("colour", "equals", "red"), "g0.c0.attribute", "unknown attribute 'colour'"),
        (("orders", "contains", "1"), "g0.c0.operator", "does not apply"),
        (("orders", "greater_than", "lots"), "g0.c0.value", "'lots' is not a number"),
        (("is_vip", "equals", "perhaps"), "g0.c0.value", "not true or false"),
        (("last_purchase", "within_last", "a while"), "g0.c0.value", "a whole number"),
        (("last_purchase", "after", "someday"), "g0.c0.value", "someday"),
        (("orders", "between", "1"), "g0.c0.value", "takes 2 value"),
        (("orders", "equals", ""), "g0.c0.value", "give a value"),
        (("", "equals", ""), "g0.c0.attribute", "no condition"),
    ],
)
def test_a_refusal_names_the_part_of_the_condition(
    loaded_workspace: Workspace, cond: tuple[str, str, str], field: str, words: str
) -> None:
    with pytest.raises(SegportError, match=words) as refused:
        try_segment(loaded_workspace, actor_named(loaded_workspace, None), form=_form(cond))
    assert refused.value.field == field


def test_a_rule_the_form_cannot_hold_is_edited_as_text(loaded_workspace: Workspace) -> None:
    ws = loaded_workspace
    admin = actor_named(ws, None)
    create_segment(ws, admin, "negated", where="not (country = 'GB')")
    create_segment(ws, admin, "folded", where="country = 'gb' ignore case")
    create_segment(ws, admin, "combo", combine="negated union folded")
    for name in ("negated", "folded", "combo"):
        assert segment_builder(ws, admin, name).form is None
    builder = segment_builder(ws, admin, "combo")
    assert builder.segment is not None and "combo" not in builder.segments
    # a combination under its own name, made to include itself: refused like saving it
    with pytest.raises(SegportError, match="cycle") as refused:
        try_segment(ws, admin, name="negated", combine="combo")
    assert refused.value.field == "combine"
    assert show_segment(ws, admin, "negated").expression == "not (country = 'GB')"

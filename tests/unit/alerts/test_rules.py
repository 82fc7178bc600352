"""Alert rules: ``--on failed,skipped,rejected-over:5%`` parsed, refused with a message
naming the condition, and matched against run records as ``RunView.to_dict()`` gives them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.fixtures.run_records import run_record as record

from segport.alerts import AlertRule, RejectedOver, matches, parse_rule
from segport.errors import Invalid


@pytest.mark.parametrize(
    ("text", "endings", "over", "spec"),
    [
        ("failed", {"failed"}, None, "failed"),
        ("failed,skipped", {"failed", "skipped"}, None, "failed,skipped"),
        (" Skipped , FAILED ", {"failed", "skipped"}, None, "failed,skipped"),
        ("failed,failed", {"failed"}, None, "failed"),
        ("canceled,successful", {"canceled", "successful"}, None, "canceled,successful"),
        (
            "failed,skipped,rejected-over:5%",
            {"failed", "skipped"},
            RejectedOver(Decimal(5), True),
            "failed,skipped,rejected-over:5%",
        ),
        ("rejected-over:0.5%", set(), RejectedOver(Decimal("0.5"), True), "rejected-over:0.5%"),
        ("rejected-over:100", set(), RejectedOver(Decimal(100), False), "rejected-over:100"),
        ("REJECTED-OVER: 100 %", set(), RejectedOver(Decimal(100), True), "rejected-over:100%"),
        ("rejected-over:0", set(), RejectedOver(Decimal(0), False), "rejected-over:0"),
    ],
)
def test_rules_parse(text: str, endings: set[str], over: RejectedOver | None, spec: str) -> None:
    rule = parse_rule(text)
    assert rule.endings == frozenset(endings)
    assert rule.rejected_over == over
    assert rule.spec == spec
    assert parse_rule(rule.spec) == rule  # what `alerts list` shows parses back


def test_a_percentage_written_back_parses_back_the_same() -> None:
    for text in ("rejected-over:100%", "rejected-over:12.50%", "rejected-over:5.0%"):
        rule = parse_rule(text)
        assert parse_rule(rule.spec) == rule, rule.spec


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "needs the run endings"),
        ("   ", "needs the run endings"),
        ("failed,,skipped", "empty condition"),
        ("failed,", "empty condition"),
        ("failure", "did you mean failed?"),
        ("success", "did you mean successful?"),
        ("cancelled", "did you mean canceled?"),
        ("processing", "has not ended"),
        ("exploded", "'exploded' is not known"),
        ("failed:3", "'failed:3' is not known"),
        ("rejected-over", "needs its limit"),
        ("rejected-over:", "needs its limit"),
        ("rejected-over:lots", "'lots' is not a number"),
        ("rejected-over:-5%", "'-5' is not a number"),
        ("rejected-over:5%%", "'5%' is not a number"),
        ("rejected-over:101%", "at most 100%"),
        ("rejected-over:2.5", "whole number"),
        ("rejected-over:5%,rejected-over:10", "two limits"),
    ],
)
def test_bad_rules_are_refused_naming_the_condition(text: str, says: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_rule(text)
    assert caught.value.field == "on"
    assert says in caught.value.message
    # every refusal says what can be written instead, or what to fix
    assert "rejected-over" in caught.value.message or "mean" in caught.value.message


def test_an_ending_status_raises_the_alert_and_others_do_not() -> None:
    rule = parse_rule("failed,skipped")
    assert matches(rule, record("failed", reason="brevo_error"))
    assert matches(rule, record("skipped", reason="over_profile_limit"))
    assert not matches(rule, record("successful", reason="completed"))
    assert not matches(rule, record("canceled", reason="canceled_by_user"))


def test_a_run_that_has_not_ended_never_raises_one() -> None:
    rule = AlertRule(endings=frozenset({"failed", "skipped", "canceled", "successful"}))
    for status in ("queued", "processing", "not_started"):
        assert not matches(rule, record(status))
    assert not matches(rule, {})
    assert not matches(rule, {"status": None})


def test_rejected_over_a_share_of_the_members() -> None:
    rule = parse_rule("rejected-over:5%")
    assert not matches(rule, record("successful", members=1000, rejected={"invalid_email": 50}))
    assert matches(rule, record("successful", members=1000, rejected={"invalid_email": 51}))
    # counted over every reason, and on a failed run too
    assert matches(
        rule, record("failed", members=1000, rejected={"invalid_email": 30, "duplicate": 21})
    )
    # a skipped or canceled run sent nothing: its counts raise nothing
    assert not matches(rule, record("skipped", members=1000))
    # no members, no share
    assert not matches(rule, record("successful", members=0))


def test_a_fractional_share_compares_exactly() -> None:
    rule = parse_rule("rejected-over:0.1%")
    assert not matches(rule, record("successful", members=3000, rejected={"x": 3}))
    assert matches(rule, record("successful", members=3000, rejected={"x": 4}))


def test_rejected_over_a_number_of_rows() -> None:
    rule = parse_rule("rejected-over:100")
    assert not matches(rule, record("successful", members=10**6, rejected={"x": 100}))
    assert matches(rule, record("successful", members=10**6, rejected={"x": 101}))
    zero = parse_rule("rejected-over:0")
    assert matches(zero, record("successful", rejected={"x": 1}))
    assert not matches(zero, record("successful", rejected={}))


def test_rejected_rows_are_read_from_the_summary_when_the_record_has_no_count() -> None:
    rule = parse_rule("rejected-over:10")
    data = record("successful", members=100, rejected={"x": 11})
    data["rejected"] = None
    assert data["summary"]["rejected_total"] == 11
    assert matches(rule, data)
    data["summary"] = None
    assert not matches(rule, data)


def test_both_kinds_of_condition_in_one_rule() -> None:
    rule = parse_rule("failed,rejected-over:1%")
    assert matches(rule, record("failed", rejected={}))
    assert matches(rule, record("successful", members=100, rejected={"x": 2}))
    assert not matches(rule, record("successful", members=100, rejected={"x": 1}))

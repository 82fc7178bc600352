from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from segport.segments.documents import from_document, load_document_file, to_document
from segport.segments.expression import parse_expression
from segport.segments.rules import RuleError

YAML_RULE = """
all:
  - {attribute: country, operator: equals, value: GB, ignore_case: true}
  - {attribute: lifetime_value, operator: between, values: [100, 500]}
  - any:
      - {attribute: email, operator: ends_with, value: "@example.com"}
      - {attribute: last_purchase, operator: within_last, value: 30, unit: days}
  - not: {attribute: churned, operator: is_true}
  - {attribute: signup, operator: after, value: {date: "today() - interval 1 year"}}
  - {attribute: born, operator: before, value: 2000-01-31}
"""

SAME_AS_TEXT = (
    "country = 'GB' ignore case and lifetime_value between 100 and 500 and "
    "(email ends with '@example.com' or last_purchase within last 30 days) and "
    "not (churned is true) and signup after today() - interval 1 year and "
    "born before date '2000-01-31'"
)


def test_yaml_document_is_the_same_rule_as_the_expression(tmp_path: Path) -> None:
    path = tmp_path / "rule.yaml"
    path.write_text(YAML_RULE)
    assert load_document_file(path) == parse_expression(SAME_AS_TEXT)


def test_json_document_round_trips(tmp_path: Path) -> None:
    rule = parse_expression(SAME_AS_TEXT)
    path = tmp_path / "rule.json"
    path.write_text(json.dumps(to_document(rule)))
    assert load_document_file(path) == rule


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "expected a mapping"),
        ({"all": []}, r"rule.all: expected a non-empty list"),
        ({"all": [{"attribute": "x"}], "any": []}, "must stand alone"),
        ({"attribute": "x", "operator": "like", "value": "a%"}, "operator 'like' is not one of"),
        ({"attribute": "", "operator": "equals", "value": 1}, "'attribute' must name"),
        ({"attribute": "x", "operator": "equals"}, "takes 1 value"),
        ({"attribute": "x", "operator": "is_null", "value": 1}, "takes no value"),
        ({"attribute": "x", "operator": "between", "values": [1]}, "takes 2 value"),
        ({"attribute": "x", "operator": "equals", "value": 1, "values": [1]}, "not both"),
        ({"attribute": "x", "operator": "equals", "value": [1]}, "is not a text, number"),
        ({"attribute": "x", "operator": "equals", "value": 1, "sql": "1=1"}, "unknown key"),
        ({"all": [{"attribute": "x", "operator": "in_month", "value": "2024"}]}, r"rule.all\[0\]"),
        ({"attribute": "x", "operator": "after", "value": {"date": "soon"}}, "not a date"),
        ({"attribute": "x", "operator": "equals", "value": 1, "ignore_case": "yes"}, "true or"),
    ],
)
def test_bad_documents_name_the_place(doc: object, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        from_document(doc)


def test_files_that_cannot_be_documents(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "r.yaml"
    bad_yaml.write_text("all: [\n")
    with pytest.raises(RuleError, match="not valid YAML"):
        load_document_file(bad_yaml)
    bad_json = tmp_path / "r.json"
    bad_json.write_text("{")
    with pytest.raises(RuleError, match="not valid JSON"):
        load_document_file(bad_json)
    with pytest.raises(RuleError, match=r"must end in \.yaml"):
        load_document_file(tmp_path / "r.txt")
    with pytest.raises(RuleError, match="cannot read"):
        load_document_file(tmp_path / "missing.yaml")


def test_fixed_dates_survive_storage() -> None:
    rule = parse_expression("d = date '2024-02-29'")
    doc = json.loads(json.dumps(to_document(rule)))
    assert from_document(doc) == rule
    assert doc["value"] == {"date": "date '2024-02-29'"}
    assert date(2024, 2, 29)  # the leap day above is a real date

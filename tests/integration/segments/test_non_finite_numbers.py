"""Numbers that overflow (``1e999``, YAML ``.inf``, JSON ``NaN``) and dates past the calendar
are refused when the rule is given, through the CLI, with the value and where it is.

Before the fix ``repr(float('inf'))`` reached SQL as the bare word ``inf``, which DuckDB
reads as a column name: with a column named ``inf`` the rule ``inf = 1e999`` compared the
column with itself and matched every profile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segport.cli import app
from segport.segments.compiler import compile_rule
from segport.segments.rules import Condition, Op, RuleError

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    runner = CliRunner()
    ws = str(tmp_path / "ws")

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, ["--workspace", ws, *args])
        return result.exit_code, result.stdout, result.stderr

    assert invoke("init")[0] == 0
    csv = tmp_path / "p.csv"
    csv.write_text(
        "customer_id,email,inf,nan,ltv,seen\n"
        "1,a@example.com,5,1,10,2024-01-01\n"
        "2,b@example.com,6,2,20,2024-02-01\n"
    )
    assert invoke("profiles", "load", str(csv))[0] == 0
    return invoke


def _refused(run: Run, args: tuple[str, ...], *needles: str) -> None:
    code, out, err = run(*args)
    assert code == 1, out + err
    assert "Traceback" not in out + err
    for needle in needles:
        assert needle in err, err
    # Nothing was saved.
    assert "bad" not in run("segments", "list")[1]


@pytest.mark.parametrize(
    ("where", "needles"),
    [
        ("inf = 1e999", ("at position 7", "1e999", "too large")),
        ("ltv < 1e999", ("at position 7", "1e999")),
        ("ltv > -1e999", ("at position 7", "-1e999")),
        ("ltv between 1 and 1.5e400", ("at position 19", "1.5e400")),
        ("ltv in (1, 2, 1e400)", ("at position 15", "1e400")),
        ("ltv < 1" + "0" * 5000, ("at position 7", "5001 characters", "too large")),
        ("seen within last 99999999999 days", ("at position 18", "99999999999")),
        ("seen > today() - interval '99999999999 days'", ("99999999999", "too large")),
        ("seen > today() - interval 999999999 days", ("leaves the calendar",)),
        ("seen > date '9999-12-31' + interval 1 day", ("leaves the calendar",)),
        ("seen > date '9999-12-31'", ("9999-12-31", "last day")),
        ("seen in month '9999-12'", ("9999-12-31", "last day")),
    ],
)
def test_where_with_an_overflowing_value_is_refused(
    run: Run, where: str, needles: tuple[str, ...]
) -> None:
    _refused(run, ("segments", "create", "bad", "--where", where), *needles)


@pytest.mark.parametrize(
    ("name", "text", "needles"),
    [
        (
            "rule.json",
            '{"attribute": "nan", "operator": "equals", "value": NaN}',
            ("rule.json.value", "NaN"),
        ),
        (
            "rule.json",
            '{"all": [{"attribute": "ltv", "operator": "less_than", "value": 1e999}]}',
            ("rule.json.all[0].value", "infinity"),
        ),
        (
            "rule.json",
            '{"attribute": "ltv", "operator": "between", "values": [-Infinity, 3]}',
            ("rule.json.value", "-infinity"),
        ),
        (
            "rule.yaml",
            "any:\n  - {attribute: inf, operator: equals, value: .inf}\n",
            ("rule.yaml.any[0].value", "infinity"),
        ),
        (
            "rule.yml",
            "attribute: ltv\noperator: greater_than\nvalue: .NaN\n",
            ("rule.yml.value", "NaN"),
        ),
    ],
)
def test_rule_file_with_a_non_finite_number_is_refused(
    run: Run, tmp_path: Path, name: str, text: str, needles: tuple[str, ...]
) -> None:
    path = tmp_path / name
    path.write_text(text)
    _refused(run, ("segments", "create", "bad", "--file", str(path)), *needles)


def test_update_with_an_overflowing_number_keeps_the_old_rule(run: Run) -> None:
    assert run("segments", "create", "big", "--where", "ltv > 15")[0] == 0
    code, _, err = run("segments", "update", "big", "--where", "ltv > 1e999")
    assert code == 1 and "1e999" in err and "Traceback" not in err
    assert run("segments", "count", "big")[1].strip() == "1"


def test_largest_finite_numbers_still_work(run: Run) -> None:
    assert run("segments", "create", "all", "--where", "ltv < 1.7e308")[0] == 0
    assert run("segments", "count", "all")[1].strip() == "2"
    assert run("segments", "create", "none", "--where", "ltv < -1.7e308")[0] == 0
    assert run("segments", "count", "none")[1].strip() == "0"


@pytest.mark.parametrize(
    "value",
    [float("inf"), float("-inf"), float("nan"), 10**400],
    ids=["inf", "-inf", "nan", "huge"],
)
def test_the_compiler_refuses_non_finite_numbers_built_in_code(value: float) -> None:
    rule = Condition("ltv", Op.LESS_THAN, (value,))
    with pytest.raises(RuleError, match="ltv: "):
        compile_rule(rule, {"ltv": "number"}, today=date(2026, 1, 1))


def test_a_rule_saved_with_infinity_before_the_check_says_how_to_fix_it(
    run: Run, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from segport.segments.models import Segment
    from segport.service.opening import open_workspace

    assert run("segments", "create", "old", "--where", "ltv < 100")[0] == 0
    # What an older segport saved for `ltv < 1e999`.
    ws = open_workspace(tmp_path / "ws")
    try:
        with ws.session() as session:
            session.execute(
                update(Segment)
                .where(Segment.name == "old")
                .values(definition='{"attribute": "ltv", "operator": "less_than", '
                        '"value": Infinity}')
            )  # fmt: skip
    finally:
        ws.close()
    code, out, err = run("segments", "count", "old")
    assert code == 1 and "Traceback" not in out + err
    assert "saved rule of segment 'old'" in err and "infinity" in err
    assert "segport segments update old" in err
    assert run("segments", "update", "old", "--where", "ltv < 15")[0] == 0
    assert run("segments", "count", "old")[1].strip() == "1"

"""`segport profiles ...` and `segport segments ...` end to end through the CLI."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segport.cli import app

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    runner = CliRunner()
    ws = str(tmp_path / "ws")

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, ["--workspace", ws, *args])
        return result.exit_code, result.stdout, result.stderr

    assert invoke("init")[0] == 0
    return invoke


def test_profiles_and_segments_from_the_command_line(run: Run, tmp_path: Path) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(
        "customer_id,email,country,lifetime_value,last_purchase\n"
        "1,a@x.io,GB,150,2026-01-01\n"
        "2,b@x.io,FR,50,2026-01-02\n"
        "3,c@x.io,GB,20,2026-01-03\n"
        "4,d@x.io,GB,500\n"
    )
    code, out, err = run("profiles", "load", str(csv))
    assert code == 0, err
    assert "Loaded 3 profiles into customers" in out
    assert "1 bad row(s) were skipped" in err
    assert "line 5:" in err

    code, out, _ = run("profiles", "schema")
    assert code == 0 and "lifetime_value" in out and "number" in out
    code, out, _ = run("profiles", "show", "--limit", "2")
    assert code == 0 and "a@x.io" in out and "c@x.io" not in out
    code, out, _ = run("profiles", "show", "--limit", "1", "--offset", "2")
    assert code == 0 and "c@x.io" in out and "a@x.io" not in out
    code, _, err = run("profiles", "show", "--offset", "-1")
    assert code == 1 and "offset must be 0 or more" in err and "--offset N" in err

    assert run("segments", "create", "gb", "--where", "country = 'GB'")[0] == 0
    code, out, _ = run(
        "segments", "create", "high_value", "--where", "lifetime_value > 100",
        "--description", "big spenders",
    )  # fmt: skip
    assert code == 0 and "Created segment high_value: lifetime_value > 100" in out
    code, out, _ = run("segments", "create", "vip", "--combine", "gb except high_value")
    assert code == 0

    code, out, _ = run("segments", "count", "vip")
    assert (code, out.strip()) == (0, "1")
    code, out, _ = run("segments", "preview", "gb", "--limit", "5", "--columns", "email")
    assert code == 0 and "a@x.io" in out and "c@x.io" in out and "country" not in out
    code, out, _ = run("segments", "list")
    assert code == 0 and "vip" in out and "gb except high_value" in out
    code, out, _ = run("segments", "show", "high_value")
    assert code == 0 and "big spenders" in out and "vip" in out

    assert run("segments", "deactivate", "gb")[0] == 0
    code, out, _ = run("segments", "list")
    assert "inactive" in out
    assert run("segments", "activate", "gb")[0] == 0
    assert run("segments", "rename", "gb", "uk")[0] == 0
    code, out, _ = run("segments", "show", "vip")
    assert "uk except high_value" in out

    code, _, err = run("segments", "delete", "uk")
    assert code == 1 and "part of combination(s) vip" in err
    assert run("segments", "delete", "vip")[0] == 0
    assert run("segments", "delete", "uk")[0] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("segments", "create", "x", "--where", "contry = 'GB'"), "did you mean 'country'"),
        (("segments", "create", "x", "--where", "country > 5"), "country is text"),
        (("segments", "create", "x", "--where", "country = 'GB' or 1=1 --"), "expected"),
        (("segments", "create", "", "--where", "country = 'GB'"), "name is empty"),
        (("segments", "create", "x", "--combine", "x union x"), "combination cycle: x -> x"),
        (("segments", "create", "x", "--combine", "a union b"), "no segment named 'a'"),
        (("segments", "count", "missing"), "no segment named 'missing'"),
        (("segments", "create", "x"), "exactly one of"),
        (("profiles", "load", "nope.csv"), "cannot read nope.csv"),
        (("profiles", "use", "mysql://h/db", "--table", "t", "--id-column", "id"), "PostgreSQL"),
    ],
)
def test_errors_are_one_clear_line(
    run: Run, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("customer_id,country\n1,GB\n")
    assert run("profiles", "load", str(csv))[0] == 0
    code, out, err = run(*args)
    assert code == 1
    assert message in err
    assert "Traceback" not in err + out


def test_commands_without_a_workspace_say_how_to_make_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "none"), "segments", "list"])
    assert result.exit_code == 1
    assert "segport init" in result.stderr


def test_cli_modules_import_no_query_library() -> None:
    code = (
        "import sys, segport.cli; "
        "print(sorted(m for m in ('duckdb', 'sqlglot', 'pyarrow', 'adbc_driver_postgresql', "
        "'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

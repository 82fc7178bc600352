"""`segport profiles load` (and `use`) as a user runs it: no customer is lost to a loading
problem, a reload cannot quietly break a segment or an export, and the encoding is decided
on the whole file."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.integration.exports.conftest import Scenario, make_scenario
from typer.testing import CliRunner, Result

from segport.brevo.sandbox import SandboxServer
from segport.service.access import actor_named
from segport.service.opening import init_workspace
from segport.service.workspace import Workspace

HEADER = "customer_id,email,first_name,lifetime_value,last_purchase,phone\n"


def row(i: int, ltv: Any = None, day: str | None = None, phone: str | None = None) -> str:
    ltv = i * 10 if ltv is None else ltv
    day = day or f"2026-01-{i % 28 + 1:02d}"
    phone = phone or f"07700 9{i:05d}"
    return f"{i},user{i}@example.com,Name{i},{ltv},{day},{phone}\n"


def write(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


class Cli:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        from segport.cli import app

        return self.runner.invoke(app, ["--workspace", str(self.path), *args])


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = init_workspace(tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def cli(ws: Workspace) -> Cli:
    return Cli(ws.path)


def loaded(result: Result, rows: int) -> None:
    assert result.exit_code == 0, result.output
    assert f"Loaded {rows:,} profiles" in result.stdout
    assert "Traceback" not in result.output


def schema_types(cli: Cli) -> dict[str, str]:
    out = cli("profiles", "schema").stdout
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()]
    return {c[0]: c[2] for c in cells if len(c) == 3 and c[0] != "attribute"}


# --- type guessing on the whole file -------------------------------------------------


def test_a_bad_value_in_the_type_sample_does_not_turn_the_column_into_text(
    cli: Cli, tmp_path: Path
) -> None:
    rows = [row(i) for i in range(1, 12)]
    rows[1] = row(2, ltv="notanumber")
    rows[4] = row(5, day="2026-02-30")
    result = cli("profiles", "load", str(write(tmp_path / "p.csv", *rows)))
    loaded(result, 11)
    assert schema_types(cli)["lifetime_value"] == "number"
    assert schema_types(cli)["last_purchase"] == "date"
    err = result.stderr
    assert "2 value(s) did not fit their column's type and were loaded empty" in err
    assert "line 3: column lifetime_value: 'notanumber' is not a number" in err
    assert "line 6: column last_purchase: '2026-02-30' is not a date" in err
    created = cli("segments", "create", "hv", "--where", "lifetime_value > 100")
    assert created.exit_code == 0, created.output
    counted = cli("segments", "count", "hv")
    assert counted.exit_code == 0, counted.output


def test_a_bad_value_past_the_sample_keeps_the_row_with_the_cell_empty(
    cli: Cli, tmp_path: Path, ws: Workspace
) -> None:
    # 99.99 % whole numbers; one "n/a" past DuckDB's 20,480-row sample.
    rows = [row(i) for i in range(1, 21001)]
    rows[20600] = row(20601, ltv="n/a")
    rejects = tmp_path / "rejects.csv"
    result = cli(
        "profiles", "load", str(write(tmp_path / "p.csv", *rows)), "--rejects", str(rejects)
    )
    loaded(result, 21000)
    assert "line 20602: column lifetime_value: 'n/a' is not a number" in result.stderr
    assert schema_types(cli)["lifetime_value"] == "number"
    with rejects.open(newline="", encoding="utf-8") as fh:
        (bad,) = list(csv.DictReader(fh))
    assert bad["line"] == "20602" and "'n/a'" in bad["reason"]
    from segport.service.profile_source import show_profiles

    assert show_profiles(ws, actor_named(ws, None), 21000).num_rows == 21000


def test_lines_are_counted_as_in_the_file_past_a_value_with_line_breaks(
    cli: Cli, tmp_path: Path
) -> None:
    # An address or a note in quotes may hold line breaks; DuckDB counts such a record as
    # one line, so every later line number was off by one per break.
    rows = [row(i) for i in range(1, 41)]
    rows[1] = '2,user2@example.com,"Two\nlines\nhere",20,2026-01-03,07700 900002\n'
    rows[29] = row(30, ltv="n/a")  # file line 31 + 2 breaks
    rows[34] = "35,user35@example.com,Short\n"  # file line 36 + 2 breaks
    result = cli("profiles", "load", str(write(tmp_path / "p.csv", *rows)))
    loaded(result, 39)
    assert "line 33: column lifetime_value: 'n/a' is not a number" in result.stderr
    assert "line 38: " in result.stderr and "| 35,user35@example.com,Short" in result.stderr
    assert "Two\nlines\nhere" in "\n".join((tmp_path / "p.csv").read_text().splitlines()[2:5])


def test_a_mostly_text_column_stays_text_and_leading_zeros_are_kept(
    cli: Cli, tmp_path: Path, ws: Workspace
) -> None:
    header = "customer_id,zip,code\n"
    rows = [f"{i},0{i:04d},{i if i % 3 else 'X' + str(i)}\n" for i in range(1, 40)]
    result = cli("profiles", "load", str(write(tmp_path / "p.csv", *rows, header=header)))
    loaded(result, 39)
    assert schema_types(cli)["zip"] == "text" and schema_types(cli)["code"] == "text"
    assert "did not fit" not in result.stderr
    from segport.service.profile_source import show_profiles

    assert show_profiles(ws, actor_named(ws, None), 1).rows == [
        {"customer_id": 1, "zip": "00001", "code": "1"}
    ]


def test_json_lines_follow_the_same_rules(cli: Cli, tmp_path: Path) -> None:
    lines = [f'{{"customer_id": {i}, "ltv": {i * 10}}}\n' for i in range(1, 30)]
    lines[2] = '{"customer_id": 3, "ltv": "n/a"}\n'
    path = tmp_path / "p.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    result = cli("profiles", "load", str(path))
    loaded(result, 29)
    assert schema_types(cli)["ltv"] == "number"
    assert "line 3: column ltv: 'n/a' is not a number" in result.stderr


def test_an_unreadable_id_stops_the_load_with_its_line(cli: Cli, tmp_path: Path) -> None:
    rows = [row(i) for i in range(1, 13)]
    rows[3] = rows[3].replace("4,", "C-4,", 1)
    result = cli("profiles", "load", str(write(tmp_path / "p.csv", *rows)))
    assert result.exit_code == 1
    assert "1 customer_id value(s) are not numbers like the rest of the column" in result.stderr
    assert "(line 5: 'C-4')" in result.stderr


# --- --strict ---------------------------------------------------------------------------


def test_strict_refuses_any_bad_cell_and_loads_nothing(cli: Cli, tmp_path: Path) -> None:
    loaded(cli("profiles", "load", str(write(tmp_path / "a.csv", row(1), row(2)))), 2)
    rows = [row(i) for i in range(1, 40)]
    rows[4] = row(5, ltv="n/a")
    rows[30] = row(31, day="someday")
    rows.append("40,too,many,columns,here,x,y\n")
    rejects = tmp_path / "rejects.csv"
    bad = write(tmp_path / "b.csv", *rows)
    result = cli("profiles", "load", str(bad), "--replace", "--strict", "--rejects", str(rejects))
    assert result.exit_code == 1, result.output
    err = result.stderr
    assert "--strict" in err and "nothing was loaded" in err and "Traceback" not in err
    assert "2 value(s) that do not fit their column, 1 row(s) that cannot be read" in err
    assert "line 6: column lifetime_value: 'n/a' is not a number" in err
    assert "line 32: column last_purchase: 'someday' is not a date" in err
    assert "line 41:" in err
    with rejects.open(newline="", encoding="utf-8") as fh:
        assert [r["line"] for r in csv.DictReader(fh)] == ["6", "32", "41"]
    assert "2 profiles" in cli("profiles", "schema").stdout  # the store as it was
    loaded(
        cli("profiles", "load", str(write(tmp_path / "c.csv", row(1))), "--replace", "--strict"), 1
    )


# --- a reload must not break segments and exports --------------------------------------


def test_a_reload_that_changes_a_used_columns_type_is_refused(cli: Cli, tmp_path: Path) -> None:
    loaded(
        cli("profiles", "load", str(write(tmp_path / "a.csv", *(row(i) for i in range(1, 20))))), 19
    )
    assert (
        cli("segments", "create", "high-value", "--where", "lifetime_value >= 100").exit_code == 0
    )
    rows = [row(i, ltv="unknown" if i % 4 == 0 else None) for i in range(1, 20)]
    newer = write(tmp_path / "b.csv", *rows)
    result = cli("profiles", "load", str(newer), "--replace")
    assert result.exit_code == 1, result.output
    err = result.stderr
    assert "would break segments or exports, so nothing was changed" in err
    assert (
        "lifetime_value: was number, would be text (4 of 19 values are not numbers, e.g. 'unknown')"
        in err
    )
    assert "used by segment high-value" in err
    assert "fix the data" in err and "segport segments update" in err
    assert "--allow-schema-change" in err and "Traceback" not in err
    # the message is shown as docs/segments.md shows it: one line per column and choice
    assert "nothing was changed:\n  lifetime_value: was number" in err
    assert "\nChoices:\n  - fix the data" in err
    assert schema_types(cli)["lifetime_value"] == "number"
    assert cli("segments", "count", "high-value").exit_code == 0
    forced = cli("profiles", "load", str(newer), "--replace", "--allow-schema-change")
    loaded(forced, 19)
    assert schema_types(cli)["lifetime_value"] == "text"


def test_a_column_no_segment_or_export_uses_may_change(cli: Cli, tmp_path: Path) -> None:
    loaded(
        cli("profiles", "load", str(write(tmp_path / "a.csv", *(row(i) for i in range(1, 20))))), 19
    )
    rows = [row(i, ltv="unknown" if i % 4 == 0 else None) for i in range(1, 20)]
    loaded(cli("profiles", "load", str(write(tmp_path / "b.csv", *rows)), "--replace"), 19)
    assert schema_types(cli)["lifetime_value"] == "text"


def test_a_text_column_stays_text_when_a_reload_looks_numeric(cli: Cli, tmp_path: Path) -> None:
    header = "customer_id,code\n"
    loaded(
        cli("profiles", "load", str(write(tmp_path / "a.csv", "1,A1\n2,B2\n", header=header))), 2
    )
    assert cli("segments", "create", "a", "--where", "code = 'A1'").exit_code == 0
    loaded(
        cli(
            "profiles",
            "load",
            str(write(tmp_path / "b.csv", "1,11\n2,22\n", header=header)),
            "--replace",
        ),
        2,
    )
    assert schema_types(cli)["code"] == "text"


def test_parquet_reload_is_checked_too(cli: Cli, tmp_path: Path) -> None:
    pq.write_table(pa.table({"customer_id": [1, 2], "ltv": [10.0, 20.0]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"customer_id": [1, 2], "ltv": ["10", "x"]}), tmp_path / "b.parquet")
    loaded(cli("profiles", "load", str(tmp_path / "a.parquet")), 2)
    assert cli("segments", "create", "big", "--where", "ltv > 15").exit_code == 0
    result = cli("profiles", "load", str(tmp_path / "b.parquet"), "--replace")
    assert result.exit_code == 1
    assert "ltv: was number, would be text; used by segment big" in result.stderr


@pytest.fixture
def scenario(sandbox: SandboxServer, tmp_path: Path) -> Iterator[Scenario]:
    s = make_scenario(tmp_path / "ws", sandbox, tmp_path)
    try:
        yield s
    finally:
        s.ws.close()


def test_a_reload_that_renames_a_column_an_export_uses_is_refused(
    scenario: Scenario, tmp_path: Path
) -> None:
    cli = Cli(scenario.ws.path)
    scenario.add_export("uk-newsletter")  # maps email, first/last name and phone
    header = "customer_id,email,first_name,last_name,mobile,tier,city\n"
    renamed = write(
        tmp_path / "renamed.csv",
        *(f"{i},user{i}@example.com,F{i},L{i},07911 {i:06d},gold,C\n" for i in range(1, 4)),
        header=header,
    )
    result = cli("profiles", "load", str(renamed), "--replace")
    assert result.exit_code == 1, result.output
    err = result.stderr
    assert "phone: no longer there (the new column 'mobile' may be it, renamed)" in err
    assert "used by export uk-newsletter (phone column)" in err
    assert "the data matching of the exports uk-newsletter" in err
    assert "or --allow-schema-change)" in err
    assert "phone" in schema_types(cli)


def test_a_mirror_export_keeps_a_customer_whose_row_had_a_bad_cell(
    scenario: Scenario, tmp_path: Path
) -> None:
    cli = Cli(scenario.ws.path)
    header = "customer_id,email,first_name,last_name,phone,tier,city,orders\n"

    def rows(bad: int | None) -> list[str]:
        return [
            f"{i},user{i}@example.com,F{i},L{i},,gold,C,{'n/a' if i == bad else i % 50}\n"
            for i in range(1, 21001)
        ]

    loaded(
        cli(
            "profiles",
            "load",
            str(write(tmp_path / "a.csv", *rows(None), header=header)),
            "--replace",
        ),
        21000,
    )
    scenario.add_export("mirror", mode="mirror")
    first = cli("exports", "run", "mirror", "--quiet")
    assert first.exit_code == 0, first.output
    scenario.sandbox.state.wait_idle()
    assert len(scenario.members()) == 21000
    # The same customers; one has an unreadable order count past the type sample.
    reload = cli(
        "profiles", "load", str(write(tmp_path / "b.csv", *rows(20700), header=header)), "--replace"
    )
    loaded(reload, 21000)
    assert "line 20701: column orders: 'n/a' is not a number" in reload.stderr
    again = cli("exports", "run", "mirror", "--quiet")
    assert again.exit_code == 0, again.output
    scenario.sandbox.state.wait_idle()
    assert "user20700@example.com" in scenario.members()
    assert len(scenario.members()) == 21000


# --- encoding -------------------------------------------------------------------------


def test_one_invalid_byte_keeps_a_utf8_file_utf8(cli: Cli, tmp_path: Path, ws: Workspace) -> None:
    path = tmp_path / "utf8_onebad.csv"
    with path.open("wb") as fh:
        fh.write(b"customer_id,email,first_name\n")
        for i in range(1, 201):
            fh.write(f"{i},u{i}@example.com,Jos\u00e9 M\u00fcller {i}\n".encode())
        fh.write(b"201,x@example.com,Bad\xff\n")
    result = cli("profiles", "load", str(path))
    loaded(result, 201)
    assert "(csv, utf-8)" in result.stdout
    assert "1 line(s) held bytes that are not valid UTF-8" in result.stderr
    assert "line 202: byte 22 (0xff) is not valid UTF-8" in result.stderr
    from segport.service.profile_source import show_profiles

    names = show_profiles(ws, actor_named(ws, None), 201).column("first_name")
    assert names[0] == "Jos\u00e9 M\u00fcller 1" and names[-1] is None
    strict = cli("profiles", "load", str(path), "--replace", "--strict")
    assert strict.exit_code == 1 and "line 202: byte 22 (0xff) is not valid UTF-8" in strict.stderr


def test_a_windows_1252_file_is_still_read_as_such(cli: Cli, tmp_path: Path, ws: Workspace) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("customer_id;name\n1;Zoë\n2;Müller\n3;Ann\n".encode("cp1252"))
    result = cli("profiles", "load", str(path))
    loaded(result, 3)
    assert "(csv, cp1252)" in result.stdout and "not valid" not in result.stderr


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read_as_utf16(
    cli: Cli, tmp_path: Path, ws: Workspace, encoding: str
) -> None:
    # Read as UTF-8 (its NULs are ASCII) every name holds NULs: "no id column
    # 'customer_id'; its columns are: customer_id, ..." once the NULs were cleaned away.
    path = tmp_path / "unicode.txt"
    path.write_bytes("customer_id,email,first_name\n1,a@example.com,Zoë\n".encode(encoding))
    result = cli("profiles", "load", str(path))
    loaded(result, 1)
    assert f"(csv, {encoding})" in result.stdout
    from segport.service.profile_source import show_profiles

    assert show_profiles(ws, actor_named(ws, None), 1).column("first_name") == ["Zoë"]


def test_gzip_files_get_the_same_encoding_and_json_lines_checks(
    cli: Cli, tmp_path: Path, ws: Workspace
) -> None:
    import gzip

    from segport.service.profile_source import show_profiles

    # Read by DuckDB as they were, these failed whole ("CSV Error on Line: 2") or loaded
    # every line of a .jsonl.gz as "not valid JSON".
    legacy = tmp_path / "excel.csv.gz"
    legacy.write_bytes(gzip.compress("customer_id;name\n1;Zoë\n2;Müller\n".encode("cp1252")))
    result = cli("profiles", "load", str(legacy))
    loaded(result, 2)
    assert "(csv, cp1252)" in result.stdout
    assert show_profiles(ws, actor_named(ws, None), 2).column("name") == [
        "Zoë",
        "Müller",
    ]
    onebad = tmp_path / "onebad.csv.gz"
    body = "".join(f"{i};Zoë {i}\n" for i in range(1, 50)).encode() + b"50;Bad\xff\n"
    onebad.write_bytes(gzip.compress(b"customer_id;name\n" + body))
    result = cli("profiles", "load", str(onebad), "--replace")
    loaded(result, 50)
    assert "line 51: byte 7 (0xff) is not valid UTF-8" in result.stderr
    strict = cli("profiles", "load", str(legacy), "--replace", "--encoding", "utf-8")
    assert strict.exit_code == 1 and "excel.csv.gz is not valid utf-8: line 2" in strict.stderr
    lines = tmp_path / "people.jsonl.gz"
    lines.write_bytes(
        gzip.compress(b'{"customer_id": 1, "name": "Ann"}\n[1]\n{"customer_id": 2}\n')
    )
    result = cli("profiles", "load", str(lines), "--replace")
    loaded(result, 2)
    assert "line 2: not a JSON object" in result.stderr


def test_encoding_utf8_on_a_file_that_is_not_names_the_line_and_byte(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("customer_id,name\n1,Ann\n2,Zoë\n".encode("cp1252"))
    result = cli("profiles", "load", str(path), "--encoding", "utf-8")
    assert result.exit_code == 1
    assert "is not valid utf-8: line 3, byte 5 is 0xeb" in result.stderr
    assert "(e.g. cp1252) (option: --encoding ENCODING)" in result.stderr
    assert "Traceback" not in result.output
    bom = tmp_path / "bom.csv"
    bom.write_bytes(codecs.BOM_UTF8 + "customer_id,name\n1,Zoë\n".encode())
    loaded(cli("profiles", "load", str(bom), "--replace", "--encoding", "utf-8"), 1)


# --- PostgreSQL as the profile store ----------------------------------------------------


@pytest.mark.postgres
def test_switching_from_a_postgres_table_keeps_the_columns_segments_use(
    cli: Cli, tmp_path: Path, pg_database: str
) -> None:
    import psycopg

    with psycopg.connect(pg_database) as conn:
        conn.execute("CREATE TABLE people (customer_id int, email text, spend numeric(8,2))")
        conn.execute("INSERT INTO people VALUES (1, 'a@x.io', 10.5), (2, 'b@x.io', 99.99)")
        conn.execute("CREATE TABLE people_v2 (customer_id int, email text, spend text)")
        conn.execute("INSERT INTO people_v2 VALUES (1, 'a@x.io', 'high'), (2, 'b@x.io', 'low')")
    used = cli("profiles", "use", pg_database, "--table", "people", "--id-column", "customer_id")
    assert used.exit_code == 0, used.output
    assert cli("segments", "create", "spenders", "--where", "spend > 50").exit_code == 0
    switched = cli(
        "profiles", "use", pg_database, "--table", "people_v2", "--id-column", "customer_id"
    )
    assert switched.exit_code == 1
    assert "spend: was number, would be text; used by segment spenders" in switched.stderr
    # A file that replaces the PostgreSQL table is checked against it the same way.
    header = "customer_id,email,spend\n"
    text_spend = write(tmp_path / "p.csv", "1,a@x.io,high\n2,b@x.io,low\n", header=header)
    loaded_file = cli("profiles", "load", str(text_spend))
    assert loaded_file.exit_code == 1
    assert "spend: was number, would be text" in loaded_file.stderr
    assert "postgres table people " in cli("profiles", "schema").stdout
    # Numbers with a few bad values keep the column a number.
    numbers = write(
        tmp_path / "q.csv",
        *(f"{i},u{i}@x.io,{i}.5\n" for i in range(1, 12)),
        "12,u12@x.io,n/a\n",
        header=header,
    )
    loaded(cli("profiles", "load", str(numbers)), 12)
    assert schema_types(cli)["spend"] == "number"

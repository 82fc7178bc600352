# ruff: noqa: E501  (the table of bad files reads best one case per line)
"""Loading real files into the embedded store: formats, encodings, bad rows, and stops that
leave the store as it was."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segport.profiles import ProfileError, open_profile_store
from segport.service.access import actor_named
from segport.service.opening import init_workspace
from segport.service.profile_source import describe_source, load_profiles, show_profiles
from segport.service.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = init_workspace(tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


GOOD = "customer_id,email,country\n1,a@x.io,GB\n2,b@x.io,FR\n"


def ids(ws: Workspace) -> list[int]:
    return show_profiles(ws, actor_named(ws, None), 100).column("customer_id")


def test_csv_dialect_is_detected_and_bad_rows_are_reported_by_line(
    ws: Workspace, tmp_path: Path
) -> None:
    csv = write(
        tmp_path / "p.csv",
        "customer_id;name;lifetime_value\n"
        '1;"Smith; Ann";10.5\n'
        "2;Bo;20\n"
        "3;Cy;30;extra\n"
        '4;"Di ""the"" one";40\n'
        "5;Ed\n",
    )
    report = load_profiles(ws, actor_named(ws, None), csv)
    assert report.rows == 3
    assert report.rejected_total == 2
    assert [r.line for r in report.rejected] == [4, 6]
    assert "too many columns" in report.rejected[0].reason
    assert report.rejected[0].text == "3;Cy;30;extra"
    assert "missing columns" in report.rejected[1].reason
    table = show_profiles(ws, actor_named(ws, None), 10)
    assert table.column("name") == ["Smith; Ann", "Bo", 'Di "the" one']
    assert describe_source(ws, actor_named(ws, None)).columns["lifetime_value"][1] == "number"


def test_an_unclosed_quote_is_one_bad_row_not_an_unreadable_file(
    ws: Workspace, tmp_path: Path
) -> None:
    # DuckDB's strict sniffer gives up on such a file; the loader reads it leniently and
    # reports the broken line once, however many columns it lacks.
    csv = write(
        tmp_path / "p.csv",
        "customer_id,email,first_name,country,ltv\n"
        "1,a@x.io,Ann,GB,10\n"
        "2,b@x.io,Bo,FR,20\n"
        '3,"c@x.io,Unclosed,quote\n',
    )
    report = load_profiles(ws, actor_named(ws, None), csv)
    assert report.rows == 2
    assert report.rejected_total == 1
    (bad,) = report.rejected
    assert bad.line == 4
    assert bad.text == '3,"c@x.io,Unclosed,quote'
    assert ids(ws) == [1, 2]


def test_values_of_the_wrong_type_load_empty_and_are_reported(
    ws: Workspace, tmp_path: Path
) -> None:
    # Past the sniffer's sample (20,480 rows): the row stays, the cell is empty.
    rows = "".join(f"{i},{i * 2}\n" for i in range(1, 30000))
    csv = write(tmp_path / "p.csv", "customer_id,orders\n" + rows + "30000,many\n")
    report = load_profiles(ws, actor_named(ws, None), csv)
    assert report.rows == 30000
    assert report.rejected_total == 0
    (bad,) = report.problems.bad_cells
    assert (bad.line, bad.column, bad.value) == (30001, "orders", "many")
    assert describe_source(ws, actor_named(ws, None)).columns["orders"][1] == "number"


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("cp1252", "cp1252"), ("utf-16", "utf-16"), ("latin-1", "latin-1")],
)
def test_encodings_are_detected(
    ws: Workspace, tmp_path: Path, encoding: str, detected: str
) -> None:
    # \x81 is undefined in Windows-1252: a Latin-1 file with it cannot be Windows-1252.
    name = "Zoë \x81" if encoding == "latin-1" else "Zoë €"
    csv = write(tmp_path / "p.csv", f"customer_id,name\n1,{name}\n", encoding)
    report = load_profiles(ws, actor_named(ws, None), csv)
    assert report.encoding == detected
    assert show_profiles(ws, actor_named(ws, None), 1).column("name") == [name]


def test_encoding_can_be_given(ws: Workspace, tmp_path: Path) -> None:
    csv = write(tmp_path / "p.csv", "customer_id,name\n1,Zoë\n", "cp1252")
    load_profiles(ws, actor_named(ws, None), csv, encoding="latin-1")
    assert show_profiles(ws, actor_named(ws, None), 1).column("name") == ["Zoë"]
    with pytest.raises(ProfileError, match="the encoding 'klingon' is not one Python knows"):
        load_profiles(ws, actor_named(ws, None), csv, replace=True, encoding="klingon")


def test_utf8_bom_is_not_part_of_the_first_column(ws: Workspace, tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_bytes(codecs.BOM_UTF8 + GOOD.encode())
    load_profiles(ws, actor_named(ws, None), csv)
    assert ids(ws) == [1, 2]


def test_parquet_and_json_lines(ws: Workspace, tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"customer_id": [3, 1, 2], "v": [1.5, None, 3.0]}), tmp_path / "p.parquet"
    )
    assert load_profiles(ws, actor_named(ws, None), tmp_path / "p.parquet").rows == 3
    jsonl = write(
        tmp_path / "p.jsonl",
        '{"customer_id": "c1", "v": 1}\n'
        "{broken\n"
        "\n"
        '["not", "an", "object"]\n'
        '{"customer_id": "c2", "v": 2}\n',
    )
    report = load_profiles(ws, actor_named(ws, None), jsonl, table="people", replace=True)
    assert report.rows == 2
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejected] == [
        (2, "not valid JSON"),
        (4, "not a JSON object"),
    ]
    with open_profile_store(ws.engine, ws.path) as store:
        assert store.table == "people"
        assert store.columns() == {"customer_id": "text", "v": "number"}


def test_replacing_needs_replace(ws: Workspace, tmp_path: Path) -> None:
    load_profiles(ws, actor_named(ws, None), write(tmp_path / "a.csv", GOOD))
    with pytest.raises(ProfileError, match="already holds 2 profiles; replace them"):
        load_profiles(ws, actor_named(ws, None), write(tmp_path / "b.csv", "customer_id\n9\n"))
    load_profiles(ws, actor_named(ws, None), tmp_path / "b.csv", replace=True)
    assert ids(ws) == [9]


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "message"),
    [
        ("p.csv", "id,email\n1,a@x.io\n", {}, "has no id column 'customer_id'; its columns are: id, email"),
        ("p.csv", "Customer_ID,email\n1,a@x.io\n", {}, "did you mean 'Customer_ID'"),
        ("p.csv", "customer_id,email\n1,a\n2,b\n1,c\n2,d\n3,e\n", {}, "2 customer_id value\\(s\\) appear more than once, e.g. 1 \\(2 rows\\), 2 \\(2 rows\\)"),
        ("p.csv", "customer_id,email\n1,a\n,b\n", {}, "1 row\\(s\\) have no customer_id"),
        ("p.parquet", "this is not parquet", {}, "cannot read .*p.parquet as parquet"),
        ("p.xlsx", "x", {}, "cannot tell the format"),
        ("p.csv", GOOD, {"table": "drop table x"}, "the table name 'drop table x' is not usable"),
        ("p.csv", GOOD, {"id_column": " "}, "the id column is empty"),
    ],
)  # fmt: skip
def test_stops_leave_the_store_as_it_was(
    ws: Workspace, tmp_path: Path, name: str, content: str, kwargs: dict[str, str], message: str
) -> None:
    load_profiles(ws, actor_named(ws, None), write(tmp_path / "good.csv", GOOD))
    bad = write(tmp_path / name, content)
    with pytest.raises(ProfileError, match=message):
        load_profiles(ws, actor_named(ws, None), bad, replace=True, **kwargs)  # type: ignore[arg-type]
    assert ids(ws) == [1, 2]
    assert describe_source(ws, actor_named(ws, None)).loaded_from == str(tmp_path / "good.csv")


def test_unreadable_files(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"cannot read .*missing.csv: No such file"):
        load_profiles(ws, actor_named(ws, None), tmp_path / "missing.csv")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(ProfileError, match=r"cannot read .*folder.csv"):
        load_profiles(ws, actor_named(ws, None), tmp_path / "folder.csv")


def test_show_and_schema(ws: Workspace, tmp_path: Path) -> None:
    load_profiles(ws, actor_named(ws, None), write(tmp_path / "a.csv", GOOD))
    info = describe_source(ws, actor_named(ws, None))
    assert (info.kind, info.table, info.id_column, info.row_count) == (
        "duckdb",
        "customers",
        "customer_id",
        2,
    )
    assert info.columns == {
        "customer_id": ("BIGINT", "number"),
        "email": ("VARCHAR", "text"),
        "country": ("VARCHAR", "text"),
    }
    assert show_profiles(ws, actor_named(ws, None), 1).rows == [
        {"customer_id": 1, "email": "a@x.io", "country": "GB"}
    ]
    with pytest.raises(ProfileError, match="the limit must be 1 or more"):
        show_profiles(ws, actor_named(ws, None), 0)
    assert json.dumps(info.columns)  # plain data, ready for an API face


def test_json_lines_values_of_the_wrong_type_load_empty(ws: Workspace, tmp_path: Path) -> None:
    # Past the type sample, with a blank line so records and lines differ.
    lines = [json.dumps({"customer_id": i, "orders": i}) for i in range(1, 25000)]
    lines.insert(10, "")
    lines += [json.dumps({"customer_id": 25000, "orders": "many"}), '{"customer_id": 25001}']
    jsonl = write(tmp_path / "p.jsonl", "\n".join(lines) + "\n")
    report = load_profiles(ws, actor_named(ws, None), jsonl)
    assert report.rows == 25001
    (bad,) = report.problems.bad_cells
    assert (bad.line, bad.column, bad.value) == (25001, "orders", "many")
    with open_profile_store(ws.engine, ws.path) as store:
        assert store.columns()["orders"] == "number"


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_every_bad_row_can_go_to_a_rejects_file(ws: Workspace, tmp_path: Path, fmt: str) -> None:
    import csv as csv_module

    if fmt == "csv":
        source = write(tmp_path / "p.csv", "customer_id,name\n1,a\n2,b,extra\n3,c\n4\n")
        expected_lines = ["3", "5"]
    else:
        source = write(tmp_path / "p.jsonl", '{"customer_id": 1}\nnope\n[2]\n{"customer_id": 3}\n')
        expected_lines = ["2", "3"]
    rejects = tmp_path / "rejects.csv"
    report = load_profiles(ws, actor_named(ws, None), source, rejects_file=rejects)
    assert report.rows == 2
    with rejects.open(newline="", encoding="utf-8") as fh:
        rows = list(csv_module.DictReader(fh))
    assert [r["line"] for r in rows] == expected_lines
    assert all(r["reason"] and r["text"] for r in rows)

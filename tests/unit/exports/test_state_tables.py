"""One module declares every table an export state can hold (exports.state_tables): the
engine makes no other, creates none of fixed shape elsewhere, and docs/exports.md lists
them all."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from tests.unit.exports.test_plan_dedupe import Members, prepare

from segport.exports.current import refresh_current
from segport.exports.plan import DRY, REAL, build_plan
from segport.exports.stage import prepare_changed, reset_prepared, stage_members
from segport.exports.state import ExportState
from segport.exports.state_tables import BY_NAME, HELD, TABLES, add_new_columns

ROOT = Path(__file__).resolve().parents[3]
EXPORTS = ROOT / "src" / "segport" / "exports"


def test_docs_list_every_declared_table() -> None:
    doc = (ROOT / "docs" / "exports.md").read_text(encoding="utf-8")
    section = doc.split("## What the state holds", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([\w.]+)` \|", section, re.M))
    assert listed == set(BY_NAME)


def test_no_module_declares_columns_of_a_state_table() -> None:
    ddl = re.compile(
        r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
        r"\S+\s*\(",
        re.I,
    )
    wrong = [
        path.name
        for path in EXPORTS.glob("*.py")
        if path.name != "state_tables.py" and ddl.search(path.read_text(encoding="utf-8"))
    ]
    assert not wrong


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every table and view there is now, named as the engine names them."""
    names = set()
    for database, name in con.execute(
        "SELECT database_name, table_name FROM duckdb_tables() "
        "UNION ALL SELECT database_name, view_name FROM duckdb_views() "
        "WHERE NOT internal"
    ).fetchall():
        names.add(f"scratch.{name}" if database == "scratch" else str(name))
    return names


def test_a_plan_makes_only_declared_tables(tmp_path: Path) -> None:
    seen: set[str] = set()
    with ExportState(tmp_path / "s.duckdb") as state:
        assert _tables(state.con) <= set(BY_NAME)
        for rows in ({1: ("a@x.io", "+3361", 1), 2: ("a@x.io", None, 2)}, {1: ("b@x.io", None, 1)}):
            reset_prepared(state, "cfg")
            staged, _ = stage_members(
                state,
                Members(rows),
                ["email", "phone", "updated"],
                batch_size=10,
                progress=lambda e: None,
                total=None,
            )
            changed = prepare_changed(state, staged, prepare, progress=lambda e: None)
            seen |= _tables(state.con)
            refresh_current(state, ["FIRSTNAME", "SMS"], changed=changed, members=staged)
            for tables in (REAL, DRY):
                build_plan(
                    state,
                    tables,
                    members=staged,
                    attribute_columns=["FIRSTNAME", "SMS"],
                    full=False,
                    mirror=True,
                    allow_mass_removal=True,
                )
                seen |= _tables(state.con)
    assert seen <= set(BY_NAME), seen - set(BY_NAME)
    assert {"prep_contacts", "cur", "plan_send", "scratch.dry_send"} <= seen


def test_an_old_state_gains_the_columns_added_since(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE held (email VARCHAR, customer_id VARCHAR, fp UHUGEINT)")
    con.execute("INSERT INTO held VALUES ('a@x.io', '1', 7)")
    con.close()
    with ExportState(path) as state:
        assert state.held_count() == 1 and not state.has_column(HELD, "mask")
        add_new_columns(state.con)
        assert state.columns(HELD) == ["email", "customer_id", "fp", "mask"]
    assert all(t.holds for t in TABLES)

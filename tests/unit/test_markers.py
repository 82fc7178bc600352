"""The `postgres` marker means what it says: `-m "not postgres"` leaves no test that
reaches PostgreSQL, through a fixture (at any depth) or a URL of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def _collect(tmp_path: Path, *args: str) -> list[dict[str, Any]]:
    """The whole suite collected in a child pytest, as tests/fixtures/marker_probe.py sees it."""
    out = tmp_path / "probe.json"
    # Collecting only: the child is not measured (coverage's subprocess hook would trace
    # the whole collection, doubling its time, for no line of segport's).
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    env["SEGPORT_MARKER_PROBE"] = str(out)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-p", "tests.fixtures.marker_probe", *args, "tests"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    items: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))
    return items


def test_not_postgres_leaves_nothing_that_reaches_postgresql(tmp_path: Path) -> None:
    items = _collect(tmp_path, "-m", "not postgres")
    assert [(i["nodeid"], i["reasons"]) for i in items if i["kept"] and i["reasons"]] == []
    # Deselected means marked, and nothing is marked without a reason (the marker is not
    # spread wider than PostgreSQL).
    assert all(i["marked"] != i["kept"] for i in items)
    assert [i["nodeid"] for i in items if i["marked"] and not i["reasons"]] == []
    # The probe does see each way in: the workspace's parameter, a test's own fixture, a
    # module-scoped one; the SQLite halves of the parametrised tests stay.
    deselected = [i["nodeid"] for i in items if not i["kept"]]
    assert any("[postgresql]" in n for n in deselected)
    assert any("test_cli_init_on_postgresql" in n for n in deselected)
    assert any("test_operators_both_stores" in n for n in deselected)
    assert any("[sqlite]" in i["nodeid"] for i in items if i["kept"])

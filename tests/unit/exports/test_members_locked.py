"""A profile store locked by a writer in another process gives a clear run error."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from segport.exports.errors import ExportRunError
from segport.exports.members import stage_members
from segport.exports.state import ExportState


class LockedSource:
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def id_column(self) -> str:
        return "id"

    def count(self) -> int:
        return 1

    def batches(self, columns: Sequence[str], batch_size: int) -> Iterator[pa.RecordBatch]:
        raise AssertionError("a DuckDB source is attached, not streamed")

    def duckdb_members(self, columns: Sequence[str], catalog: str) -> tuple[Path, str]:
        return self.path, f'SELECT "id", "email" FROM "{catalog}"."main"."people"'


def test_a_store_locked_by_a_writer_is_a_clear_error(tmp_path: Path) -> None:
    store = tmp_path / "profiles.duckdb"
    with duckdb.connect(str(store)) as con:
        con.execute("CREATE TABLE people AS SELECT 1 AS id, 'a@example.com' AS email")
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            # Holds the write lock until killed; says so on stdout once it has it.
            "import duckdb, time, sys; c = duckdb.connect(sys.argv[1]); "
            "print('locked', flush=True); time.sleep(60)",
            str(store),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        # readline returns when the writer prints, or at once if it died (EOF).
        assert writer.stdout.readline() == "locked\n", "the writer did not start"
        with ExportState(tmp_path / "state" / "export-1.duckdb") as state:
            with pytest.raises(ExportRunError, match="cannot read the profile store"):
                stage_members(
                    state,
                    LockedSource(store),
                    ["email"],
                    batch_size=100,
                    progress=lambda _e: None,
                    total=None,
                )
            # The state is usable afterwards: nothing stays attached.
            assert state.count("SELECT count(*) FROM duckdb_databases() WHERE NOT internal") == 2
    finally:
        writer.kill()
        writer.wait()

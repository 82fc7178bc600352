"""The export's state: one DuckDB file per export in the workspace's ``state/`` folder.

It holds what Brevo has from this export (``held``: per email, the fingerprint of the
contact we sent and the customer it came from), a cache of prepared contacts keyed by the
fingerprint of their raw profile values (so unchanged rows skip phone parsing), and the
current run's plan and chunk checkpoints. DuckDB gives set-based diffs of a million rows
in well under a second, and its file lock keeps two runs of one export apart. Every table
it can hold is declared in :mod:`segport.exports.state_tables`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import duckdb

from segport.exports.errors import StateBusy, StateDamaged
from segport.exports.fingerprint import quote_literal
from segport.exports.state_tables import HELD, META, create_file_tables

STATE_DIR = "state"
TOKEN = "state_token"  # meta key: {"token": the latest, "previous": the one before}


def _cheap_string_compression(con: duckdb.DuckDBPyConnection) -> None:
    """Compress strings with FSST only, instead of letting DuckDB try every method.

    Choosing a method per column segment is most of the cost of writing a million rows of
    text (about 2.7x the CPU of FSST alone, measured on the state's tables: bench/README.md);
    the file grows ~10 %. The setting is DuckDB's (documented as a debug setting): where a
    release lacks it, the default choice is kept.
    """
    with contextlib.suppress(duckdb.Error):
        con.execute("SET force_compression = 'fsst'")


def state_path(workspace_path: Path, export_id: int) -> Path:
    return workspace_path / STATE_DIR / f"export-{export_id}.duckdb"


def discard_state(workspace_path: Path, export_id: int) -> None:
    """Delete an export's state (its file and write-ahead log), if any.

    Called when an export is removed, and when one is created: a database may hand a new
    export the id of a removed one (SQLite does), and that export must not inherit what
    Brevo held from the old one, or it would skip contacts its own list never got.
    """
    path = state_path(workspace_path, export_id)
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def peek_state(path: Path, keys: Sequence[str]) -> tuple[int, dict[str, Any]]:
    """Read a state without opening it for writing (a run may hold it): how many contacts
    it holds and the meta values of ``keys`` it has. Raises ``duckdb.Error`` when the file
    is locked or cannot be read."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        marks = ", ".join("?" for _ in keys) or "NULL"
        meta = {
            str(k): json.loads(v)
            for k, v in con.execute(
                f"SELECT key, value FROM {META} WHERE key IN ({marks})", list(keys)
            ).fetchall()
        }
        held = con.execute(f"SELECT count(*) FROM {HELD}").fetchall()
    finally:
        con.close()
    return int(held[0][0]), meta


class StateSink(Protocol):
    """Told of a run's checkpoints as they are made, to keep a copy elsewhere (the service
    layer's ``state_copies``: workers on other machines resume from it exactly)."""

    def planned(self, state: ExportState) -> None:
        """The run's plan is saved; nothing of it is sent yet."""

    def checkpointed(self, state: ExportState) -> None:
        """The run's chunk checkpoints changed (committed); called before anything the new
        checkpoint announces is sent."""


class ExportState:
    """An open export state; use as a context manager, or call :meth:`close`."""

    def __init__(self, path: Path, *, memory_limit: str = "160MB") -> None:
        self.path = path
        self.sink: StateSink | None = None  # set by the run's executor, when it keeps copies
        self._reader: int | None = None  # see read_parts
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / "tmp"
        try:
            self.con = duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StateBusy(
                    "another run of this export is in progress (its state file is locked: "
                    f"{path}); wait for it to end, or end that process"
                ) from exc
            raise StateDamaged(f"cannot open the export state {path}: {exc}") from exc
        except duckdb.Error as exc:
            raise StateDamaged(f"cannot read the export state {path}: {exc}") from exc
        # Bounded memory: DuckDB spills to disk beyond the limit instead of growing.
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        # Quoted: a workspace folder may be named "it's here".
        self.con.execute(f"SET temp_directory = {quote_literal(tmp.as_posix())}")
        # Row order comes from explicit sequence numbers, so DuckDB need not keep it (which
        # costs memory in large CREATE TABLE AS statements).
        self.con.execute("SET preserve_insertion_order = false")
        _cheap_string_compression(self.con)
        # Commits are durable in the write-ahead log; folding it into the file at every
        # close would rewrite the row groups a small run touched (~0.1-0.2 s). DuckDB
        # folds it when it passes its threshold (16 MiB), and replays it on open.
        with contextlib.suppress(duckdb.Error):
            self.con.execute("PRAGMA disable_checkpoint_on_shutdown")
        # In UTC, as the profile store's sessions are: the members query runs here too.
        self.con.execute("SET TimeZone = 'UTC'")
        create_file_tables(self.con)  # (every table the state can hold: state_tables)
        # Scratch tables of one run (staged members, dry-run plans) live in memory (spilling
        # to temp_directory past the limit): they need no durability, and writing them to
        # the file would cost more than computing them.
        self.con.execute("ATTACH ':memory:' AS scratch")

    def __enter__(self) -> ExportState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()
        if self._reader is not None:  # only now: see read_parts
            os.close(self._reader)
            self._reader = None

    def read_parts(self, size: int) -> Iterator[bytes]:
        """The file's bytes, ``size`` at a time (after a ``CHECKPOINT``, the whole state).

        Read through one descriptor kept open until :meth:`close`: closing any descriptor
        of a file drops every POSIX lock the process holds on it, DuckDB's included, and
        this file's lock is what keeps a second process out while a run holds the state.
        """
        if self._reader is None:
            self._reader = os.open(self.path, os.O_RDONLY)
        offset = 0
        while data := os.pread(self._reader, size, offset):
            yield data
            offset += len(data)

    def note_planned(self) -> None:
        if self.sink is not None:
            self.sink.planned(self)

    def note_checkpoint(self) -> None:
        if self.sink is not None:
            self.sink.checkpointed(self)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction on the state: committed when the block ends, rolled back when
        anything (a signal included) leaves it, so a checkpoint is all or nothing."""
        self.con.execute("BEGIN")
        try:
            yield
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    # -- meta -----------------------------------------------------------------------------

    def get(self, key: str) -> Any:
        rows = self.con.execute(f"SELECT value FROM {META} WHERE key = ?", [key]).fetchall()
        return json.loads(rows[0][0]) if rows else None

    def set(self, key: str, value: Any) -> None:
        self.con.execute(
            f"INSERT OR REPLACE INTO {META} VALUES (?, ?)", [key, json.dumps(value, sort_keys=True)]
        )

    def delete(self, key: str) -> None:
        self.con.execute(f"DELETE FROM {META} WHERE key = ?", [key])

    def table_exists(self, name: str) -> bool:
        rows = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
            [name],
        ).fetchall()
        return bool(rows and rows[0][0])

    def relation_kind(self, name: str) -> str | None:
        """ "TABLE" or "VIEW" when ``name`` (optionally ``schema.name``) exists, else None."""
        database, _, table = name.rpartition(".")
        rows = self.con.execute(
            """SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = ? AND NOT temporary
            AND (? = '' OR database_name = ?)
            UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE view_name = ? AND NOT internal
            AND NOT temporary AND (? = '' OR database_name = ?)""",
            [table, database, database, table, database, database],
        ).fetchall()
        return str(rows[0][0]) if rows else None

    def columns(self, name: str) -> list[str]:
        """The columns of the table or view ``name`` (optionally ``scratch.name``), in
        order; none when it does not exist. Tables made by CREATE TABLE AS, and states
        written by earlier releases, have the columns they were made with."""
        database, _, table = name.rpartition(".")
        rows = self.con.execute(
            """SELECT column_name FROM duckdb_columns() WHERE table_name = ?
            AND schema_name = 'main' AND database_name <> 'temp'
            AND (? = '' OR database_name = ?) ORDER BY column_index""",
            [table, database, database],
        ).fetchall()
        return [str(r[0]) for r in rows]

    def has_column(self, name: str, column: str) -> bool:
        return column in self.columns(name)

    def count(self, sql: str, params: list[Any] | None = None) -> int:
        # fetchall, not fetchone: an unfinished result would block the connection.
        rows = self.con.execute(sql, params or []).fetchall()
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def held_count(self) -> int:
        return self.count(f"SELECT count(*) FROM {HELD}")

    def is_empty(self) -> bool:
        """Nothing recorded: no contact held, no token (a new or emptied state)."""
        return not self.held_count() and self.get(TOKEN) is None

    def forget_fingerprints(self, emails_sql: str) -> None:
        """Mark the held contacts whose email ``emails_sql`` selects as not known: Brevo may
        hold other values for them (the next run sends them again)."""
        unknown = "fp = NULL"
        if self.has_column(HELD, "mask"):
            unknown += ", mask = NULL"  # (which columns hold a value: not known either)
        self.con.execute(f"UPDATE {HELD} SET {unknown} WHERE email IN ({emails_sql})")

    # -- the state's token --------------------------------------------------------------

    def token_matches(self, expected: str | None) -> bool:
        """Whether this state is the one the metadata last recorded (``expected``).

        The state is written first, so one a crash left a token ahead of the metadata
        (``previous`` matches) is newer, not older. None expected: nothing to compare.
        """
        if expected is None:
            return True
        mine = self.get(TOKEN)
        return isinstance(mine, dict) and expected in (mine.get("token"), mine.get("previous"))

    def new_token(self) -> str:
        """Record a fresh token (the caller writes it to the metadata next) and return it."""
        mine = self.get(TOKEN)
        previous = mine.get("token") if isinstance(mine, dict) else None
        token = secrets.token_hex(16)
        self.set(TOKEN, {"token": token, "previous": previous})
        return token

    # -- rebuilding ---------------------------------------------------------------------

    def hold_unknown(self, emails: Iterable[list[str]]) -> int:
        """Record each email (batches of them) as held with an unknown fingerprint, so the
        next run sends its values again and a mirror export owns it. Returns how many."""
        import pyarrow as pa

        for batch in emails:
            if not batch:
                continue
            self.con.register("__emails", pa.table({"email": pa.array(batch, pa.string())}))
            try:
                self.con.execute(
                    f"""INSERT INTO {HELD} (email, customer_id, fp)
                    SELECT DISTINCT lower(trim(e.email)), NULL, NULL
                    FROM __emails e WHERE nullif(trim(e.email), '') IS NOT NULL
                    AND lower(trim(e.email)) NOT IN (SELECT email FROM {HELD})"""
                )
            finally:
                self.con.unregister("__emails")
        return self.held_count()

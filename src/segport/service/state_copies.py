"""Each export's state shared through the metadata database, when that is PostgreSQL.

A run of any export may execute on any worker, on any machine (issue 12), so what the
state holds (what Brevo has from the export, the checkpoints its last run left) cannot
live only in one machine's ``state/`` folder. With PostgreSQL metadata:

- at the end of every real run (whatever its outcome), the run's state file is folded
  into one self-contained file (DuckDB ``CHECKPOINT``) and saved in ``export_state_parts``,
  in parts, together with its token, in the **same transaction** that records the token
  in ``exports.state_token``: the metadata never names a state the database lacks;
- before a run (or a dry run, or a rebuild) opens the state, the local file is used when
  it is the one the metadata names (a cache hit: the last run of the export ran here);
  otherwise the copy is fetched into ``state/`` first, part by part, its size and
  SHA-256 checked, and swapped in whole;
- the states of the other exports on the same list are fetched the same way, because a
  mirror export reads them before removing anyone.

On SQLite metadata (one machine) nothing changes: the folder is the state's home.

What a run recovered on another machine resumes from: the copy its export's previous run
saved. What the lost run sent after that is not in the copy; the next run sends it again
(Brevo's import updates a contact with the same values, so the list ends exact) and counts
it as sent again. A run that ends (successful, failed, canceled, handed back by a stopping
worker) saves its own checkpoints, so the next run, on any machine, resumes exactly.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select

from segport.exports.state import TOKEN, ExportState, peek_state, state_path
from segport.service.models import Export, utcnow
from segport.service.state_copy_model import PART_BYTES, ExportStateCopy, ExportStatePart
from segport.service.workspace import Workspace

__all__ = [
    "CopyInfo",
    "copy_info",
    "fetch_state",
    "fetch_states",
    "save_state",
    "shared_states",
]


def shared_states(ws: Workspace) -> bool:
    """Whether the workspace's states are shared through its metadata database."""
    return ws.engine.dialect.name == "postgresql"


@dataclass(frozen=True)
class CopyInfo:
    """The database's copy of an export's state, as ``doctor`` and tests see it."""

    token: str
    bytes: int
    saved_by: str


def copy_info(ws: Workspace, export_id: int) -> CopyInfo | None:
    with ws.session() as session:
        row = session.get(ExportStateCopy, export_id)
        return None if row is None else CopyInfo(row.token, row.bytes, row.saved_by)


def save_state(ws: Workspace, state: ExportState, export_id: int, token: str) -> None:
    """Record ``token`` (just written into ``state``) in the metadata; with shared states,
    save the state's file with it, in one transaction."""
    if not shared_states(ws):
        with ws.session() as session:
            export = session.get(Export, export_id)
            if export is not None:
                export.state_token = token
        return
    _fold(state)
    save_file(ws, state.path, export_id, token)


def save_file(ws: Workspace, path: Path, export_id: int, token: str) -> None:
    """Save the self-contained state file at ``path`` as the export's copy, and ``token``
    as the export's state token, in one transaction (shared states only)."""
    digest = hashlib.sha256()
    size = parts = 0
    with ws.session() as session:
        # Two savers of one export (a run ending, a rebuild) take turns here.
        session.execute(select(Export.id).where(Export.id == export_id).with_for_update())
        export = session.get(Export, export_id)
        if export is None:
            return  # removed meanwhile: its state goes with it
        session.execute(delete(ExportStatePart).where(ExportStatePart.export_id == export_id))
        codec = _codec()
        for data in _read_parts(path):  # one part at a time: never the whole file in memory
            digest.update(data)
            session.execute(
                insert(ExportStatePart).values(
                    export_id=export_id,
                    part_no=parts,
                    raw_bytes=len(data),
                    data=codec.compress(data, asbytes=True),
                )
            )
            size += len(data)
            parts += 1
        export.state_token = token
        row = session.get(ExportStateCopy, export_id)
        if row is None:
            row = ExportStateCopy(export_id=export_id)
            session.add(row)
        row.token, row.bytes, row.parts = token, size, parts
        row.sha256, row.saved_at = digest.hexdigest(), utcnow()
        row.saved_by = f"{socket.gethostname()}:{os.getpid()}"  # as runs.claimed_by


def fetch_states(ws: Workspace, export_ids: Iterable[int]) -> None:
    """Make each export's local state the one its metadata names, fetching copies as
    needed (shared states only; a no-op on one machine)."""
    if not shared_states(ws):
        return
    for export_id in export_ids:
        fetch_state(ws, export_id)


def fetch_state(ws: Workspace, export_id: int) -> bool:
    """Fetch the export's copy into ``state/`` unless the local file is the one the
    metadata names (or newer: see ``ExportState.token_matches``). True when fetched.

    A local file in use (locked by a run here) is left alone: opening it says so. No copy,
    or one that is not the metadata's, leaves the local file too: opening it then refuses
    it as lost, with the ways back.
    """
    if not shared_states(ws):
        return False
    with ws.session() as session:
        export = session.get(Export, export_id)
        expected = export.state_token if export is not None else None
        row = session.get(ExportStateCopy, export_id)
        copy = None if row is None else (row.token, row.bytes, row.parts, row.sha256)
    if expected is None or copy is None or copy[0] != expected:
        return False
    path = state_path(ws.path, export_id)
    if _local_matches(path, expected):
        return False
    _download(ws, export_id, path, *copy[1:])
    return True


def _local_matches(path: Path, expected: str) -> bool:
    import duckdb

    if not path.exists():
        return False
    try:
        _, meta = peek_state(path, [TOKEN])
    except duckdb.Error as exc:
        # In use by a run here: leave it (its run holds the newest state). Unreadable:
        # the copy replaces it.
        return "lock" in str(exc).lower()
    mine = meta.get(TOKEN)
    return isinstance(mine, dict) and expected in (mine.get("token"), mine.get("previous"))


def _download(ws: Workspace, export_id: int, path: Path, size: int, parts: int, sha: str) -> None:
    from segport.exports.errors import StateDamaged

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".fetching")
    digest = hashlib.sha256()
    got = 0
    codec = _codec()
    with open(partial, "wb") as out:
        for part_no in range(parts):
            with ws.session() as session:
                row = session.execute(
                    select(ExportStatePart.raw_bytes, ExportStatePart.data).where(
                        ExportStatePart.export_id == export_id, ExportStatePart.part_no == part_no
                    )
                ).first()
            if row is None:
                break
            try:
                data = codec.decompress(row.data, decompressed_size=row.raw_bytes, asbytes=True)
            except Exception:  # (pyarrow's error for a damaged frame)
                break
            digest.update(data)
            out.write(data)
            got += len(data)
        out.flush()
        os.fsync(out.fileno())
    if got != size or digest.hexdigest() != sha:
        partial.unlink(missing_ok=True)
        raise StateDamaged(
            f"the database's copy of the state of export id {export_id} is incomplete or "
            f"changed while it was read ({got:,} of {size:,} bytes); run again"
        )
    # The copy is self-contained: a write-ahead log left beside the old file must not be
    # replayed onto it.
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    os.replace(partial, path)


def _fold(state: ExportState) -> None:
    """Fold the write-ahead log into the file, so the file alone is the state."""
    import duckdb

    try:
        state.con.execute("CHECKPOINT")
    except duckdb.Error:
        # (A transaction left open by an interrupted statement blocks a plain checkpoint.)
        with contextlib.suppress(duckdb.Error):
            state.con.execute("ROLLBACK")
        state.con.execute("FORCE CHECKPOINT")


def _codec() -> Any:
    import pyarrow as pa  # (the engine's dependency already: no new library for this)

    return pa.Codec("zstd", compression_level=1)


def _read_parts(path: Path) -> Iterable[bytes]:
    with open(path, "rb") as f:
        while data := f.read(PART_BYTES):
            yield data

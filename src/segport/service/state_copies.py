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
import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from segport.exports.state import TOKEN, ExportState, peek_state, state_path
from segport.service.models import Export, utcnow
from segport.service.state_copy_model import PART_BYTES, ExportStateCopy, ExportStatePart
from segport.service.workspace import Workspace

__all__ = [
    "CopyInfo",
    "copy_info",
    "fetch_state",
    "fetch_states",
    "lay_checkpoints",
    "save_file",
    "save_open_state",
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
    parts: int
    parts_written: int  # by the last save (the others were unchanged)


def copy_info(ws: Workspace, export_id: int) -> CopyInfo | None:
    with ws.session() as session:
        row = session.get(ExportStateCopy, export_id)
        if row is None:
            return None
        return CopyInfo(row.token, row.bytes, row.saved_by, row.parts, row.parts_written)


def save_state(ws: Workspace, state: ExportState, export_id: int, token: str) -> None:
    """Record ``token`` (just written into ``state``) in the metadata; with shared states,
    save the state's file with it, in one transaction."""
    if not shared_states(ws):
        with ws.session() as session:
            export = session.get(Export, export_id)
            if export is not None:
                export.state_token = token
        return
    save_open_state(ws, state, export_id, token)


def save_open_state(
    ws: Workspace,
    state: ExportState,
    export_id: int,
    token: str,
    *,
    plan_run_id: int | None = None,
) -> None:
    """Save a state open in this process: its write-ahead log folded into the file, then
    read through the state's own descriptor (its lock stays)."""
    fold(state)
    content = state.read_parts(PART_BYTES)
    save_file(ws, state.path, export_id, token, plan_run_id=plan_run_id, content=content)


def save_file(
    ws: Workspace,
    path: Path,
    export_id: int,
    token: str,
    *,
    plan_run_id: int | None = None,
    content: Iterable[bytes] | None = None,
) -> None:
    """Save the self-contained state file at ``path`` as the export's copy, and ``token``
    as the export's state token, in one transaction (shared states only). A state open
    in this process gives its ``content`` (``ExportState.read_parts``): opening and closing
    the file here would drop its lock.

    Only the parts whose content changed since the copy before are written: a run that
    changed a few contacts rewrites a few of DuckDB's blocks, and the rest of the file
    (most of it) stays where it is in the database.
    """
    digest = hashlib.sha256()
    size = parts = written = 0
    with ws.session() as session:
        # Two savers of one export (a run ending, a rebuild) take turns here.
        session.execute(select(Export.id).where(Export.id == export_id).with_for_update())
        export = session.get(Export, export_id)
        if export is None:
            return  # removed meanwhile: its state goes with it
        held = _part_hashes(session, export_id)
        codec = _codec()
        # One part at a time: never the whole file in memory. ``content``: read from an
        # open state (ExportState.read_parts, which keeps its lock); else the file is closed.
        for data in content if content is not None else _read_parts(path):
            digest.update(data)
            part_sha = hashlib.sha256(data).hexdigest()
            if held.get(parts) != part_sha:
                if parts in held:
                    session.execute(
                        delete(ExportStatePart).where(
                            ExportStatePart.export_id == export_id,
                            ExportStatePart.part_no == parts,
                        )
                    )
                session.execute(
                    insert(ExportStatePart).values(
                        export_id=export_id,
                        part_no=parts,
                        raw_bytes=len(data),
                        sha256=part_sha,
                        data=codec.compress(data, asbytes=True),
                    )
                )
                written += 1
            size += len(data)
            parts += 1
        session.execute(
            delete(ExportStatePart).where(
                ExportStatePart.export_id == export_id, ExportStatePart.part_no >= parts
            )
        )
        if plan_run_id is None or export.state_token is None:
            export.state_token = token  # (a plan's copy keeps the token the metadata names)
        row = session.get(ExportStateCopy, export_id)
        if row is None:
            row = ExportStateCopy(export_id=export_id)
            session.add(row)
        row.token, row.bytes, row.parts, row.parts_written = token, size, parts, written
        row.sha256, row.saved_at = digest.hexdigest(), utcnow()
        row.saved_by = f"{socket.gethostname()}:{os.getpid()}"  # as runs.claimed_by
        row.plan_run_id = plan_run_id
        row.checkpoints = "[]" if plan_run_id is not None else None
    marker = _marker(path)
    if plan_run_id is None:
        marker.unlink(missing_ok=True)
    else:  # this folder's file is where the copy came from: ahead of it, never replaced
        marker.write_text(json.dumps({"sha256": digest.hexdigest(), "origin": True}))


def _part_hashes(session: Session, export_id: int) -> dict[int, str]:
    """The SHA-256 of each part of the export's copy, by part number."""
    rows = session.execute(
        select(ExportStatePart.part_no, ExportStatePart.sha256).where(
            ExportStatePart.export_id == export_id
        )
    )
    return {int(no): str(sha) for no, sha in rows}


def fetch_states(ws: Workspace, export_ids: Iterable[int]) -> None:
    """Make each export's local state the one its metadata names, fetching copies as
    needed (shared states only; a no-op on one machine)."""
    if not shared_states(ws):
        return
    for export_id in export_ids:
        fetch_state(ws, export_id)


def fetch_state(ws: Workspace, export_id: int) -> int | None:
    """Fetch the export's copy into ``state/`` unless the local file is the one the
    metadata names (or newer: see ``ExportState.token_matches``). Returns how many parts
    were fetched (the others were the local file's), None when nothing was done.

    A local file in use (locked by a run here) is left alone: opening it says so. No copy,
    or one that is not the metadata's, leaves the local file too: opening it then refuses
    it as lost, with the ways back.
    """
    if not shared_states(ws):
        return None
    with ws.session() as session:
        export = session.get(Export, export_id)
        expected = export.state_token if export is not None else None
        row = session.get(ExportStateCopy, export_id)
        copy = None if row is None else (row.token, row.bytes, row.parts, row.sha256)
        plan = None if row is None else (row.plan_run_id, row.checkpoints)
    if expected is None or copy is None or copy[0] != expected:
        return None
    path = state_path(ws.path, export_id)
    if _local_matches(path, expected) and _marker_matches(path, copy[3], plan and plan[1]):
        return None
    fetched = _download(ws, export_id, path, *copy[1:])
    if plan is not None and plan[0] is not None:
        # A run's plan copy: that run went on elsewhere (and may be lost); its checkpoints
        # since are laid over the copy, so the run that settles it knows what Brevo took.
        lay_checkpoints(path, int(plan[0]), plan[1] or "[]")
        _marker(path).write_text(json.dumps({"sha256": copy[3], "checkpoints": _digest(plan[1])}))
    else:
        _marker(path).unlink(missing_ok=True)
    return fetched


def _marker(path: Path) -> Path:
    """Beside a state fetched or saved as a run's plan copy: which copy (and checkpoints)
    it is, since such copies keep the token of the state before the run."""
    return path.with_name(path.name + ".copy")


def _digest(text: str | None) -> str:
    return hashlib.sha256((text or "").encode()).hexdigest()


def _marker_matches(path: Path, sha: str, checkpoints: str | None) -> bool:
    """Whether the local file is already what the database's copy gives: always for a
    copy saved at a run's end (the token says it); for a run's plan copy, when the file
    is that copy's origin, or was fetched from it with the same checkpoints."""
    if checkpoints is None:
        return True
    try:
        mark = json.loads(_marker(path).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(mark, dict) or mark.get("sha256") != sha:
        return False
    return bool(mark.get("origin")) or mark.get("checkpoints") == _digest(checkpoints)


def lay_checkpoints(path: Path, run_id: int, checkpoints: str) -> None:
    """Lay a lost run's checkpoints (as its executor recorded them in the database) over
    its plan copy at ``path``.

    Import chunks go back as they were, except that ``done`` becomes ``submitted``: the
    copy predates the held contacts those chunks recorded, and settling a submitted chunk
    (Brevo's process report, as after a crash here) records them again. Removal batches
    are laid with the held contacts they cleared.
    """
    from segport.exports.plan import REAL
    from segport.exports.state_tables import CHUNKS, HELD

    rows = json.loads(checkpoints)
    with ExportState(path) as state, state.transaction():
        con = state.con
        con.execute(f"DELETE FROM {CHUNKS} WHERE run_id = ?", [run_id])
        removal = state.relation_kind(REAL.remove) is not None
        for r in rows:
            status = r["status"]
            if r["kind"] == "import" and status == "done":
                status = "submitted"
            con.execute(
                f"INSERT INTO {CHUNKS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id, r["kind"], r["chunk_no"], r["first_seq"], r["last_seq"],
                    r["rows"], r["bytes"], status, r["process_id"],
                ],
            )  # fmt: skip
            if r["kind"] == "remove" and removal:
                con.execute(
                    f"DELETE FROM {HELD} WHERE email IN (SELECT email FROM {REAL.remove} "
                    "WHERE __seq BETWEEN ? AND ?)",
                    [r["first_seq"], r["last_seq"]],
                )


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


def _download(ws: Workspace, export_id: int, path: Path, size: int, parts: int, sha: str) -> int:
    """Write the copy to ``path``, taking from the local file (an older state of the
    export, if any) every part that is the same, and fetching the others. Returns how
    many parts were fetched."""
    from segport.exports.errors import StateDamaged

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".fetching")
    with ws.session() as session:
        wanted = _part_hashes(session, export_id)
    digest = hashlib.sha256()
    got = fetched = 0
    codec = _codec()
    old = open(path, "rb") if path.exists() else None  # noqa: SIM115 (closed below)
    try:
        with open(partial, "wb") as out:
            for part_no in range(parts):
                data: bytes | None = old.read(PART_BYTES) if old is not None else b""
                if not data or hashlib.sha256(data).hexdigest() != wanted.get(part_no):
                    data = _fetch_part(ws, codec, export_id, part_no)
                    fetched += 1
                if data is None:
                    break
                digest.update(data)
                out.write(data)
                got += len(data)
            out.flush()
            os.fsync(out.fileno())
    finally:
        if old is not None:
            old.close()
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
    return fetched


def _fetch_part(ws: Workspace, codec: Any, export_id: int, part_no: int) -> bytes | None:
    with ws.session() as session:
        row = session.execute(
            select(ExportStatePart.raw_bytes, ExportStatePart.data).where(
                ExportStatePart.export_id == export_id, ExportStatePart.part_no == part_no
            )
        ).first()
    if row is None:
        return None
    try:
        data: bytes = codec.decompress(row.data, decompressed_size=row.raw_bytes, asbytes=True)
    except Exception:  # (pyarrow's error for a damaged frame)
        return None
    return data


def fold(state: ExportState) -> None:
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

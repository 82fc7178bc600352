"""An export's state file held against the metadata, and rebuilt from Brevo when lost.

After every real run the state and the metadata (``exports.state_token``) get the same fresh
token. A state whose token is not the metadata's was lost (deleted, its write-ahead log
gone), cut short, or put back from an older backup: it no longer knows every contact the
list holds from this export, so a run from it would send everything again and a mirror
export would forget the contacts it owns. Such a run stops and says how to get back:
restore a newer copy, or rebuild the state from the list's members in Brevo.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from segport.exports.errors import StateDamaged, StateLost
from segport.exports.progress import Progress, ProgressCallback, no_progress
from segport.exports.state import ExportState, state_path
from segport.service import audit
from segport.service.access import Action, Actor, authorize
from segport.service.export_configs import get_run_spec
from segport.service.list_sharing import list_peers
from segport.service.models import Export
from segport.service.state_copies import fetch_states, save_file, save_state, shared_states
from segport.service.workspace import Workspace

ASIDE = ".before-rebuild"  # suffix of the state a rebuild replaced
READ_BATCH = 10_000


def ways_back(export_name: str, path: Path) -> str:
    return (
        f"Ways back: put back a copy of {path} (with its .wal file, if any) taken after the "
        f"export's last run, or rebuild the state of export {export_name!r} from the Brevo "
        "list's members (the next run then sends every member's values again, and a mirror "
        "export owns every contact of the list)"
    )


@contextmanager
def open_checked(
    ws: Workspace, export_name: str, export_id: int, *, had_success: bool = False
) -> Iterator[ExportState]:
    """The export's state, refused when unreadable or not the one its last run left.

    ``had_success``: the export has had a successful run. Without a token in the metadata
    (its runs all predate tokens), an empty state is then refused too.
    """
    path = state_path(ws.path, export_id)
    # Shared states: this export's, and those of the exports on its list (a mirror export
    # reads them before removing anyone), made the ones the metadata names.
    fetch_states(ws, [export_id, *_list_peer_ids(ws, export_id)])
    try:
        state = ExportState(path)
    except StateDamaged as exc:
        raise StateDamaged(
            f"{exc}. {ways_back(export_name, path)}", details={"export": export_name}
        ) from exc
    try:
        with ws.session() as session:
            export = session.get(Export, export_id)
            expected = export.state_token if export is not None else None
            last = export.last_run_at if export is not None else None
        legacy_lost = expected is None and had_success and state.is_empty()
        if legacy_lost or not state.token_matches(expected):
            since = f" (on {last:%Y-%m-%d %H:%M} UTC)" if last is not None else ""
            raise StateLost(
                f"the state of export {export_name!r} ({path}) is missing, cut short or "
                f"not the one the export's last run{since} left (put back from an older "
                "copy?): it may not know every contact the list holds from this export, "
                "so a run would send everything again and a mirror export would forget "
                f"the contacts it owns. {ways_back(export_name, path)}",
                details={"export": export_name},
            )
        yield state
    finally:
        state.close()


def record_token(ws: Workspace, state: ExportState, export_id: int) -> None:
    """Give the state and the metadata a fresh token, the state first (see token_matches);
    with shared states, the state's copy is saved with it (:mod:`state_copies`)."""
    save_state(ws, state, export_id, state.new_token())


def _list_peer_ids(ws: Workspace, export_id: int) -> list[int]:
    if not shared_states(ws):
        return []
    with ws.session() as session:
        export = session.get(Export, export_id)
        if export is None or export.connection is None:
            return []
        return [e.id for e in list_peers(session, export.connection, export.list_id, export_id)]


@dataclass(frozen=True)
class Rebuilt:
    export_name: str
    list_id: int
    held: int
    path: Path
    aside: Path | None  # where the replaced state went, if there was one


def rebuild_state(
    ws: Workspace,
    actor: Actor,
    export_name: str,
    *,
    progress: ProgressCallback = no_progress,
) -> Rebuilt:
    """Rebuild the export's state from its Brevo list's members.

    Every member becomes held with an unknown fingerprint: the next run sends the values of
    those in the segments again, and a mirror export removes the others. The prepared
    contacts cache starts empty. The replaced state (if any) is kept beside it with the
    suffix ``.before-rebuild``.
    """

    actor = authorize(ws, actor, Action.EXPORTS_RUN)
    spec = get_run_spec(ws, actor, export_name)
    conn = spec.credentials
    path = state_path(ws.path, spec.export_id)
    fresh = path.with_name(path.name + ".rebuilding")
    for leftover in (fresh, _wal(fresh)):
        leftover.unlink(missing_ok=True)
    # Holding the old state's lock keeps runs of this export out while we read Brevo.
    try:
        old: ExportState | None = ExportState(path)
    except StateDamaged:
        old = None  # unreadable: no run can use it either
    try:
        client = conn.client()
        with client, ExportState(fresh) as state:
            total = client.list_contacts(spec.config.list_id, limit=1).count
            seen = 0

            def batches() -> Iterator[list[str]]:
                nonlocal seen
                batch: list[str] = []
                for contact in client.iter_list_contacts(spec.config.list_id):
                    seen += 1
                    if contact.email:
                        batch.append(contact.email)
                    if len(batch) >= READ_BATCH:
                        yield batch
                        batch = []
                    progress(Progress("read", seen, total, unit="contacts"))
                yield batch

            held = state.hold_unknown(batches())
            token = state.new_token()
            state.con.execute("CHECKPOINT")  # one self-contained file, no write-ahead log
    finally:
        if old is not None:
            old.close()
    aside: Path | None = None
    if path.exists():
        aside = path.with_name(path.name + ASIDE)
        os.replace(path, aside)
    if _wal(path).exists():
        os.replace(_wal(path), _wal(path.with_name(path.name + ASIDE)))
    else:
        _wal(path.with_name(path.name + ASIDE)).unlink(missing_ok=True)
    os.replace(fresh, path)
    if _wal(fresh).exists():
        os.replace(_wal(fresh), _wal(path))
    if shared_states(ws):  # the copy and the token in one transaction, as after a run
        save_file(ws, path, spec.export_id, token)
    with ws.session() as session:
        export = session.get(Export, spec.export_id)
        if export is not None:
            export.state_token = token
        audit.record(
            session,
            actor,
            "exports.rebuild_state",
            export_name,
            {"list_id": spec.config.list_id, "held": held, "replaced": aside is not None},
        )
    return Rebuilt(export_name, spec.config.list_id, held, path, aside)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")

"""Runs of exports: the service every face calls to run an export and to list its runs.

A real run is requested (a ``queued`` record, committed; the database refuses a second
unfinished run of the export), claimed by this process (``processing``, with a heartbeat
thread that also notices `segport runs cancel`), executed by the engine
(:mod:`segport.exports`) on the export's state, and ends ``successful``, ``failed``,
``skipped`` or ``canceled`` with a reason code (:mod:`segport.service.run_model`). A run
whose process died on this host is continued by the next request (the engine resumes from
the state's checkpoints); one whose heartbeat expired is ended ``worker_lost`` by
:func:`~segport.service.run_lifecycle.recover_runs`, and the next run resumes from the
state just the same. The state's file lock stays as a second guard. A dry run records
nothing.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from segport.errors import Invalid
from segport.exports.engine import MAX_CHUNK_BYTES, MIN_CHUNK_BYTES, RunOptions, execute_run
from segport.exports.errors import RunCanceled, RunTerminated, StateBusy, StateDamaged, StateLost
from segport.exports.progress import Progress, ProgressCallback, no_progress
from segport.exports.stop import stop_requested
from segport.exports.summary import CANCELED, FAILED, SKIPPED, RunSummary
from segport.exports.target import ExportTarget
from segport.service.access import Action, Actor, authorize
from segport.service.export_configs import (
    ExportNotFound,
    ExportNotRunnable,
    get_run_spec,
)
from segport.service.export_state import open_checked, record_token
from segport.service.models import Export
from segport.service.run_checkpoints import RunCheckpoints
from segport.service.run_endings import canceled_message, finish_run, record_end, summary_of
from segport.service.run_lifecycle import (
    Heartbeat,
    RunInProgress,
    claim_run,
    export_id_of,
    insert_run,
    recover_runs,
    take_over_run,
    this_worker,
    unfinished_run,
)
from segport.service.run_model import (
    CONNECTION_UNUSABLE,
    ERROR,
    INTERRUPTED,
    NO_CONNECTION,
    RUNS_DIR,
    STATE_LOST,
    STATUSES,
    UNFINISHED,
    Run,
    RunView,
    find_run,
    run_view,
)
from segport.service.segment_members import SegmentMembers
from segport.service.state_copies import shared_states
from segport.service.workspace import Workspace, WorkspaceError

__all__ = [
    "RUNS_DIR",
    "STATUSES",
    "UNFINISHED",
    "Progress",
    "Run",
    "RunOptions",
    "RunSummary",
    "RunView",
    "SegmentMembers",
    "check_chunk_bytes",
    "execute_requested",
    "get_run",
    "list_runs",
    "run_export",
]


def check_chunk_bytes(max_bytes: int) -> None:
    """Refuse a chunk size Brevo would refuse (or that would make absurdly many chunks)."""
    if not MIN_CHUNK_BYTES <= max_bytes <= MAX_CHUNK_BYTES:
        raise Invalid(
            f"the largest import request of {max_bytes:,} bytes is out of range: give "
            f"{MIN_CHUNK_BYTES:,} to {MAX_CHUNK_BYTES:,} (Brevo refuses bodies over 10 MB "
            "and advises about 8 MB)",
            field="chunk_bytes",
        )


def run_export(
    ws: Workspace,
    actor: Actor,
    export_name: str,
    *,
    full: bool = False,
    dry_run: bool = False,
    allow_mass_removal: bool = False,
    progress: ProgressCallback | None = None,
    trigger: str = "manual",
    options: RunOptions | None = None,
) -> RunSummary:
    """Run an export now: request, claim and execute a run (or, with ``dry_run``, say what
    a run would do, sending nothing and recording nothing).

    Raises Forbidden / ExportNotFound / Invalid (``chunk_bytes``) for the caller to show;
    RunInProgress when the export has a run queued or processing; StateBusy when something
    else holds its state. Every other outcome is a recorded run whose summary says what
    happened (a run canceled with `runs cancel` too; Ctrl-C and SIGTERM re-raise).
    """
    actor = authorize(ws, actor, Action.EXPORTS_RUN)
    opts = RunOptions(
        **{
            **(options.__dict__ if options else {}),
            "full": full,
            "dry_run": dry_run,
            "allow_mass_removal": allow_mass_removal,
        }
    )
    check_chunk_bytes(opts.max_bytes)
    try:
        spec = get_run_spec(ws, actor, export_name)
    except ExportNotRunnable as exc:
        return _not_runnable(ws, actor, export_name, exc, trigger, opts)
    target = spec.target
    if dry_run:
        with ws.session() as session:
            had_success = _had_success(session, target.export_id)
        with open_checked(ws, export_name, target.export_id, had_success=had_success) as state:
            return _execute(ws, spec, target, state, None, None, opts, progress or no_progress)
    worker = this_worker()
    run_id, taken_over = _request_and_claim(ws, actor, target, trigger, opts, worker)
    if run_id is None:  # canceled between its request and its claim
        return summary_of(ws, taken_over)
    return _run_claimed(ws, spec, target, run_id, worker, opts, progress, fresh=not taken_over)


def execute_requested(
    ws: Workspace,
    actor: Actor,
    run_id: int,
    *,
    progress: ProgressCallback | None = None,
    options: RunOptions | None = None,
) -> RunSummary:
    """Claim the queued run ``run_id`` (from :func:`request_run`) and execute it: what an
    executor (a scheduler's worker) calls. A run that is no longer queued (claimed by
    another executor, canceled) is not executed: its summary as recorded is returned."""
    actor = authorize(ws, actor, Action.EXPORTS_RUN)
    with ws.session() as session:
        run, export_name = find_run(session, run_id)
        full, allow_mass_removal = run.full, run.allow_mass_removal
    opts = RunOptions(
        **{
            **(options.__dict__ if options else {}),
            "full": full,
            "dry_run": False,
            "allow_mass_removal": allow_mass_removal,
        }
    )
    check_chunk_bytes(opts.max_bytes)
    worker = this_worker()
    try:
        spec = get_run_spec(ws, actor, export_name)
    except ExportNotRunnable as exc:
        if claim_run(ws, run_id, worker):
            status, reason = (
                (SKIPPED, NO_CONNECTION) if exc.skipped else (FAILED, CONNECTION_UNUSABLE)
            )
            record_end(ws, run_id, export_name, status, exc.reason, reason)
        return summary_of(ws, run_id)
    if not claim_run(ws, run_id, worker):
        return summary_of(ws, run_id)
    target = spec.target
    return _run_claimed(ws, spec, target, run_id, worker, opts, progress, fresh=True)


def _run_claimed(
    ws: Workspace,
    spec: Any,
    target: ExportTarget,
    run_id: int,
    worker: str,
    opts: RunOptions,
    progress: ProgressCallback | None,
    *,
    fresh: bool,
) -> RunSummary:
    """Execute a run this process claimed, with its heartbeat, and record its end
    (``fresh``: a new run, not one continued from a dead process)."""
    export_name = target.config.name
    with ws.session() as session:
        had_success = _had_success(session, target.export_id)
    try:
        checked = open_checked(ws, export_name, target.export_id, had_success=had_success)
        state = checked.__enter__()
    except StateBusy:
        if fresh:  # it never started: no record, as before runs were records
            with ws.session() as session:
                session.execute(delete(Run).where(Run.id == run_id))
        raise
    except (StateLost, StateDamaged) as exc:
        record_end(ws, run_id, export_name, FAILED, str(exc), STATE_LOST)
        raise
    if shared_states(ws):  # its checkpoints kept in the database as it goes
        state.sink = RunCheckpoints(ws, target.export_id, run_id)
    try:
        with Heartbeat(ws, run_id, worker) as beat:
            summary = _execute(ws, spec, target, state, run_id, beat, opts, progress or no_progress)
    finally:
        checked.__exit__(None, None, None)
    stopped = stop_requested()
    if stopped is not None and summary.status == FAILED:  # failed because it was stopped
        record_end(ws, run_id, export_name, CANCELED, canceled_message(stopped), INTERRUPTED)
        raise RunTerminated(stopped)
    with ws.session() as session:
        run_row = session.get(Run, run_id)
        assert run_row is not None
        finish_run(session, run_row, summary)
    return summary


def _execute(
    ws: Workspace,
    spec: Any,
    target: ExportTarget,
    state: Any,
    run_id: int | None,
    beat: Heartbeat | None,
    opts: RunOptions,
    progress: ProgressCallback,
) -> RunSummary:
    """The engine's run on the open state; a real run's end is recorded when it raises."""
    conn = spec.credentials
    export_name = target.config.name

    def client() -> Any:
        return conn.client()

    try:
        source = SegmentMembers(ws, spec.config.segments)
        return execute_run(
            state,
            source,
            client,
            target,
            run_id=run_id,
            runs_dir=ws.path / RUNS_DIR,
            options=opts,
            progress=progress if beat is None else _obeying(progress, beat),
        )
    except KeyboardInterrupt as exc:
        name = exc.signal_name if isinstance(exc, RunTerminated) else "SIGINT"
        record_end(ws, run_id, export_name, CANCELED, canceled_message(name), INTERRUPTED)
        raise
    except Exception as exc:
        stopped = stop_requested()  # (a library turned the signal into its own error)
        if stopped is not None:
            record_end(ws, run_id, export_name, CANCELED, canceled_message(stopped), INTERRUPTED)
            raise RunTerminated(stopped) from exc
        record_end(ws, run_id, export_name, FAILED, f"{type(exc).__name__}: {exc}", ERROR)
        raise
    finally:
        if run_id is not None:  # a real run may have changed the state
            record_token(ws, state, target.export_id)


def _obeying(progress: ProgressCallback, beat: Heartbeat) -> ProgressCallback:
    """The progress callback, noting each event for the run's page (``Heartbeat.note``) and
    raising RunCanceled once a cancel was requested: progress is
    reported between chunks and steps (a safe point), and only the run's own thread may
    stop it (helpers threads report progress too)."""
    runner = threading.get_ident()

    def report(event: Progress) -> None:
        if beat.cancel.is_set() and threading.get_ident() == runner:
            raise RunCanceled(f"canceled by {beat.canceled_by}")
        beat.note(event)
        progress(event)

    return report


def _request_and_claim(
    ws: Workspace,
    actor: Actor,
    target: ExportTarget,
    trigger: str,
    opts: RunOptions,
    worker: str,
) -> tuple[int | None, Any]:
    """(run id, True) for a run continued from a process that died here, (run id, False)
    for a new one; (None, run id) when the new one was canceled before its claim."""
    recover_runs(ws, actor)
    try:
        run_id = insert_run(
            ws,
            target.export_id,
            target.config.name,
            status="queued",
            actor=actor.name,
            trigger=trigger,
            full=opts.full,
            allow_mass_removal=opts.allow_mass_removal,
        )
    except RunInProgress:
        going_on = unfinished_run(ws, target.export_id)
        if going_on is not None and take_over_run(ws, going_on, worker):
            return going_on.id, True
        raise
    if not claim_run(ws, run_id, worker):
        return None, run_id
    return run_id, False


def _not_runnable(
    ws: Workspace,
    actor: Actor,
    export_name: str,
    exc: ExportNotRunnable,
    trigger: str,
    opts: RunOptions,
) -> RunSummary:
    status = SKIPPED if exc.skipped else FAILED
    summary = RunSummary(export_name=export_name, status=status, message=exc.reason)
    summary.reason = NO_CONNECTION if exc.skipped else CONNECTION_UNUSABLE
    summary.dry_run = opts.dry_run
    if opts.dry_run:
        return summary
    run_id = insert_run(
        ws,
        export_id_of(ws, export_name),
        export_name,
        status=status,
        actor=actor.name,
        trigger=trigger,
        full=opts.full,
        allow_mass_removal=opts.allow_mass_removal,
    )
    with ws.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        summary.run_id = run_id
        finish_run(session, run, summary)
    return summary


def list_runs(ws: Workspace, actor: Actor, export_name: str, limit: int = 20) -> list[RunView]:
    """The export's latest runs, newest first."""
    authorize(ws, actor, Action.EXPORTS_READ)
    if not 1 <= limit <= 2**63 - 1:  # a 64-bit integer in SQL
        raise WorkspaceError(
            f"the limit must be 1 or more, and below 2**63 (got {limit})",
            code="limit_invalid",
            field="limit",
        )
    with ws.session() as session:
        export_id = _export_id(session, export_name)
        rows = session.scalars(
            select(Run).where(Run.export_id == export_id).order_by(Run.id.desc()).limit(limit)
        ).all()
        return [run_view(export_name, r, ws.path / RUNS_DIR) for r in rows]


def get_run(ws: Workspace, actor: Actor, export_name: str, run_id: int) -> RunView:
    authorize(ws, actor, Action.EXPORTS_READ)
    with ws.session() as session:
        export_id = _export_id(session, export_name)
        run = session.get(Run, run_id)
        if run is None or run.export_id != export_id:
            raise ExportNotFound(f"export {export_name!r} has no run {run_id}")
        return run_view(export_name, run, ws.path / RUNS_DIR)


# -- helpers ---------------------------------------------------------------------------


def _export_id(session: Session, name: str) -> int:
    export_id = session.scalars(select(Export.id).where(Export.name == name)).one_or_none()
    if export_id is None:
        raise ExportNotFound(f"no export named {name!r}")
    return int(export_id)


def _had_success(session: Session, export_id: int) -> bool:
    return (
        session.scalars(
            select(Run.id).where(Run.export_id == export_id, Run.status == "successful").limit(1)
        ).first()
        is not None
    )

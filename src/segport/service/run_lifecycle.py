"""The life of a run as a record: requested, claimed, kept alive, canceled, recovered.

- :func:`request_run` commits a ``queued`` run. The database refuses a second unfinished
  run of an export (the partial unique index ``ix_runs_one_unfinished``); that refusal is
  turned into :class:`RunInProgress` naming the run going on. Nothing checks first and
  inserts after: two machines sharing PostgreSQL metadata get one run between them.
- :func:`claim_run` flips ``queued`` to ``processing`` for one executor only
  (``UPDATE … WHERE status = 'queued'``, one row or none), recording ``host:pid``.
- :class:`Heartbeat` updates ``heartbeat_at`` every few seconds while the run goes on and
  notices a cancel request, which the run obeys at its next safe point.
- :func:`recover_runs` ends ``failed`` (reason ``worker_lost``) every processing run whose
  heartbeat expired and whose process is gone (same host: the pid is checked; another
  host: the timeout alone says so). The export's state keeps what Brevo accepted, so the
  next run resumes exactly.
- :func:`cancel_run`: a queued run is canceled at once; a processing one is asked to stop.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from segport.errors import Busy, Conflict
from segport.exports.progress import Progress
from segport.service import audit
from segport.service.access import Action, Actor, PermissionDenied, authorize
from segport.service.connection_use import may_use
from segport.service.export_configs import ExportNotFound, record_last_run
from segport.service.models import Export, utcnow
from segport.service.run_model import (
    CANCELED_BY_USER,
    RUNS_DIR,
    UNFINISHED,
    WORKER_LOST,
    Run,
    RunView,
    find_run,
    run_view,
)
from segport.service.workspace import Workspace

HEARTBEAT_ENV = "SEGPORT_RUN_HEARTBEAT_SECONDS"
TIMEOUT_ENV = "SEGPORT_RUN_HEARTBEAT_TIMEOUT"
HEARTBEAT_SECONDS = 10.0
PROGRESS_SECONDS = 1.0  # how often a processing run's latest progress is written
TIMEOUT_SECONDS = 60.0
_ATTEMPTS = 5  # inserts lost to another request's run number, before giving up


class RunInProgress(Busy):
    """The export has a run queued or processing; a second one is refused."""

    default_code = "run_in_progress"


class RunAlreadyEnded(Conflict):
    """The run asked to be canceled has already ended."""

    default_code = "run_already_ended"


def heartbeat_seconds() -> float:
    """How often a processing run signs of life (``SEGPORT_RUN_HEARTBEAT_SECONDS``)."""
    return float(os.environ.get(HEARTBEAT_ENV) or HEARTBEAT_SECONDS)


def timeout_seconds() -> float:
    """How old a heartbeat may get before its run counts as lost
    (``SEGPORT_RUN_HEARTBEAT_TIMEOUT``)."""
    return float(os.environ.get(TIMEOUT_ENV) or TIMEOUT_SECONDS)


def this_worker() -> str:
    """``host:pid`` of this process, as ``runs.claimed_by`` records an executor."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_gone(claimed_by: str | None) -> bool | None:
    """True when the claimant is known to be dead (this host, no such process), False when
    it is alive here, None when it cannot be told (another host: only the timeout can)."""
    if claimed_by is None:
        return True  # claimed before 0006 recorded claimants: the state lock guards it
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process: alive
        return False
    return False


# -- request and claim -----------------------------------------------------------------


def request_run(
    ws: Workspace,
    actor: Actor,
    export_name: str,
    *,
    full: bool = False,
    allow_mass_removal: bool = False,
    trigger: str = "manual",
) -> RunView:
    """Commit a ``queued`` run of the export; :class:`RunInProgress` when one is queued or
    processing (after runs whose process died were recovered)."""
    actor = authorize(ws, actor, Action.EXPORTS_RUN)
    recover_runs(ws, actor)
    export_id = export_id_of(ws, export_name, actor)
    run_id = insert_run(
        ws,
        export_id,
        export_name,
        status="queued",
        actor=actor.name,
        trigger=trigger,
        full=full,
        allow_mass_removal=allow_mass_removal,
    )
    return view_of(ws, run_id)


def insert_run(ws: Workspace, export_id: int, export_name: str, **values: Any) -> int:
    """Insert a run with the export's next number; its id. The number is computed in the
    INSERT itself; a concurrent request that took the same number, or the unfinished-run
    index, makes the database refuse it, and the run going on is named."""
    values.setdefault("created_at", utcnow())
    for _ in range(_ATTEMPTS):
        number = (
            select(func.coalesce(func.max(Run.number), 0) + 1)
            .where(Run.export_id == export_id)
            .scalar_subquery()
        )
        columns = {"export_id": literal(export_id), "number": number}
        columns.update({k: literal(v, type_=Run.__table__.c[k].type) for k, v in values.items()})
        stmt = insert(Run).from_select(list(columns), select(*columns.values()))
        try:
            with ws.engine.begin() as conn:
                conn.execute(stmt)
                found = conn.execute(
                    select(Run.id)
                    .where(Run.export_id == export_id)
                    .order_by(Run.number.desc())
                    .limit(1)
                ).scalar_one()
            return int(found)
        except IntegrityError:
            going_on = unfinished_run(ws, export_id)
            if going_on is not None and values.get("status") in UNFINISHED:
                raise in_progress(export_name, going_on) from None
            # Another request took this number and already ended: try the next.
    raise RunInProgress(f"export {export_name!r} is being requested too often at once; try again")


def in_progress(export_name: str, run: Run) -> RunInProgress:
    return RunInProgress(
        f"run {run.number} of export {export_name!r} (id {run.id}) is {run.status}; a "
        f"second run of the export cannot start until it ends (cancel it with its id)",
        details={"run_id": run.id, "number": run.number, "status": run.status},
    )


def unfinished_run(ws: Workspace, export_id: int) -> Run | None:
    with ws.session() as session:
        run = session.scalars(
            select(Run).where(Run.export_id == export_id, Run.status.in_(UNFINISHED))
        ).first()
        if run is not None:
            session.expunge(run)
        return run


def claim_run(ws: Workspace, run_id: int, worker: str | None = None) -> bool:
    """Make this executor the run's only one: ``queued`` -> ``processing``. False when the
    run was not queued any more (claimed by another, or canceled)."""
    now = utcnow()
    with ws.engine.begin() as conn:
        done = conn.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "queued")
            .values(
                status="processing",
                claimed_by=worker or this_worker(),
                heartbeat_at=now,
                started_at=func.coalesce(Run.started_at, now),
            )
        )
    return done.rowcount == 1


def take_over_run(ws: Workspace, run: Run, worker: str | None = None) -> bool:
    """Claim a processing run whose process died on this host, to continue it (the way a
    run killed mid-way was resumed before runs had heartbeats)."""
    if run.status != "processing" or not worker_gone(run.claimed_by):
        return False
    same = Run.claimed_by.is_(None) if run.claimed_by is None else Run.claimed_by == run.claimed_by
    with ws.engine.begin() as conn:
        done = conn.execute(
            update(Run)
            .where(Run.id == run.id, Run.status == "processing", same)
            .values(claimed_by=worker or this_worker(), heartbeat_at=utcnow())
        )
    return done.rowcount == 1


# -- heartbeat and cancel requests -----------------------------------------------------


class Heartbeat:
    """Signs of life of a processing run, from a background thread; notes a cancel request
    (``canceled_by``) for the run to obey at its next safe point, and writes the run's
    latest progress (``note``) so its page can show it live."""

    def __init__(
        self, ws: Workspace, run_id: int, worker: str, interval: float | None = None
    ) -> None:
        self._ws, self._run_id, self._worker = ws, run_id, worker
        self._interval = interval if interval is not None else heartbeat_seconds()
        self._stop = threading.Event()
        self.cancel = threading.Event()
        self.canceled_by: str | None = None
        # The run's threads note progress many times a second; the database sees the
        # latest at most once per PROGRESS_SECONDS (a reference swap: no lock needed).
        self._latest: Progress | None = None
        self._written: Progress | None = None
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def note(self, event: Progress) -> None:
        """The run's latest progress, written by the next tick."""
        self._latest = event

    def _loop(self) -> None:
        tick = min(self._interval, PROGRESS_SECONDS)
        last_beat = time.monotonic()
        while not self._stop.wait(tick):
            try:
                if time.monotonic() - last_beat >= self._interval:
                    self.beat()
                    last_beat = time.monotonic()
                else:
                    self._write_progress()
            except Exception:  # a database hiccup: the next tick tries again
                continue

    def _unwritten(self) -> Progress | None:
        """The latest progress if the row does not hold it yet."""
        event = self._latest
        return None if event is None or event is self._written else event

    def _write_progress(self) -> None:
        event = self._unwritten()
        if event is not None:
            with self._ws.engine.begin() as conn:
                conn.execute(self._mine().values(progress=progress_json(event)))
            self._written = event  # only once committed: a failed write is tried again

    def _mine(self) -> Any:
        return update(Run).where(
            Run.id == self._run_id,
            Run.status == "processing",
            Run.claimed_by == self._worker,
        )

    def beat(self) -> None:
        event = self._unwritten()
        values: dict[str, Any] = {"heartbeat_at": utcnow()}
        if event is not None:
            values["progress"] = progress_json(event)
        with self._ws.engine.begin() as conn:
            conn.execute(self._mine().values(**values))
            row = conn.execute(
                select(Run.cancel_requested_at, Run.cancel_requested_by).where(
                    Run.id == self._run_id
                )
            ).first()
        if event is not None:
            self._written = event
        if row is not None and row[0] is not None:
            self.canceled_by = row[1] or "?"
            self.cancel.set()


def progress_json(event: Progress) -> dict[str, Any]:
    """A progress event as the run's row keeps it (and RunView.progress shows it)."""
    return {
        "stage": event.stage,
        "done": event.done,
        "total": event.total,
        "unit": event.unit,
        "note": event.note,
        "at": utcnow().isoformat(),
    }


def cancel_run(ws: Workspace, actor: Actor, run_id: int) -> RunView:
    """Cancel a run: a queued one at once, a processing one at its next safe point (what
    Brevo accepted until then is recorded). Refused for a run that already ended."""
    actor = authorize(ws, actor, Action.EXPORTS_RUN)
    now = utcnow()
    with ws.session() as session:
        run, name = find_run(session, run_id)
        before = run.status
        if run.status == "queued":
            done = session.connection().execute(
                update(Run)
                .where(Run.id == run_id, Run.status == "queued")
                .values(
                    status="canceled",
                    reason=CANCELED_BY_USER,
                    finished_at=now,
                    cancel_requested_at=now,
                    cancel_requested_by=actor.name,
                    message=f"canceled by {actor.name} before it started",
                )
            )
            if done.rowcount == 1:
                record_last_run(session, run.export_id, "canceled", now)
            session.refresh(run)
        if run.status == "processing":
            if run.cancel_requested_at is None:
                run.cancel_requested_at, run.cancel_requested_by = now, actor.name
        elif before != "queued":
            raise RunAlreadyEnded(
                f"run {run.number} of export {name!r} (id {run.id}) already ended {run.status}",
                details={"run_id": run.id, "status": run.status},
            )
        audit.record(
            session,
            actor,
            "runs.cancel",
            name,
            {"run_id": run.id, "number": run.number, "status": before},
        )
        session.flush()
        return run_view(name, run, ws.path / RUNS_DIR)


# -- recovery ----------------------------------------------------------------------------


def recover_runs(ws: Workspace, actor: Actor, *, timeout: float | None = None) -> list[RunView]:
    """End ``failed`` (reason ``worker_lost``) every processing run whose heartbeat is
    older than ``timeout`` seconds and whose process is gone; the runs so ended."""
    actor = authorize(ws, actor, Action.EXPORTS_RUN)
    limit = timeout if timeout is not None else timeout_seconds()
    now = utcnow()
    cutoff = now - timedelta(seconds=limit)
    with ws.session() as session:
        rows = session.execute(
            select(Run, Export.name)
            .join(Export, Export.id == Run.export_id)
            .where(Run.status == "processing")
        ).all()
        ended: list[RunView] = []
        for run, name in rows:
            last = run.heartbeat_at or run.started_at or run.created_at
            if last > cutoff or worker_gone(run.claimed_by) is False:
                continue
            done = session.connection().execute(
                update(Run)
                .where(Run.id == run.id, Run.status == "processing", _same_beat(run))
                .values(
                    status="failed",
                    reason=WORKER_LOST,
                    finished_at=now,
                    message=_lost_message(run, last),
                )
            )
            if done.rowcount != 1:
                continue  # it signed of life (or ended) meanwhile
            record_last_run(session, run.export_id, "failed", now)
            audit.record(session, actor, "runs.recover", str(name), {"run_id": run.id})
            session.refresh(run)
            ended.append(run_view(str(name), run, ws.path / RUNS_DIR))
        return ended


def _same_beat(run: Run) -> Any:
    if run.heartbeat_at is None:
        return Run.heartbeat_at.is_(None)
    return Run.heartbeat_at == run.heartbeat_at


def _lost_message(run: Run, last: datetime) -> str:
    who = f"its process ({run.claimed_by})" if run.claimed_by else "its process"
    return (
        f"{who} stopped without ending the run (last sign of life {last:%Y-%m-%d %H:%M:%S} "
        "UTC). What Brevo accepted is checkpointed in the export's state: the next run "
        "resumes exactly"
    )


# -- small lookups ----------------------------------------------------------------------


def export_id_of(ws: Workspace, export_name: str, runner: Actor | None = None) -> int:
    """The export's id; with ``runner``, only if they may run it: a contributor may not
    queue a run of an export on a connection not shared with contributors (the worker
    would run it for them), as they may not run it directly (``get_run_spec``)."""
    with ws.session() as session:
        export = session.scalars(select(Export).where(Export.name == export_name)).first()
        if export is None:
            raise ExportNotFound(f"no export named {export_name!r}")
        if runner is not None and not may_use(runner, export.connection):
            raise PermissionDenied(
                f"export {export_name!r} sends through a connection not shared with "
                f"contributors, so {runner.name} ({runner.role.value}) may not run it; ask "
                "an admin"
            )
        return int(export.id)


def view_of(ws: Workspace, run_id: int) -> RunView:
    with ws.session() as session:
        run, name = find_run(session, run_id)
        return run_view(name, run, ws.path / RUNS_DIR)

"""Requesting runs for a worker to execute, and waiting for them: Run all, retry, wait.

- :func:`request_all_runs`: a ``queued`` run of every export whose schedule is on (any
  schedule but ``manual``), by name: the platform's Run all. An export with a run already
  queued or processing keeps that one (``busy``); two Run alls at once give one run per
  export, since the database keeps one unfinished run per export.
- :func:`retry_run`: a new run of a run's export (any ended run, a successful one too:
  it means "run again"); refused while the export has a run queued or processing.
- :func:`wait_for_runs`: until every run named has ended.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from segport.service import audit
from segport.service.access import Action, Actor, authorize
from segport.service.connection_use import may_use
from segport.service.models import Export
from segport.service.run_lifecycle import (
    RunInProgress,
    export_id_of,
    in_progress,
    insert_run,
    recover_runs,
    view_of,
)
from segport.service.run_model import UNFINISHED, RunView, find_run
from segport.service.workspace import Workspace

__all__ = [
    "MANUAL",
    "RequestedRun",
    "request_all_runs",
    "retry_run",
    "wait_for_runs",
]

MANUAL = "manual"  # the schedule of an export that runs only on demand


@dataclass(frozen=True)
class RequestedRun:
    """One export of a Run all: its new ``queued`` run, or ``busy`` (the message naming
    the run already queued or processing, whose id is ``busy_run_id``)."""

    export_name: str
    run: RunView | None
    busy: str | None = None
    busy_run_id: int | None = None

    @property
    def run_id(self) -> int | None:
        return self.run.id if self.run is not None else self.busy_run_id


def request_all_runs(ws: Workspace, actor: Actor, *, trigger: str = "manual") -> list[RequestedRun]:
    """Request a run of every export whose schedule is on and that ``actor`` may run, by
    name; audited. A contributor's "all" leaves out the exports on connections not shared
    with contributors (``request_run`` refuses them one by one)."""
    actor = authorize(ws, actor, Action.EXPORTS_RUN)
    recover_runs(ws, actor)
    with ws.session() as session:
        exports = [
            (e.id, e.name)
            for e in session.scalars(
                select(Export).where(Export.schedule != MANUAL).order_by(Export.name)
            )
            if may_use(actor, e.connection)
        ]
    requested: list[RequestedRun] = []
    for export_id, name in exports:
        try:
            run_id = insert_run(
                ws, export_id, name, status="queued", actor=actor.name, trigger=trigger
            )
        except RunInProgress as exc:
            requested.append(RequestedRun(name, None, str(exc), exc.details.get("run_id")))
            continue
        requested.append(RequestedRun(name, view_of(ws, run_id)))
    with ws.session() as session:
        audit.record(
            session,
            actor,
            "runs.request_all",
            "exports",
            {r.export_name: r.run.id if r.run else "busy" for r in requested},
        )
    return requested


def retry_run(ws: Workspace, actor: Actor, run_id: int) -> RunView:
    """Request a new run of run ``run_id``'s export (with its ``full`` option; the mass
    removal permission is not carried over: give it again). Refused, like a run requested
    by name, to a contributor when the export's connection is not shared with
    contributors. Audited."""
    actor = authorize(ws, actor, Action.EXPORTS_RUN)
    recover_runs(ws, actor)
    with ws.session() as session:
        run, name = find_run(session, run_id)
        status, full, number = run.status, run.full, run.number
        if status in UNFINISHED:
            raise in_progress(name, run)
    # Only who may run the export retries it (a contributor: not on an unshared connection).
    export_id = export_id_of(ws, name, actor)
    new_id = insert_run(
        ws, export_id, name, status="queued", actor=actor.name, trigger="retry", full=full
    )
    with ws.session() as session:
        audit.record(
            session,
            actor,
            "runs.retry",
            name,
            {"run_id": run_id, "number": number, "status": status, "new_run_id": new_id},
        )
    return view_of(ws, new_id)


def wait_for_runs(
    ws: Workspace,
    actor: Actor,
    run_ids: Sequence[int],
    *,
    poll: float = 1.0,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[RunView]:
    """The runs once every one has ended, in the order asked; :class:`TimeoutError` after
    ``timeout`` seconds. Someone must execute them: a worker, or another process."""
    authorize(ws, actor, Action.EXPORTS_READ)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        views = [view_of(ws, run_id) for run_id in run_ids]
        if all(v.status not in UNFINISHED for v in views):
            return views
        if deadline is not None and time.monotonic() >= deadline:
            going = ", ".join(v.title for v in views if v.status in UNFINISHED)
            raise TimeoutError(f"still going after {timeout} s: {going}")
        sleep(poll)

"""The job queue of workers on many machines: procrastinate on the PostgreSQL metadata
database (migration 0015 installs its schema). The one module that imports procrastinate.

Every ``queued`` run becomes one job of the task ``segport.run_export(run_id)`` in the
queue ``exports``, deferred with

- ``lock="export:<export id>"``: procrastinate starts no job while another job with the
  same lock is ``doing``, on any machine: one run per export at a time;
- ``queueing_lock="run:<run id>"``: a run has at most one job waiting; deferring it again
  raises ``AlreadyEnqueued``, which :meth:`JobQueue.dispatch` takes as done.

The task has no automatic retry (procrastinate#1543: retries with locks and queueing locks
can leave two jobs of one lock): a run that fails is retried as a new run (`runs retry`,
recovery). The job only carries the run; the run's own claim (``claim_run``: queued ->
processing, one executor) stays the guard, so a job of a run canceled or executed already
does nothing.

A job whose worker stopped signing of life (SIGKILL, a machine gone) stays ``doing`` and
holds its export's lock: :meth:`JobQueue.end_stalled` ends it ``failed`` once its run is no
longer processing (recovered as ``worker_lost`` by the segport loop), which frees the
lock for the run requested again. procrastinate's own worker heartbeats say which jobs are
stalled, with segport's heartbeat interval and timeout.

procrastinate is asyncio: :class:`JobQueue` runs its event loop in a thread of its own, so
the worker's main thread keeps the segport loop and the signals (service/queue_worker.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from segport.service.workspace import Workspace

if TYPE_CHECKING:
    from procrastinate import App
    from procrastinate.worker import Worker as ProcrastinateWorker

__all__ = ["QUEUE", "TASK", "Deferred", "JobQueue", "export_lock", "run_lock"]

TASK = "segport.run_export"
QUEUE = "exports"
_CALL_TIMEOUT = 60.0  # seconds a call into the queue's loop may take (a database call)
_STOP_TIMEOUT = 30.0  # seconds procrastinate's worker gets to stop once its job returned
# A few connections a worker: one listens for new jobs, the others fetch, finish and beat.
_POOL_MIN, _POOL_MAX = 1, 4

log = logging.getLogger(__name__)


def export_lock(export_id: int) -> str:
    return f"export:{export_id}"


def run_lock(run_id: int) -> str:
    return f"run:{run_id}"


@dataclass(frozen=True)
class Deferred:
    """A run given to the queue: its job's id (None: it had one waiting already)."""

    run_id: int
    export_id: int
    job_id: int | None


# Queued runs that have no job waiting or going on. A run whose job ended without claiming
# it (a worker killed between the two, a job ended as stalled) is deferred again.
_UNDISPATCHED = text(
    """
    SELECT r.id, r.export_id FROM runs r
    WHERE r.status = 'queued' AND NOT EXISTS (
        SELECT 1 FROM procrastinate_jobs j
        WHERE j.queueing_lock = 'run:' || r.id::text AND j.status IN ('todo', 'doing'))
    ORDER BY r.id
    """
)
# Jobs waiting for a run that is no longer queued (canceled, claimed by `exports run`).
_ORPHANS = text(
    """
    SELECT j.id FROM procrastinate_jobs j JOIN runs r ON j.queueing_lock = 'run:' || r.id::text
    WHERE j.status = 'todo' AND j.task_name = :task AND r.status <> 'queued'
    """
)
# Taken by the worker dispatching, until its transaction ends (a constant of segport's).
_DISPATCH_LOCK = text("SELECT pg_try_advisory_xact_lock(7460019283211)")
_RUN_STATUS = text("SELECT status FROM runs WHERE id = :id")


class JobQueue:
    """procrastinate on the workspace's metadata database, its event loop in a thread.

    ``execute(run_id)`` is the task's body: called in procrastinate's worker thread for
    each job, it returns when the run was executed (or was not to be)."""

    def __init__(
        self,
        ws: Workspace,
        execute: Callable[[int], None],
        *,
        poll: float,
        heartbeat: float,
        timeout: float,
    ) -> None:
        self.ws = ws
        self._execute = execute
        self._poll, self._heartbeat, self._timeout = poll, heartbeat, timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._app: App | None = None
        self._worker: ProcrastinateWorker | None = None
        self._worker_done: Future[None] | None = None

    # -- life ------------------------------------------------------------------------------

    def open(self) -> None:
        from procrastinate import App, PsycopgConnector

        url = self.ws.engine.url.set(drivername="postgresql")
        connector = PsycopgConnector(
            conninfo=url.render_as_string(hide_password=False),
            min_size=_POOL_MIN,
            max_size=_POOL_MAX,
        )
        app = App(connector=connector)
        execute = self._execute

        def run_export(run_id: int) -> None:
            execute(run_id)

        # retry=False: a failed run is retried as a new run, never by procrastinate.
        app.task(name=TASK, queue=QUEUE, retry=False, pass_context=False)(run_export)
        self._app = app
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="job-queue", daemon=True)
        self._thread.start()
        try:
            self._call(connector.open_async())
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop procrastinate's worker (its job must have returned), close the app."""
        if self._loop is None:
            return
        try:
            self.stop_worker()
            if self._worker_done is not None:
                try:
                    self._worker_done.result(timeout=_STOP_TIMEOUT)
                except Exception as exc:  # it stopped with an error: said, then closed
                    log.warning("the job queue's worker stopped with an error: %s", exc)
            if self._app is not None:
                try:
                    self._call(self._app.close_async())
                except Exception as exc:  # never opened, or the database went away
                    log.warning("the job queue's connections did not close cleanly: %s", exc)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(_STOP_TIMEOUT)
            if not self._loop.is_running():
                self._loop.close()
            self._loop = None

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(_CALL_TIMEOUT)

    # -- procrastinate's worker -------------------------------------------------------------

    def start_worker(self, *, wait: bool) -> None:
        """Start executing jobs, one at a time (``wait=False``: until none is ready)."""
        assert self._loop is not None and self._app is not None
        app = self._app

        async def work() -> None:
            from procrastinate.worker import Worker as ProcrastinateWorker

            worker = ProcrastinateWorker(
                app=app,
                queues=[QUEUE],
                name="segport",
                concurrency=1,  # an export run is heavy: scale with processes
                wait=wait,
                fetch_job_polling_interval=self._poll,
                abort_job_polling_interval=max(self._poll, 1.0),
                listen_notify=True,
                # segport's worker handles SIGTERM/SIGINT (the run stops at a safe point)
                install_signal_handlers=False,
                update_heartbeat_interval=self._heartbeat,
                stalled_worker_timeout=self._timeout,
            )
            self._worker = worker
            await worker.run()  # type: ignore[no-untyped-call]

        self._worker_done = asyncio.run_coroutine_threadsafe(work(), self._loop)

    def worker_finished(self) -> bool:
        return self._worker_done is None or self._worker_done.done()

    def check_worker(self) -> None:
        """Raise what stopped procrastinate's worker, if it stopped with an error."""
        if self._worker_done is not None and self._worker_done.done():
            self._worker_done.result()

    def stop_worker(self) -> None:
        """Ask procrastinate's worker to stop: no new job; the one going on finishes."""
        worker, loop = self._worker, self._loop
        if worker is not None and loop is not None and not self.worker_finished():
            loop.call_soon_threadsafe(worker.stop)

    # -- the segport loop's part ------------------------------------------------------------

    def dispatch(self) -> list[Deferred]:
        """Defer a job for every queued run without one waiting or going on.

        One worker dispatches at a time (a transaction-scoped advisory lock; the others
        skip the round): the queueing lock only refuses a second *waiting* job, so a worker
        that read the runs just before another's job was deferred and then fetched would
        defer a second job for the run (a no-op once run, but two jobs for one run)."""
        with self.ws.engine.begin() as conn:
            if not conn.execute(_DISPATCH_LOCK).scalar_one():
                return []  # another worker is dispatching: it defers them all
            rows = [(int(r), int(e)) for r, e in conn.execute(_UNDISPATCHED).all()]
            # Deferred (and committed) by procrastinate before this transaction ends.
            return list(self._call(self._defer_all(rows))) if rows else []

    async def _defer_all(self, rows: list[tuple[int, int]]) -> list[Deferred]:
        from procrastinate.exceptions import AlreadyEnqueued

        assert self._app is not None
        done: list[Deferred] = []
        for run_id, export_id in rows:
            deferrer = self._app.configure_task(
                TASK, lock=export_lock(export_id), queueing_lock=run_lock(run_id)
            )
            try:
                job_id: int | None = await deferrer.defer_async(run_id=run_id)
            except AlreadyEnqueued:  # another worker deferred it meanwhile
                job_id = None
            done.append(Deferred(run_id, export_id, job_id))
        return done

    def cancel_orphans(self) -> list[int]:
        """Cancel the waiting jobs of runs that are not queued any more (canceled with
        `runs cancel`, say); the ids of the jobs canceled. (A worker that fetches one first
        finds the run not queued and does nothing: this only tidies the queue.)"""
        with self.ws.engine.connect() as conn:
            ids = [int(i) for (i,) in conn.execute(_ORPHANS, {"task": TASK}).all()]
        return [i for i in ids if self._call(self._cancel(i))] if ids else []

    async def _cancel(self, job_id: int) -> bool:
        assert self._app is not None
        return await self._app.job_manager.cancel_job_by_id_async(job_id)

    def end_stalled(self) -> list[tuple[int, int]]:
        """End ``failed`` each job whose worker stopped signing of life and whose run is
        not processing any more: (job id, run id) of those ended. Its export's lock is
        free again. (Not ``retry_job``: the run was requested again as a new run.)"""
        stalled: list[tuple[int, int]] = self._call(self._stalled())
        ended = []
        for job_id, run_id in stalled:
            if self._run_status(run_id) == "processing":
                continue  # its run is alive, or not recovered yet: a later round sees
            if self._call(self._fail(job_id)):
                ended.append((job_id, run_id))
        return ended

    async def _stalled(self) -> list[tuple[int, int]]:
        assert self._app is not None
        jobs = await self._app.job_manager.get_stalled_jobs(
            queue=QUEUE, task_name=TASK, seconds_since_heartbeat=self._timeout
        )
        return [
            (j.id, run_id)
            for j in jobs
            if j.id is not None and isinstance(run_id := j.task_kwargs.get("run_id"), int)
        ]

    async def _fail(self, job_id: int) -> bool:
        from procrastinate.exceptions import ConnectorException
        from procrastinate.jobs import Status

        assert self._app is not None
        try:
            await self._app.job_manager.finish_job_by_id_async(
                job_id, Status.FAILED, delete_job=False
            )
        except ConnectorException:  # it ended meanwhile
            return False
        return True

    def prune(self, hours: int) -> None:
        """Delete the jobs that ended more than ``hours`` ago, whatever their end (one row
        a run, and a few event rows each, would otherwise grow for ever)."""
        assert self._app is not None
        self._call(
            self._app.job_manager.delete_old_jobs(
                nb_hours=hours,
                queue=QUEUE,
                include_failed=True,
                include_cancelled=True,
                include_aborted=True,
            )
        )

    def _run_status(self, run_id: int) -> str | None:
        with self.ws.engine.connect() as conn:
            found = conn.execute(_RUN_STATUS, {"id": run_id}).scalar_one_or_none()
        return None if found is None else str(found)

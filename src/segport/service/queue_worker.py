"""The worker's loop on a PostgreSQL metadata database: workers on many machines share the
runs through procrastinate's queue (:mod:`segport.service.job_queue`).

Each round, the segport loop of every worker (its main thread):

1. recovers the runs of dead workers (``worker_lost``, requested again) as on SQLite, and
   ends the procrastinate jobs those workers left ``doing`` (stalled: their worker's
   heartbeat expired), which frees their export's lock;
2. fires what the schedules have due (compare-and-set guards: once among all workers);
3. dispatches: every queued run without a job gets one (``lock`` per export,
   ``queueing_lock`` per run), and waiting jobs of runs no longer queued are canceled;
4. executes the jobs procrastinate hands this worker, one at a time, for ``poll`` seconds.

procrastinate's worker runs on its own event loop thread and calls the task in a thread
of its pool; the task hands the run to the main thread and waits. So the run executes
where it does on SQLite, under the same signal handling: the first SIGTERM stops it at its
next safe point and hands it back, a second stops at once (:class:`Worker`).
procrastinate's worker keeps signing of life from its own thread meanwhile, and installs
no signal handler.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from segport.service.job_queue import JobQueue
from segport.service.run_lifecycle import heartbeat_seconds, timeout_seconds
from segport.service.workspace import Workspace

__all__ = ["QueueLoop", "Rounds"]

_SLICE = 0.2  # how soon the main thread notices a signal or a job while waiting
# Ended jobs are deleted after a week (the runs keep the history; a job only carried one).
KEEP_JOBS_HOURS = 7 * 24
PRUNE_EVERY = 3600.0  # seconds


@dataclass
class _Handed:
    """A job's run handed to the main thread, and the answer the job waits for."""

    run_id: int
    done: threading.Event = field(default_factory=threading.Event)
    taken: bool = False


class _Handoff:
    """Between procrastinate's task thread (gives runs) and the main thread (executes)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[_Handed] = queue.Queue()
        self._closed = threading.Event()

    def execute(self, run_id: int) -> None:
        """The task's body, in procrastinate's thread: wait for the main thread to execute
        the run; return at once when the worker is closing and nobody took it (the run
        stays queued and is dispatched again, to any worker)."""
        handed = _Handed(run_id)
        if self._closed.is_set():
            return
        self._queue.put(handed)
        while not handed.done.wait(_SLICE):
            if self._closed.is_set() and not handed.taken:
                return

    def take(self, seconds: float) -> _Handed | None:
        try:
            handed = self._queue.get(timeout=seconds)
        except queue.Empty:
            return None
        handed.taken = True
        return handed

    def close(self) -> None:
        self._closed.set()


class Rounds(Protocol):
    """What the loop asks of :class:`segport.service.worker.Worker` (which imports this
    module: named by its shape, not imported back)."""

    ws: Workspace
    poll: float
    stopping: str | None

    def recover_due(self) -> None: ...
    def fire_due(self) -> None: ...
    def execute_run(self, run_id: int) -> None: ...
    def say(self, line: str) -> None: ...


class QueueLoop:
    """The rounds of a worker on PostgreSQL metadata; its registry row, heartbeat and signal
    handlers are the worker's own."""

    def __init__(self, worker: Rounds) -> None:
        self.w = worker
        self._handoff = _Handoff()
        self._swept_at: float | None = None
        self._pruned_at: float | None = None

    def run(self, *, once: bool = False) -> None:
        w = self.w
        jobs = JobQueue(
            w.ws,
            self._handoff.execute,
            poll=w.poll,
            heartbeat=heartbeat_seconds(),
            timeout=timeout_seconds(),
        )
        jobs.open()
        try:
            if once:
                self._once(jobs)
            else:
                self._forever(jobs)
        finally:
            self._handoff.close()  # a job waiting for this thread returns
            jobs.close()

    def _forever(self, jobs: JobQueue) -> None:
        jobs.start_worker(wait=True)
        while self.w.stopping is None:
            self._round(jobs)
            end = time.monotonic() + self.w.poll
            while self.w.stopping is None and time.monotonic() < end:
                if jobs.worker_finished():
                    # It stops by itself when a side task of its own fails (its listener
                    # lost the database, say): raised if it ended with an error, else
                    # started again, so this worker keeps executing what it dispatches.
                    jobs.check_worker()
                    self.w.say("the job queue's worker had stopped; started again")
                    jobs.start_worker(wait=True)
                if self._serve_one():
                    break  # a run ended: a new round (its export may have more to do)
        jobs.stop_worker()

    def _once(self, jobs: JobQueue) -> None:
        """Rounds until one executes nothing: each dispatches, then procrastinate's worker
        executes every job ready (``wait=False``)."""
        while self.w.stopping is None:
            self._round(jobs)
            if self.w.stopping is not None:
                return
            jobs.start_worker(wait=False)
            executed = 0
            while not jobs.worker_finished():
                executed += self._serve_one()
                if self.w.stopping is not None:
                    jobs.stop_worker()
            jobs.check_worker()
            if not executed:
                return

    def _serve_one(self) -> bool:
        """Execute the run of a job handed over within a slice; False when none came."""
        handed = self._handoff.take(_SLICE)
        if handed is None:
            return False
        try:
            if self.w.stopping is None:
                self.w.execute_run(handed.run_id)
        finally:
            handed.done.set()
        return True

    def _round(self, jobs: JobQueue) -> None:
        w = self.w
        w.recover_due()
        self._end_stalled(jobs)
        w.fire_due()
        if w.stopping is not None:
            return
        for job_id in jobs.cancel_orphans():
            w.say(f"job {job_id} canceled: its run is not queued any more")
        for given in jobs.dispatch():
            if given.job_id is not None:
                w.say(f"run id {given.run_id} queued for the workers (job {given.job_id})")

    def _end_stalled(self, jobs: JobQueue) -> None:
        """As often as runs are recovered: once per heartbeat interval (and, hourly, delete
        the jobs that ended over a week ago)."""
        now = time.monotonic()
        if self._swept_at is not None and now - self._swept_at < heartbeat_seconds():
            return
        self._swept_at = now
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            jobs.prune(KEEP_JOBS_HOURS)
        for job_id, run_id in jobs.end_stalled():
            self.w.say(
                f"job {job_id} of run id {run_id} ended failed: its worker stopped signing "
                "of life (the run was recovered)"
            )

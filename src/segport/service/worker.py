"""The worker on one machine: fires the system refresh when due and executes requested runs,
one at a time, until asked to stop.

At start it registers in the live-workers registry (:mod:`segport.service.workers`: on a
SQLite workspace a second worker is refused, naming the first). Then, each round:

1. the runs of dead workers are recovered (at most every heartbeat interval):
   :func:`~segport.service.run_lifecycle.recover_runs` ends them ``failed``
   (``worker_lost``) and each is requested again (trigger ``recovery``), which resumes
   from the export's checkpoints, unless its export lost that many runs in a row already;
2. the system refresh, when a firing is due (once for any number missed);
3. the oldest ``queued`` run, claimed through
   :func:`~segport.service.runs.execute_requested` (``claim_run``: one executor per run),
   executed with its heartbeat;
4. nothing to do: wait ``poll`` seconds (``once``: return instead).

On a PostgreSQL metadata database, steps 3 and 4 are procrastinate's: the runs are
dispatched to its queue and executed as its jobs (:mod:`segport.service.queue_worker`),
so workers on many machines share them under per-export locks.

The first SIGTERM or Ctrl-C stops gracefully: the run going on stops at its next safe
point (after the chunk being sent), ends ``canceled`` (reason ``interrupted``) with what
Brevo accepted checkpointed, and is handed back: a new ``queued`` run of the export
(trigger ``handback``) resumes it on the next worker. A second signal stops at once, as
Ctrl-C stops `exports run`. A run that fails never stops the worker.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import select, update

from segport.exports import stop
from segport.exports.errors import RunCanceled, StateBusy
from segport.exports.progress import Progress
from segport.service.access import Actor
from segport.service.export_configs import record_last_run
from segport.service.models import utcnow
from segport.service.refresh import RefreshView, fire_due_refresh
from segport.service.run_lifecycle import (
    RunInProgress,
    heartbeat_seconds,
    insert_run,
    recover_runs,
    this_worker,
    view_of,
)
from segport.service.run_model import (
    ERROR,
    INTERRUPTED,
    UNFINISHED,
    WORKER_LOST,
    Run,
    RunView,
)
from segport.service.runs import RunOptions, check_chunk_bytes, execute_requested
from segport.service.schedule_firing import fire_due_export_schedules
from segport.service.workers import beat, register_worker, unregister_worker
from segport.service.workspace import Workspace

__all__ = ["HANDBACK_TRIGGER", "MAX_RECOVERIES", "RECOVERY_TRIGGER", "Worker"]

HANDBACK_TRIGGER = "handback"
RECOVERY_TRIGGER = "recovery"
# A run that kills its worker every time (out of memory, say) must not loop forever: after
# this many lost runs of an export in a row, the last one stays failed for a person to see.
MAX_RECOVERIES = 3
_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_IDLE_SLICE = 0.2  # how soon a signal is noticed while idle
_SHUTTING_DOWN = "the worker is shutting down"  # in the message of a run it stopped


class Worker:
    """One worker process. ``now`` gives the time schedules are compared with (tests fix
    it); ``log`` receives one line per thing done."""

    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        *,
        poll: float = 5.0,
        now: Callable[[], datetime] | None = None,
        log: Callable[[str], None] | None = None,
        options: RunOptions | None = None,
    ) -> None:
        self.ws, self.actor, self.poll = ws, actor, poll
        self._now = now or (lambda: datetime.now(UTC))
        self._log = log or (lambda line: None)
        if options is not None:
            check_chunk_bytes(options.max_bytes)
        self._options = options
        self.stopping: str | None = None  # the signal that asked to stop
        self.current_run: int | None = None
        self.worker_id: int | None = None
        self.executed: list[RunView] = []
        self.refreshes: list[RefreshView] = []
        self._problems: set[tuple[str, str]] = set()  # (export, problem) logged already
        self._recovered_at: float | None = None  # monotonic time of the last recovery

    def say(self, line: str) -> None:
        """One line for the worker's log."""
        self._log(line)

    # -- the loop ------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> None:
        """Work until a signal (or, with ``once``, until nothing is due or queued)."""
        me = register_worker(self.ws, self.actor)
        self.worker_id = me.id
        self._log(f"worker {me.name} started (id {me.id})")
        try:
            with self._beating(), self._signals():
                if self.ws.engine.dialect.name == "postgresql":
                    # Workers on many machines: runs go through procrastinate's queue.
                    from segport.service.queue_worker import QueueLoop

                    QueueLoop(self).run(once=once)
                    return
                while self.stopping is None:
                    self.recover_due()
                    self.fire_due()
                    if self.stopping is not None:
                        break
                    if self.execute_next():
                        continue
                    if once:
                        break
                    self._idle()
        finally:
            unregister_worker(self.ws, me.id)
            how = f" ({self.stopping})" if self.stopping else ""
            self._log(f"worker {me.name} stopped{how}")

    def recover_due(self) -> None:
        """Recover the runs of dead workers, at most once per heartbeat interval: a run
        whose worker was SIGKILLed ends ``failed`` (``worker_lost``) and is requested again
        (trigger ``recovery``), resuming from the export's checkpoints. Whether the worker
        is dead is :func:`recover_runs`' call: heartbeat older than the timeout, and on this
        host its process gone; on another host the timeout alone."""
        now = time.monotonic()
        if self._recovered_at is not None and now - self._recovered_at < heartbeat_seconds():
            return
        self._recovered_at = now
        for lost in recover_runs(self.ws, self.actor):
            self._log(f"recovered {lost.title}: failed ({lost.reason}); {self._rerequest(lost)}")

    def _rerequest(self, lost: RunView) -> str:
        """Request a new run of a lost run's export; what became of it, for the log."""
        with self.ws.session() as session:
            run = session.get(Run, lost.id)
            assert run is not None
            export_id = run.export_id
            latest = session.scalars(
                select(Run.reason)
                .where(Run.export_id == export_id)
                .order_by(Run.number.desc())
                .limit(MAX_RECOVERIES)
            ).all()
        if len(latest) == MAX_RECOVERIES and all(r == WORKER_LOST for r in latest):
            return f"not requested again: its last {MAX_RECOVERIES} runs were all lost"
        try:
            new = insert_run(
                self.ws,
                export_id,
                lost.export_name,
                status="queued",
                actor=self.actor.name,
                trigger=RECOVERY_TRIGGER,
                full=lost.full,
            )
        except RunInProgress as exc:  # someone requested one meanwhile: that one resumes
            return f"not requested again: {exc}"
        return f"requested again as run id {new}"

    def fire_due(self) -> None:
        """Fire what the schedules have due now: the system refresh, then the exports'
        own schedules."""
        now = self._now()
        self._fire_refresh(now)
        for fired in fire_due_export_schedules(self.ws, self.actor, now):
            name = repr(fired.export_name)
            if fired.problem is not None:
                if (fired.export_name, fired.problem) not in self._problems:
                    self._problems.add((fired.export_name, fired.problem))
                    self._log(f"export {name}: its schedule cannot fire: {fired.problem}")
                continue
            at = fired.fired_for.isoformat() if fired.fired_for else "?"
            caught = " (caught up)" if fired.caught_up else ""
            what = fired.run.title + " requested" if fired.run else fired.busy
            self._log(f"export {name}: its schedule fired for {at}{caught}; {what}")

    def _fire_refresh(self, now: datetime) -> None:
        done = fire_due_refresh(self.ws, self.actor, now)
        if done is not None:
            self.refreshes.append(done)
            at = done.fired_for.isoformat() if done.fired_for else "now"
            queued = sum(1 for e in done.exports if e.run and e.run.status == "queued")
            skipped = sum(1 for e in done.exports if e.run and e.run.status == "skipped")
            busy = sum(1 for e in done.exports if e.busy)
            self._log(
                f"system refresh for {at}: {len(done.segments)} segments evaluated, "
                f"{queued} runs requested, {skipped} skipped, {busy} already going on"
            )

    def execute_next(self) -> bool:
        """Execute the oldest queued run; False when none is queued."""
        with self.ws.session() as session:
            run_id = session.scalars(
                select(Run.id).where(Run.status == "queued").order_by(Run.id).limit(1)
            ).first()
        if run_id is None:
            return False
        self.execute_run(run_id)
        return True

    def execute_run(self, run_id: int) -> None:
        """Execute a queued run (one already claimed or ended is left alone), in this
        thread: the signals stop it at its next safe point."""
        self.current_run = run_id
        self._beat()
        try:
            self._execute(run_id)
        finally:
            self.current_run = None
            self._beat()

    def _execute(self, run_id: int) -> None:
        try:
            summary = execute_requested(
                self.ws, self.actor, run_id, progress=self._progress(), options=self._options
            )
        except KeyboardInterrupt:  # a second signal: stopped at once, recorded canceled
            self.stopping = self.stopping or "SIGINT"
            self._hand_back(run_id)
            return
        except StateBusy as exc:
            self._log(f"run id {run_id} not executed: {exc}")
            self._end_unfinished(run_id, f"not executed: {exc}")
            return
        except Exception as exc:  # the run's failure is recorded; the worker goes on
            self._end_unfinished(run_id, f"{type(exc).__name__}: {exc}")
            view = view_of(self.ws, run_id)
            self._log(f"{view.title}: {view.status} ({exc})")
            self.executed.append(view)
            return
        if summary.status == "canceled" and _SHUTTING_DOWN in (summary.message or ""):
            self._interrupted(run_id)
            self._hand_back(run_id)
            return
        view = view_of(self.ws, run_id)
        if view.claimed_by != this_worker():
            return  # another worker claimed it first: that one executes and logs it
        self.executed.append(view)
        self._log(f"{view.title}: {view.status}" + (f" ({view.reason})" if view.reason else ""))

    # -- stopping --------------------------------------------------------------------------

    def _progress(self) -> Callable[[Progress], None]:
        """Progress is reported at the run's safe points: there a stop request ends it."""
        runner = threading.get_ident()

        def report(event: Progress) -> None:
            if self.stopping is not None and threading.get_ident() == runner:
                raise RunCanceled(f"stopped by {self.stopping}: {_SHUTTING_DOWN}")

        return report

    @contextmanager
    def _signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handle(signum: int, frame: object) -> None:
            name = signal.Signals(signum).name
            if self.stopping is None:
                self.stopping = name  # graceful: the loop and the run notice it
                return
            raise stop.request_stop(name)  # again: stop now

        stop.clear()
        previous = {sig: signal.signal(sig, handle) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _interrupted(self, run_id: int) -> None:
        """The run stopped for the worker's shutdown, not by a user: say so."""
        message = (
            f"canceled (stopped by {self.stopping}: the worker stopped); handed back: the "
            "next run resumes it"
        )
        with self.ws.session() as session:
            run = session.get(Run, run_id)
            assert run is not None
            run.reason, run.message = INTERRUPTED, message
            if run.summary:
                run.summary = {**run.summary, "reason": INTERRUPTED, "message": message}

    def _hand_back(self, run_id: int) -> None:
        """Request a new run of the stopped run's export, for the next worker."""
        view = view_of(self.ws, run_id)
        with self.ws.session() as session:
            run = session.get(Run, run_id)
            assert run is not None
            export_id, full = run.export_id, run.full
        try:
            new = insert_run(
                self.ws,
                export_id,
                view.export_name,
                status="queued",
                actor=self.actor.name,
                trigger=HANDBACK_TRIGGER,
                full=full,
            )
        except RunInProgress as exc:
            self._log(f"{view.title}: {view.status}; not handed back: {exc}")
            return
        self.executed.append(view)
        self._log(f"{view.title}: {view.status}; handed back as run id {new}")

    def _end_unfinished(self, run_id: int, message: str) -> None:
        """End a run an error left queued or processing (it would be picked again); its
        export's last run is recorded, which also sends the alerts."""
        now = utcnow()
        with self.ws.session() as session:
            done = session.connection().execute(
                update(Run)
                .where(Run.id == run_id, Run.status.in_(UNFINISHED))
                .values(status="failed", reason=ERROR, finished_at=now, message=message)
            )
            if done.rowcount == 1:
                run = session.get(Run, run_id)
                if run is not None:
                    record_last_run(session, run.export_id, "failed", now)

    # -- signs of life ---------------------------------------------------------------------

    def _beat(self) -> None:
        if self.worker_id is not None and not beat(self.ws, self.worker_id, self.current_run):
            self._log("this worker's registry row was removed (found stale); it goes on")

    @contextmanager
    def _beating(self) -> Iterator[None]:
        done = threading.Event()

        def loop() -> None:
            while not done.wait(heartbeat_seconds()):
                try:
                    self._beat()
                except Exception:  # a database hiccup: the next beat tries again
                    continue

        thread = threading.Thread(target=loop, name="worker-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _idle(self) -> None:
        """Wait ``poll`` seconds, in slices, so a signal is noticed soon."""
        waited = 0.0
        pause = threading.Event()
        while waited < self.poll and self.stopping is None:
            step = min(_IDLE_SLICE, self.poll - waited)
            pause.wait(step)
            waited += step

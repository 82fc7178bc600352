"""Workers on PostgreSQL metadata share the runs through procrastinate (service/job_queue.py):
each run is one job (lock per export, queueing lock per run), executed by one worker; a job
of a run canceled meanwhile is canceled; a job holding its export's lock keeps the export's
next run waiting; runs of two exports go to two workers at once; SIGTERM hands the run back
to the queue. (The SIGKILL and racing cases are in test_worker_recovery.py.)"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.fixtures.sandbox import SandboxFactory
from tests.fixtures.waiting import wait_until
from tests.integration.exports.conftest import Scenario, add_own, profile
from tests.integration.exports.test_cli_resume import CHUNK, emails, segport, wait_for_imports
from tests.integration.exports.test_worker_recovery import (
    ended,
    jobs_of,
    pg_scenario,
    start_worker,
    stop,
    wait_registered,
)

from segport.service.job_queue import JobQueue
from segport.service.run_lifecycle import cancel_run, request_run
from segport.service.runs import list_runs
from segport.service.worker import Worker

pytestmark = pytest.mark.postgres


def export_id(s: Scenario, name: str) -> int:
    with s.ws.engine.connect() as conn:
        found = conn.execute(text("SELECT id FROM exports WHERE name = :n"), {"n": name})
        return int(found.scalar_one())


def once(s: Scenario) -> list[str]:
    lines: list[str] = []
    Worker(s.ws, s.admin, poll=0.1, log=lines.append).run(once=True)
    return lines


def test_a_run_is_one_job_and_a_canceled_runs_job_is_canceled(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str
) -> None:
    with pg_scenario(sandbox_factory, tmp_path, pg_database) as s:
        s.add_export()
        canceled = request_run(s.ws, s.admin, "news")
        queue = JobQueue(s.ws, lambda run_id: None, poll=0.1, heartbeat=0.2, timeout=2)
        queue.open()
        try:
            [given] = queue.dispatch()
            assert given.run_id == canceled.id and given.job_id is not None
            assert queue.dispatch() == []  # it has its job: not deferred twice
        finally:
            queue.close()
        cancel_run(s.ws, s.admin, canceled.id)
        lines = once(s)
        [job] = jobs_of(s, canceled.id)
        assert job["status"] == "cancelled", lines
        assert f"job {job['id']} canceled: its run is not queued any more" in lines
        [run] = list_runs(s.ws, s.admin, "news")
        assert (run.status, run.reason) == ("canceled", "canceled_by_user")

        queued = request_run(s.ws, s.admin, "news")
        lines = once(s)
        s.sandbox.state.wait_idle()
        [job] = jobs_of(s, queued.id)
        news = export_id(s, "news")
        assert job == {
            "id": job["id"],
            "status": "succeeded",
            "lock": f"export:{news}",
            "queueing_lock": f"run:{queued.id}",
            "task_name": "segport.run_export",
            "queue_name": "exports",
        }
        run = list_runs(s.ws, s.admin, "news")[0]
        assert (run.id, run.status) == (queued.id, "successful")
        assert s.members() == emails(3)
        assert any(f"run id {queued.id} queued for the workers (job " in x for x in lines)


def test_a_job_holding_the_exports_lock_keeps_its_next_run_waiting(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str
) -> None:
    """procrastinate's lock, not only the one-unfinished-run index: while a job of the
    export is ``doing`` (here one left by a worker that is still signing of life), the
    export's next run is not started; other exports' runs are."""
    with pg_scenario(sandbox_factory, tmp_path, pg_database) as s:
        s.add_export()
        add_own(s, "other")
        news = export_id(s, "news")
        with s.ws.engine.begin() as conn:
            worker = conn.execute(text("SELECT procrastinate_register_worker_v1()")).scalar_one()
            holder = conn.execute(
                text(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, "
                    "status, worker_id) VALUES ('exports', 'segport.run_export', :lock, "
                    "'{\"run_id\": 0}', 'doing', :worker) RETURNING id"
                ),
                {"lock": f"export:{news}", "worker": worker},
            ).scalar_one()
        waiting = request_run(s.ws, s.admin, "news")
        other = request_run(s.ws, s.admin, "other")
        once(s)
        assert [j["status"] for j in jobs_of(s, waiting.id)] == ["todo"]
        assert list_runs(s.ws, s.admin, "news")[0].status == "queued"
        assert list_runs(s.ws, s.admin, "other")[0].status == "successful"
        assert [j["status"] for j in jobs_of(s, other.id)] == ["succeeded"]
        with s.ws.engine.begin() as conn:
            conn.execute(
                text("SELECT procrastinate_finish_job_v1(:id, 'succeeded', false)"),
                {"id": holder},
            )
        once(s)
        s.sandbox.state.wait_idle()
        assert list_runs(s.ws, s.admin, "news")[0].status == "successful"
        assert [j["status"] for j in jobs_of(s, waiting.id)] == ["succeeded"]
        assert s.members() == emails(3)


@pytest.mark.slow
def test_runs_of_two_exports_go_to_two_workers_at_once(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str
) -> None:
    with pg_scenario(sandbox_factory, tmp_path, pg_database, faults="import:slow=0.25") as s:
        s.load([profile(i) for i in range(1, 241)])
        add_own(s, "alpha")
        add_own(s, "beta")
        procs = [start_worker(s, *CHUNK) for _ in range(2)]
        try:
            wait_registered(s, procs)
            wait_until(lambda: queue_workers(s) == 2, 60, "procrastinate's workers to start")
            runs = [request_run(s.ws, s.admin, e) for e in ("alpha", "beta")]
            wait_until(lambda: ended(s, "alpha") and ended(s, "beta"), 120, "both runs")
        finally:
            for p in procs:
                stop(p)
        alpha, beta = (list_runs(s.ws, s.admin, e)[0] for e in ("alpha", "beta"))
        assert (alpha.status, beta.status) == ("successful", "successful")
        # One worker executes one job at a time: each took one export, at the same time.
        assert {alpha.claimed_by, beta.claimed_by} == {f"{s_host()}:{p.pid}" for p in procs}
        assert alpha.started_at is not None and beta.started_at is not None
        assert alpha.finished_at is not None and beta.finished_at is not None
        assert max(alpha.started_at, beta.started_at) < min(alpha.finished_at, beta.finished_at)
        for run in runs:
            assert [j["status"] for j in jobs_of(s, run.id)] == ["succeeded"]


def queue_workers(s: Scenario) -> int:
    with s.ws.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one())


def s_host() -> str:
    import socket

    return socket.gethostname()


@pytest.mark.parametrize("signals", [1, 2])
def test_sigterm_hands_the_run_back_to_the_queue(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str, signals: int
) -> None:
    """One SIGTERM: the run stops after its chunk; two: at once. Either way it ends
    canceled (interrupted), its job ends, and the run handed back is executed from the
    queue by the next worker, resuming: the list is exact."""
    with pg_scenario(sandbox_factory, tmp_path, pg_database, faults="import:slow=0.05") as s:
        s.load([profile(i) for i in range(1, 401)])
        s.add_export()
        queued = request_run(s.ws, s.admin, "news")
        proc = start_worker(s, *CHUNK)
        wait_for_imports(s, proc, 2, "the worker could be stopped")
        for _ in range(signals):
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "handed back as run id" in err, err
        handed, stopped = list_runs(s.ws, s.admin, "news")
        assert (stopped.id, stopped.status, stopped.reason) == (
            queued.id,
            "canceled",
            "interrupted",
        )
        assert (handed.status, handed.trigger) == ("queued", "handback")
        assert [j["status"] for j in jobs_of(s, stopped.id)] == ["succeeded"]
        assert jobs_of(s, handed.id) == []  # not dispatched by a worker that was stopping
        resumed = segport(s, "worker", "--once", *CHUNK)
        assert resumed.returncode == 0, resumed.stderr
        s.sandbox.state.wait_idle()
        assert s.members() == emails(400)
        again = list_runs(s.ws, s.admin, "news")[0]
        assert (again.id, again.status) == (handed.id, "successful")
        assert [j["status"] for j in jobs_of(s, handed.id)] == ["succeeded"]
        if signals == 1:  # the chunk going on finished; nothing was sent twice
            assert stopped.sent and again.sent and stopped.sent + again.sent == 400

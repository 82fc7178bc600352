"""Several `segport worker` processes sharing PostgreSQL metadata (and so procrastinate's job
queue) and one workspace folder: a worker SIGKILLed mid-run leaves its run (and its job,
ended as stalled) to a live worker, which ends it `failed`
(`worker_lost`) and requests it again (trigger `recovery`), resuming exactly; workers
racing for one requested run and one due refresh execute exactly one run per export; an
export whose runs keep getting lost is not requested again forever."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update
from tests.fixtures.sandbox import SandboxFactory
from tests.fixtures.waiting import wait_until
from tests.integration.exports.conftest import Scenario, add_own, make_scenario, profile
from tests.integration.exports.test_cli_resume import CHUNK, IMPORT, emails, wait_for_imports

from segport.exports.hooks import ENV as KILL_ENV
from segport.service.audit import list_entries
from segport.service.export_configs import show_export
from segport.service.export_schedules import schedule_export
from segport.service.run_lifecycle import HEARTBEAT_ENV, TIMEOUT_ENV, recover_runs, request_run
from segport.service.run_model import UNFINISHED, WORKER_LOST, Run
from segport.service.runs import list_runs
from segport.service.system_schedule import set_system_schedule
from segport.service.worker import MAX_RECOVERIES, Worker
from segport.service.workers import list_workers

# Quick signs of life, so a dead worker's run is found lost within seconds.
SEGPORT = [sys.executable, "-m", "segport", "--workspace"]
FAST_BEATS = {HEARTBEAT_ENV: "0.2", TIMEOUT_ENV: "2"}


@contextmanager
def pg_scenario(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str, **faults: str
) -> Iterator[Scenario]:
    s = make_scenario(tmp_path / "ws", sandbox_factory(**faults), tmp_path, pg_database)
    try:
        yield s
    finally:
        s.ws.close()


def start_worker(s: Scenario, *args: str, kill_at: str | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
    env.update(FAST_BEATS)
    if kill_at is not None:
        env[KILL_ENV] = kill_at
    return subprocess.Popen(
        [*SEGPORT, str(s.ws.path), "worker", "--poll", "0.2", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_registered(s: Scenario, procs: list[subprocess.Popen[str]]) -> None:
    def live() -> bool:
        pids = {w.pid for w in list_workers(s.ws, s.admin)}
        return any(p.poll() is not None for p in procs) or all(p.pid in pids for p in procs)

    wait_until(live, 60, "the workers to register", poll=0.05)
    for p in procs:
        assert p.poll() is None, p.communicate()[1]


def stop(proc: subprocess.Popen[str]) -> str:
    """SIGTERM (it must exit 0); its log."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    return err


def jobs_of(s: Scenario, run_id: int) -> list[dict[str, Any]]:
    """procrastinate's jobs of a run, oldest first."""
    with s.ws.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, status::text AS status, lock, queueing_lock, task_name, queue_name "
                "FROM procrastinate_jobs WHERE args->>'run_id' = :run ORDER BY id"
            ),
            {"run": str(run_id)},
        ).mappings()
        return [dict(r) for r in rows]


def ended(s: Scenario, export: str, n: int = 1) -> bool:
    runs = list_runs(s.ws, s.admin, export)
    return len(runs) >= n and all(r.status not in UNFINISHED for r in runs)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("kill", ["submitted:8", "while posting"])
def test_a_sigkilled_workers_run_is_recovered_by_a_live_worker(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str, kill: str
) -> None:
    """Two workers are running; the one that claims the run dies mid-run: by itself at a
    checkpoint (``SEGPORT_TEST_KILL_AT``, nothing in flight; both workers carry it, and the
    resumed run has too few chunks left to reach it), or killed by the test while it posts
    to a slow Brevo (0.25 s an import, some 10 chunks)."""
    at = None if kill == "while posting" else kill
    with pg_scenario(sandbox_factory, tmp_path, pg_database, faults="import:slow=0.25") as s:
        rows = [profile(i) for i in range(1, 401)] + [profile(401, email="not-an-email")]
        s.load(rows)
        s.add_export()
        procs = [start_worker(s, *CHUNK, kill_at=at) for _ in range(2)]
        try:
            wait_registered(s, procs)
            queued = request_run(s.ws, s.admin, "news")
            wait_until(
                lambda: list_runs(s.ws, s.admin, "news")[0].claimed_by is not None,
                60,
                "a worker to claim the run",
                poll=0.05,
            )
            claimant = list_runs(s.ws, s.admin, "news")[0].claimed_by or ""
            [a] = [p for p in procs if claimant.endswith(f":{p.pid}")]
            [b] = [p for p in procs if p is not a]
            try:
                # B is already running when A dies: only its periodic recovery can notice.
                if at is None:
                    wait_for_imports(s, a, 2, "worker A could be killed")
                    a.kill()
                a.wait(timeout=120)
                wait_until(lambda: ended(s, "news", 2), 120, "the run recovered and resumed")
            finally:
                log = stop(b)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                p.communicate()
        assert a.returncode == -signal.SIGKILL
        s.sandbox.state.wait_idle()
        again, lost = list_runs(s.ws, s.admin, "news")
        assert lost.id == queued.id and lost.claimed_by is not None
        assert lost.claimed_by.endswith(f":{a.pid}")
        assert (lost.status, lost.reason) == ("failed", WORKER_LOST)
        assert (again.status, again.trigger) == ("successful", "recovery")
        assert again.claimed_by is not None and again.claimed_by.endswith(f":{b.pid}")
        assert f"recovered {lost.title}: failed (worker_lost); requested again as run id " in log
        # A's procrastinate job, left doing and holding the export's lock, was ended as
        # stalled; the run requested again had a job of its own, executed by B.
        [lost_job] = jobs_of(s, lost.id)
        assert lost_job["status"] == "failed"
        assert f"job {lost_job['id']} of run id {lost.id} ended failed" in log
        assert [j["status"] for j in jobs_of(s, again.id)] == ["succeeded"]
        # The list is exactly the segment's valid members: the invalid e-mail is not in it.
        assert s.members() == emails(400)
        assert again.summary is not None
        # Resumed, not redone: what Brevo took from A is not sent again.
        assert 0 < again.summary.sent < 400
        if at is not None:
            # Nothing was in flight: A's eight chunks were settled, none posted again.
            assert str(lost.id) in again.summary.earlier_run_changes
            assert s.sandbox.requests_log.count(IMPORT) == 8 + again.summary.chunks


EXPORTS = {"news": "schedule", "promo": "schedule", "daily": "schedule", "by_hand": "manual"}


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("n", [2, 3])
def test_workers_racing_execute_one_run_per_export(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str, n: int
) -> None:
    """Every worker is running and polling when the refresh and an export's own cron
    schedule fall due and a run is requested: each export gets exactly one run, and the
    refresh and the schedule fire once."""
    with pg_scenario(sandbox_factory, tmp_path, pg_database, faults="import:slow=0.05") as s:
        s.load([profile(i) for i in range(1, 121)])
        add_own(s, "news")
        add_own(s, "promo")
        add_own(s, "by_hand", schedule="manual")
        add_own(s, "daily", schedule="manual")
        procs = [start_worker(s, *CHUNK) for _ in range(n)]
        try:
            wait_registered(s, procs)
            # A firing one minute ago, of schedules set two hours ago: due now, once.
            now = datetime.now(UTC)
            due, set_at = now - timedelta(minutes=1), now - timedelta(hours=2)
            cron = f"{due.minute} {due.hour} * * *"
            schedule_export(s.ws, s.admin, "daily", cron=cron, timezone="UTC", now=set_at)
            at = due.strftime("%H:%M")
            set_system_schedule(s.ws, s.admin, times=[at], timezone="UTC", now=set_at)
            request_run(s.ws, s.admin, "by_hand")
            wait_until(
                lambda: all(ended(s, e) for e in EXPORTS),
                120,
                "the exports' runs to end",
            )
        finally:
            logs = [stop(p) for p in procs]
        s.sandbox.state.wait_idle()
        for export, trigger in EXPORTS.items():
            [run] = list_runs(s.ws, s.admin, export)
            assert (run.status, run.trigger) == ("successful", trigger), run
            assert run.summary is not None and run.summary.sent == 120
            assert set(s.sandbox.state.list_member_emails(_list_of(s, export))) == emails(120)
            # One procrastinate job for the run, however many workers dispatched it.
            assert [j["status"] for j in jobs_of(s, run.id)] == ["succeeded"]
        refreshes = [e for e in list_entries(s.ws, s.admin) if e.action == "refresh.run"]
        assert len(refreshes) == 1
        assert sum(log.count("system refresh for") for log in logs) == 1
        fired = [e for e in list_entries(s.ws, s.admin) if e.action == "exports.schedule_fired"]
        assert len(fired) == 1
        assert sum(log.count("export 'daily': its schedule fired") for log in logs) == 1
        # Each run was executed (and logged) by one worker only.
        executed = re.compile(r"Run \d+ of export '\w+' \(id \d+\): ")
        said = [line for log in logs for line in log.splitlines() if executed.search(line)]
        assert len(said) == len(EXPORTS), said


def _list_of(s: Scenario, export: str) -> int:
    return show_export(s.ws, s.admin, export).config.list_id


def _lose_a_run(s: Scenario) -> int:
    """A requested run left processing by a process that died an hour ago; its id."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run = request_run(s.ws, s.admin, "news")
    with s.ws.engine.begin() as conn:
        conn.execute(
            update(Run)
            .where(Run.id == run.id)
            .values(
                status="processing",
                claimed_by=f"{socket.gethostname()}:{dead.pid}",
                heartbeat_at=datetime.now(UTC) - timedelta(hours=1),
            )
        )
    return run.id


def test_an_export_lost_too_often_is_not_requested_again(any_scenario: Scenario) -> None:
    """A run that kills its worker every time must not loop: after MAX_RECOVERIES lost runs
    in a row the worker leaves the export alone; one lost run fewer, it requests again."""
    s = any_scenario
    s.add_export()
    for _ in range(MAX_RECOVERIES - 2):
        _lose_a_run(s)
        assert len(recover_runs(s.ws, s.admin)) == 1  # by hand: not requested again
    _lose_a_run(s)
    lines: list[str] = []
    Worker(s.ws, s.admin, poll=0.1, log=lines.append).run(once=True)
    latest = list_runs(s.ws, s.admin, "news")[0]
    assert (latest.status, latest.trigger) == ("successful", "recovery"), lines
    for _ in range(MAX_RECOVERIES - 1):
        _lose_a_run(s)
        recover_runs(s.ws, s.admin)
    last = _lose_a_run(s)
    lines.clear()
    Worker(s.ws, s.admin, poll=0.1, log=lines.append).run(once=True)
    latest = list_runs(s.ws, s.admin, "news")[0]
    assert (latest.id, latest.status, latest.reason) == (last, "failed", WORKER_LOST)
    said = f"not requested again: its last {MAX_RECOVERIES} runs were all lost"
    assert any(latest.title in line and said in line for line in lines), lines

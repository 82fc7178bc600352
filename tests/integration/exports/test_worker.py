"""`segport worker` on one machine: it executes requested runs, fires a due refresh once,
refuses to be second on SQLite (unless the first is stale), hands a run back on SIGTERM;
`segport workers` lists it. On SQLite and PostgreSQL where the behaviour is the same."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from tests.fixtures.waiting import wait_until
from tests.integration.exports.conftest import Scenario, add_own, make_scenario, profile
from tests.integration.exports.test_cli_resume import CHUNK, emails, segport, wait_for_imports

from segport.brevo.sandbox import SandboxServer
from segport.service.audit import list_entries
from segport.service.export_configs import detach_export
from segport.service.export_schedules import schedule_export
from segport.service.run_lifecycle import request_run
from segport.service.run_model import Run
from segport.service.runs import list_runs
from segport.service.system_schedule import set_system_schedule
from segport.service.worker import Worker
from segport.service.worker_model import WorkerRow
from segport.service.workers import WorkerRunning, list_workers, register_worker


@contextmanager
def background_worker(s: Scenario, *args: str) -> Iterator[subprocess.Popen[str]]:
    """`segport worker` in its own process, registered before the block starts; stopped
    with SIGTERM after it (it must exit 0)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "segport", "--workspace", str(s.ws.path), "worker", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: proc.poll() is not None or any(w.pid == proc.pid for w in workers(s)),
            60,
            "the worker to register",
            poll=0.05,
        )
        assert proc.poll() is None, proc.communicate()[1]
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err


def workers(s: Scenario) -> list[object]:
    return list(list_workers(s.ws, s.admin))


def test_a_worker_executes_a_requested_run(any_scenario: Scenario) -> None:
    s = any_scenario
    s.add_export()
    queued = request_run(s.ws, s.admin, "news")
    lines: list[str] = []
    Worker(s.ws, s.admin, poll=0.1, log=lines.append).run(once=True)
    s.sandbox.state.wait_idle()
    [run] = list_runs(s.ws, s.admin, "news")
    assert (run.id, run.status, run.reason) == (queued.id, "successful", "completed")
    assert run.claimed_by == f"{socket.gethostname()}:{os.getpid()}"
    assert s.members() == emails(3)
    assert any("Run 1 of export 'news'" in line and "successful" in line for line in lines)
    assert workers(s) == []  # it left the registry


def test_worker_once_fires_a_due_refresh_once(any_scenario: Scenario) -> None:
    s = any_scenario
    add_own(s, "news")
    add_own(s, "by_hand", schedule="manual")
    set_at = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    set_system_schedule(s.ws, s.admin, times=["08:30"], timezone="UTC", now=set_at)

    def once(now: str) -> subprocess.CompletedProcess[str]:
        done = segport(s, "worker", "--once", "--now", now)
        assert done.returncode == 0, done.stderr
        return done

    early = once("2026-12-07T08:00:00+00:00")
    assert "system refresh" not in early.stderr and list_runs(s.ws, s.admin, "news") == []
    first = once("2026-12-07T08:31:00+00:00")
    assert "system refresh for 2026-12-07T08:30:00+00:00" in first.stderr
    [run] = list_runs(s.ws, s.admin, "news")
    assert (run.status, run.trigger) == ("successful", "schedule")
    assert list_runs(s.ws, s.admin, "by_hand") == []
    once("2026-12-07T08:45:00+00:00")
    assert len(list_runs(s.ws, s.admin, "news")) == 1  # that firing was acted on
    # Down for three days: caught up once, for the latest firing missed.
    late = once("2026-12-10T09:00:00+00:00")
    assert late.stderr.count("system refresh for") == 1
    assert "system refresh for 2026-12-10T08:30:00+00:00" in late.stderr
    assert [r.status for r in list_runs(s.ws, s.admin, "news")] == ["successful"] * 2


def test_a_second_worker_is_refused_on_sqlite(scenario: Scenario) -> None:
    with background_worker(scenario, "--poll", "0.2") as first:
        second = segport(scenario, "worker", "--once")
        assert second.returncode == 1
        assert f"a worker already runs on this workspace: {socket.gethostname()} " in second.stderr
        assert f"pid {first.pid}, since " in second.stderr
        listed = json.loads(segport(scenario, "workers", "--json").stdout)
        assert [(w["host"], w["pid"]) for w in listed] == [(socket.gethostname(), first.pid)]
        assert listed[0]["current_run_id"] is None
        table = segport(scenario, "workers").stdout
        assert str(first.pid) in table and "current run" in table
    assert workers(scenario) == []
    assert "No worker is running" in segport(scenario, "workers").stdout


def test_a_stale_worker_does_not_block_the_next(scenario: Scenario) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with scenario.ws.session() as session:
        session.add(
            WorkerRow(
                host=socket.gethostname(),
                pid=dead.pid,
                slot=1,
                started_at=long_ago,
                heartbeat_at=long_ago,
            )
        )
    assert workers(scenario) == []  # stale: not listed as live
    done = segport(scenario, "worker", "--once")
    assert done.returncode == 0, done.stderr
    # A live one (this test's process) holds the slot: refused, in the service too.
    me = register_worker(scenario.ws, scenario.admin)
    with pytest.raises(WorkerRunning) as refused:
        register_worker(scenario.ws, scenario.admin)
    assert refused.value.details["pid"] == os.getpid() == me.pid


@pytest.mark.postgres
def test_workers_are_many_on_postgresql(
    sandbox: SandboxServer, tmp_path: Path, pg_database: str
) -> None:
    s = make_scenario(tmp_path / "ws", sandbox, tmp_path, database_url=pg_database)
    try:
        first = register_worker(s.ws, s.admin)
        second = register_worker(s.ws, s.admin)
        assert [w.id for w in list_workers(s.ws, s.admin)] == [first.id, second.id]
    finally:
        s.ws.close()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_hands_the_run_back(scenario: Scenario, stop: signal.Signals) -> None:
    """SIGTERM (a service manager) and SIGINT (Ctrl-C) alike."""
    s = scenario
    s.load([profile(i) for i in range(1, 401)])
    s.add_export()
    queued = request_run(s.ws, s.admin, "news")
    proc = subprocess.Popen(
        [sys.executable, "-m", "segport", "--workspace", str(s.ws.path), "worker", *CHUNK],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_imports(s, proc, 2, "the worker could be stopped")
    proc.send_signal(stop)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "handed back as run id" in err
    handed, stopped = list_runs(s.ws, s.admin, "news")
    assert (stopped.id, stopped.status, stopped.reason) == (queued.id, "canceled", "interrupted")
    assert stopped.message is not None and stop.name in stopped.message
    assert (handed.status, handed.trigger) == ("queued", "handback")
    assert workers(s) == []
    resumed = segport(s, "worker", "--once", *CHUNK)
    assert resumed.returncode == 0, resumed.stderr
    s.sandbox.state.wait_idle()
    assert s.members() == emails(400)
    [again, _] = list_runs(s.ws, s.admin, "news")
    assert again.status == "successful" and again.summary is not None
    # The chunk going on when SIGTERM came finished; nothing was sent twice.
    assert stopped.sent and again.sent and stopped.sent + again.sent == 400
    assert str(stopped.id) in again.summary.earlier_run_changes


def test_the_worker_goes_on_past_a_run_that_cannot_run_and_recovers_lost_ones(
    any_scenario: Scenario,
) -> None:
    s = any_scenario
    add_own(s, "alpha")
    add_own(s, "beta")
    add_own(s, "gamma")
    request_run(s.ws, s.admin, "alpha")
    request_run(s.ws, s.admin, "beta")
    detach_export(s.ws, s.admin, "alpha")
    # gamma's run was processing in a process that died an hour ago.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lost = request_run(s.ws, s.admin, "gamma")
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with s.ws.engine.begin() as conn:
        conn.execute(
            update(Run)
            .where(Run.id == lost.id)
            .values(
                status="processing",
                claimed_by=f"{socket.gethostname()}:{dead.pid}",
                heartbeat_at=long_ago,
            )
        )
    lines: list[str] = []
    Worker(s.ws, s.admin, poll=0.1, log=lines.append).run(once=True)
    [alpha] = list_runs(s.ws, s.admin, "alpha")
    [beta] = list_runs(s.ws, s.admin, "beta")
    [again, gamma] = list_runs(s.ws, s.admin, "gamma")
    assert (alpha.status, alpha.reason) == ("skipped", "no_connection")
    assert (beta.status, beta.reason) == ("successful", "completed")
    assert (gamma.status, gamma.reason) == ("failed", "worker_lost")
    # Requested again by the worker that recovered it, and executed in the same go.
    assert (again.status, again.trigger) == ("successful", "recovery")
    recovered = f"recovered {gamma.title}: failed (worker_lost); requested again as run id "
    assert any(line.startswith(recovered + str(again.id)) for line in lines), lines


def test_the_worker_fires_due_export_schedules_once(any_scenario: Scenario) -> None:
    s = any_scenario
    add_own(s, "news")  # on the system schedule, which is not set: never fired
    add_own(s, "daily", schedule="manual")
    set_at = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    schedule_export(s.ws, s.admin, "daily", cron="30 8 * * *", timezone="UTC", now=set_at)
    lines: list[str] = []

    def once(at: datetime) -> None:
        Worker(s.ws, s.admin, poll=0.1, now=lambda: at, log=lines.append).run(once=True)

    once(datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    assert list_runs(s.ws, s.admin, "daily") == []
    once(datetime(2026, 12, 7, 8, 31, tzinfo=UTC))
    [run] = list_runs(s.ws, s.admin, "daily")
    assert (run.status, run.trigger) == ("successful", "schedule")
    assert any(
        "export 'daily': its schedule fired for 2026-12-07T08:30:00+00:00" in x for x in lines
    )
    once(datetime(2026, 12, 7, 8, 45, tzinfo=UTC))
    assert len(list_runs(s.ws, s.admin, "daily")) == 1  # that firing was acted on
    # Down three days: caught up once.
    lines.clear()
    once(datetime(2026, 12, 10, 9, 0, tzinfo=UTC))
    assert [r.status for r in list_runs(s.ws, s.admin, "daily")] == ["successful"] * 2
    assert sum("its schedule fired" in x for x in lines) == 1
    assert any("2026-12-10T08:30:00+00:00 (caught up)" in x for x in lines)
    assert list_runs(s.ws, s.admin, "news") == []
    [entry, _] = [e for e in list_entries(s.ws, s.admin) if e.action == "exports.schedule_fired"]
    assert entry.details == {"fired_for": "2026-12-10T08:30:00+00:00", "caught_up": True}

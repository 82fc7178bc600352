"""Runs as records: requested (queued, committed), claimed, numbered per export, canceled,
and recovered when their process died; the database keeps one unfinished run per export,
on SQLite and on PostgreSQL, also between processes requesting at the same moment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.integration.exports.conftest import Scenario, make_scenario, profile
from tests.integration.exports.test_cli_resume import CHUNK, IMPORT, emails, segport
from tests.integration.exports.test_run_report import segport as in_process

from segport.brevo.sandbox import SandboxServer
from segport.exports.engine import RunOptions
from segport.exports.summary import RunSummary
from segport.service.run_lifecycle import (
    HEARTBEAT_ENV,
    RunInProgress,
    cancel_run,
    recover_runs,
    request_run,
)
from segport.service.run_model import CANCELED_BY_USER, WORKER_LOST
from segport.service.run_records import list_all_runs
from segport.service.runs import execute_requested, list_runs


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_runs_are_numbered_per_export(scenario: Scenario) -> None:
    scenario.add_export("news")
    scenario.add_export("promo", list_id=scenario.sandbox.state.create_list("Promo"))
    for name in ("news", "promo", "news"):
        assert scenario.run(export=name).status == "successful"
    news = list_runs(scenario.ws, scenario.admin, "news")
    promo = list_runs(scenario.ws, scenario.admin, "promo")
    assert [(v.number, v.id) for v in news] == [(2, 3), (1, 1)]
    assert [(v.number, v.id) for v in promo] == [(1, 2)]
    assert all(v.reason == "completed" for v in news + promo)
    done = in_process(scenario, "exports", "run", "promo")
    assert done.returncode == 0, done.stderr
    assert "Run 2 of export 'promo': successful (id 4)" in done.stdout
    shown = in_process(scenario, "runs", "show", "4")
    assert "Run 2 of export 'promo': successful (id 4)" in shown.stdout
    data = json.loads(in_process(scenario, "runs", "show", "4", "--json").stdout)
    assert (data["id"], data["number"], data["export_name"]) == (4, 2, "promo")
    assert data["status"] == "successful" and data["reason"] == "completed"
    assert data["created_at"].endswith("+00:00") and data["summary"]["run_number"] == 2
    listed = json.loads(in_process(scenario, "runs", "list", "--json").stdout)
    assert [(r["export_name"], r["number"]) for r in listed] == [
        ("promo", 2),
        ("news", 2),
        ("promo", 1),
        ("news", 1),
    ]
    history = json.loads(in_process(scenario, "exports", "runs", "news", "--json").stdout)
    assert [r["number"] for r in history] == [2, 1]


def test_a_second_request_is_refused_and_a_queued_run_cancels(scenario: Scenario) -> None:
    scenario.add_export()
    queued = request_run(scenario.ws, scenario.admin, "news")
    assert (queued.status, queued.number) == ("queued", 1)
    with pytest.raises(RunInProgress) as refused:
        request_run(scenario.ws, scenario.admin, "news")
    assert refused.value.code == "run_in_progress"
    assert f"run 1 of export 'news' (id {queued.id}) is queued" in str(refused.value)
    assert refused.value.details["run_id"] == queued.id
    # `exports run` is refused the same way, naming the run.
    busy = in_process(scenario, "exports", "run", "news")
    assert busy.returncode == 1 and f"(id {queued.id}) is queued" in busy.stderr
    canceled = cancel_run(scenario.ws, scenario.admin, queued.id)
    assert (canceled.status, canceled.reason) == ("canceled", CANCELED_BY_USER)
    assert canceled.cancel_requested_by == scenario.admin.name
    again = in_process(scenario, "runs", "cancel", str(queued.id))
    assert again.returncode == 1 and "already ended canceled" in again.stderr
    summary = scenario.run()
    assert (summary.status, summary.run_number) == ("successful", 2)
    assert [v.status for v in list_runs(scenario.ws, scenario.admin, "news")] == [
        "successful",
        "canceled",
    ]


def test_an_executor_runs_a_requested_run_once(scenario: Scenario) -> None:
    """What a scheduler's worker does: a run requested (queued) is claimed and executed by
    one executor; another executor asking for it afterwards gets its record, untouched."""
    scenario.add_export()
    queued = request_run(scenario.ws, scenario.admin, "news", full=True, trigger="schedule")
    summary = execute_requested(scenario.ws, scenario.admin, queued.id)
    assert (summary.status, summary.run_id, summary.run_number) == ("successful", queued.id, 1)
    assert summary.full and summary.sent == 3
    again = execute_requested(scenario.ws, scenario.admin, queued.id)
    assert again.status == "successful" and again.run_id == queued.id
    [run] = list_runs(scenario.ws, scenario.admin, "news")
    assert (run.status, run.trigger, run.reason) == ("successful", "schedule", "completed")
    assert run.claimed_by is not None and run.heartbeat_at is not None


def test_cancel_of_a_processing_run_stops_between_chunks(
    sandbox_factory: Callable[..., SandboxServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slow Brevo (every import takes 0.25 s, some 20 chunks): `runs cancel` from another
    process stops the run at its next safe point; it ends canceled with what Brevo took,
    and the next run finishes the list exactly, sending none of it twice."""
    monkeypatch.setenv(HEARTBEAT_ENV, "0.05")
    sandbox = sandbox_factory(faults="import:slow=0.25")
    s = make_scenario(tmp_path / "ws", sandbox, tmp_path)
    try:
        s.load([profile(i) for i in range(1, 801)])
        s.add_export()
        result: list[RunSummary] = []
        runner = threading.Thread(
            target=lambda: result.append(s.run(options=RunOptions(max_bytes=3000)))
        )
        runner.start()
        wait_for(lambda: sandbox.requests_log.count(IMPORT) >= 2, "two chunks posted")
        [going] = list_all_runs(s.ws, s.admin, "news")
        assert going.status == "processing" and going.claimed_by is not None
        # The run's latest progress reaches its row while it processes (its page shows it):
        # chunks being sent, of a known total.
        sending = lambda: list_all_runs(s.ws, s.admin, "news")[0].progress or {}  # noqa: E731
        wait_for(lambda: sending().get("stage") in ("send", "process"), "progress recorded")
        shown = sending()
        assert 0 <= shown["done"] <= shown["total"] and shown["unit"] in ("rows", "chunks")
        asked = segport(s, "runs", "cancel", str(going.id), "--json")
        assert asked.returncode == 0, asked.stderr
        assert json.loads(asked.stdout)["cancel_requested_at"] is not None
        runner.join(timeout=120)
        [summary] = result
        assert summary.status == "canceled" and summary.reason == CANCELED_BY_USER
        assert summary.message is not None and "canceled by" in summary.message
        taken = len(s.members())
        assert 0 < summary.sent == taken < 800
        [run] = list_runs(s.ws, s.admin, "news")
        assert (run.status, run.reason, run.sent) == ("canceled", CANCELED_BY_USER, taken)
        imports = sandbox.requests_log.count(IMPORT)
        after = s.run(options=RunOptions(max_bytes=3000))
        assert after.status == "successful", after.message
        assert s.members() == emails(800)
        assert after.new == 800 - taken
        assert sandbox.requests_log.count(IMPORT) == imports + after.chunks
    finally:
        s.ws.close()


def test_a_killed_run_is_recovered_and_the_next_resumes_exactly(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 301)])
    scenario.add_export()
    killed = segport(scenario, "exports", "run", "news", *CHUNK, kill_at="submitted:3")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    [lost] = list_runs(scenario.ws, scenario.admin, "news")
    assert lost.status == "processing" and lost.claimed_by is not None
    # The heartbeat is fresh: not lost yet by the timeout.
    assert recover_runs(scenario.ws, scenario.admin) == []
    env = {**os.environ, "SEGPORT_RUN_HEARTBEAT_TIMEOUT": "0"}
    cmd = [sys.executable, "-m", "segport", "--workspace", str(scenario.ws.path)]
    recovered = subprocess.run(
        [*cmd, "runs", "recover"], capture_output=True, text=True, env=env, timeout=120
    )
    assert recovered.returncode == 0, recovered.stderr
    assert f"Run 1 of export 'news' (id {lost.id}): failed (worker_lost)" in recovered.stdout
    [failed] = list_runs(scenario.ws, scenario.admin, "news")
    assert (failed.status, failed.reason) == ("failed", WORKER_LOST)
    assert failed.message is not None and "next run resumes exactly" in failed.message
    assert recover_runs(scenario.ws, scenario.admin, timeout=0) == []  # ended once
    scenario.sandbox.state.wait_idle()
    before = scenario.sandbox.requests_log.count(IMPORT)
    assert before == 3
    done = segport(scenario, "exports", "run", "news", "--json", *CHUNK)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["run_id"], data["run_number"], data["status"]) == (2, 2, "successful")
    scenario.sandbox.state.wait_idle()
    assert scenario.members() == emails(300)
    # The three chunks Brevo took were settled, not sent again.
    assert scenario.sandbox.requests_log.count(IMPORT) == before + data["chunks"]
    assert [v.status for v in list_runs(scenario.ws, scenario.admin, "news")] == [
        "successful",
        "failed",
    ]


# -- two processes at once -------------------------------------------------------------

REQUEST = """
import json, sys, time
from pathlib import Path
from segport.service.access import actor_named
from segport.service.run_lifecycle import RunInProgress, request_run
from segport.service.opening import open_workspace

ws = open_workspace(Path(sys.argv[1]))
admin = actor_named(ws, None)
go = Path(sys.argv[2])
Path(sys.argv[3]).touch()  # ready
while not go.exists():
    time.sleep(0.001)
try:
    run = request_run(ws, admin, "news")
    print(json.dumps({"id": run.id, "number": run.number}))
except RunInProgress as exc:
    print(json.dumps({"refused": exc.code, "message": str(exc), **exc.details}))
ws.close()
"""


def _race(s: Scenario, tmp: Path) -> None:
    go = tmp / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", REQUEST, str(s.ws.path), str(go), str(tmp / f"ready{i}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(2)
    ]
    wait_for(lambda: all((tmp / f"ready{i}").exists() for i in range(2)), "both ready")
    go.touch()
    answers = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        answers.append(json.loads(out))
    made = [a for a in answers if "number" in a and "refused" not in a]
    refused = [a for a in answers if "refused" in a]
    assert len(made) == 1 and len(refused) == 1, answers
    assert refused[0]["refused"] == "run_in_progress"
    assert refused[0]["run_id"] == made[0]["id"] and refused[0]["number"] == 1
    assert f"(id {made[0]['id']}) is queued" in refused[0]["message"]
    runs = list_runs(s.ws, s.admin, "news")
    assert [(v.number, v.status) for v in runs] == [(1, "queued")]


def test_two_processes_request_at_once_on_sqlite(scenario: Scenario, tmp_path: Path) -> None:
    scenario.add_export()
    _race(scenario, tmp_path)


@pytest.mark.postgres
def test_two_processes_request_at_once_on_postgresql(
    sandbox: SandboxServer, tmp_path: Path, pg_database: str
) -> None:
    s = make_scenario(tmp_path / "ws", sandbox, tmp_path, database_url=pg_database)
    try:
        s.add_export()
        _race(s, tmp_path)
        # Ended, the next one gets number 2; the database refuses a second unfinished one.
        [queued] = list_runs(s.ws, s.admin, "news")
        cancel_run(s.ws, s.admin, queued.id)
        assert s.run().run_number == 2
    finally:
        s.ws.close()


# -- migration 0008 ----------------------------------------------------------------------


def _upgrade_from_0007(s: Scenario) -> None:
    """Two runs, then back to 0007 where two unfinished runs of one export could be
    (two machines), then up again."""
    from alembic import command
    from sqlalchemy import text

    from segport.metadata.db import _config, migrating, upgrade
    from segport.service.run_lifecycle import export_id_of

    s.add_export()
    s.run()
    s.run()
    export_id = export_id_of(s.ws, "news")
    cfg = _config()
    with migrating(s.ws.engine) as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    with s.ws.engine.begin() as conn:
        for _ in range(2):
            conn.execute(
                text(
                    'INSERT INTO runs (export_id, status, trigger, "full", allow_mass_removal, '
                    "created_at) VALUES (:e, 'processing', 'manual', false, false, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"e": export_id},
            )
    upgrade(s.ws.engine)
    runs = list_runs(s.ws, s.admin, "news")
    assert [(v.id, v.number, v.status, v.reason) for v in runs] == [
        (4, 4, "processing", None),
        (3, 3, "failed", "superseded"),
        (2, 2, "successful", None),
        (1, 1, "successful", None),
    ]
    # The database itself refuses a second unfinished run now.
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), s.ws.engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO runs (export_id, number, status, trigger, "full", '
                "allow_mass_removal, created_at) VALUES (:e, 5, 'queued', 'manual', false, "
                "false, CURRENT_TIMESTAMP)"
            ),
            {"e": export_id},
        )


def test_migration_0008_numbers_runs_and_ends_duplicates_on_sqlite(scenario: Scenario) -> None:
    _upgrade_from_0007(scenario)


@pytest.mark.postgres
def test_migration_0008_numbers_runs_and_ends_duplicates_on_postgresql(
    sandbox: SandboxServer, tmp_path: Path, pg_database: str
) -> None:
    s = make_scenario(tmp_path / "ws", sandbox, tmp_path, database_url=pg_database)
    try:
        _upgrade_from_0007(s)
    finally:
        s.ws.close()

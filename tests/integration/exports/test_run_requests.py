"""Runs requested for a worker: `exports run NAME --queue [--wait]`, `exports run --all`
(Run all: executed here when no worker runs; two at once give one run per export),
`runs retry ID`; `--wait` exits with the run's status."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
from tests.fixtures.sandbox import TEST_API_KEY
from tests.integration.exports.conftest import Scenario, add_own
from tests.integration.exports.test_cli_resume import emails, segport
from tests.integration.exports.test_run_report import segport as in_process
from tests.integration.exports.test_worker import background_worker

from segport.service.runs import list_runs


def test_queue_and_wait_exit_with_the_run_status(scenario: Scenario) -> None:
    s = scenario
    s.add_export()
    with background_worker(s, "--poll", "0.1"):
        ok = segport(s, "exports", "run", "news", "--queue", "--wait", "--json")
        assert ok.returncode == 0, ok.stderr
        assert "Waiting for the worker" in ok.stderr
        record = json.loads(ok.stdout)
        assert (record["status"], record["number"], record["trigger"]) == (
            "successful",
            1,
            "manual",
        )
        s.sandbox.state.wait_idle()
        assert s.members() == emails(3)
        # Run all leaves the runs to the worker, and --wait waits for it.
        every = segport(s, "exports", "run", "--all", "--wait", "--json")
        assert every.returncode == 0, every.stderr
        assert "No worker is running" not in every.stderr
        assert [(r["number"], r["status"]) for r in json.loads(every.stdout)] == [(2, "successful")]
        # The list is deleted in Brevo: the next run fails, and --wait says so.
        gone = httpx.delete(
            f"{s.sandbox.base_url}/contacts/lists/{s.list_id}", headers={"api-key": TEST_API_KEY}
        )
        assert gone.status_code == 204
        failed = segport(s, "exports", "run", "news", "--queue", "--wait", "--full")
        assert failed.returncode == 1, failed.stdout
        assert "Run 3 of export 'news' (id 3): failed" in failed.stdout
    assert [r.status for r in list_runs(s.ws, s.admin, "news")] == [
        "failed",
        "successful",
        "successful",
    ]


def test_queue_without_wait_only_requests(scenario: Scenario) -> None:
    scenario.add_export()
    done = in_process(scenario, "exports", "run", "news", "--queue", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "queued"
    again = in_process(scenario, "exports", "run", "news", "--queue")
    assert again.returncode == 1 and "run 1 of export 'news' (id 1) is queued" in again.stderr
    bad = in_process(scenario, "exports", "run", "--all", "news")
    assert bad.returncode == 1 and "name one export to run (NAME), or give --all" in bad.stderr
    dry = in_process(scenario, "exports", "run", "news", "--queue", "--dry-run")
    assert dry.returncode == 1 and "--dry-run runs in the foreground" in dry.stderr


def test_run_all_executes_here_without_a_worker(scenario: Scenario) -> None:
    s = scenario
    none = in_process(s, "exports", "run", "--all")
    assert none.returncode == 0 and "No export has its schedule on" in none.stderr
    add_own(s, "alpha")
    add_own(s, "beta", schedule="manual")
    add_own(s, "gamma")
    done = in_process(s, "exports", "run", "--all", "--json")
    assert done.returncode == 0, done.stderr
    assert "No worker is running: executing the 2 runs here" in done.stderr
    records = json.loads(done.stdout)
    assert [(r["export_name"], r["status"]) for r in records] == [
        ("alpha", "successful"),
        ("gamma", "successful"),
    ]
    assert list_runs(s.ws, s.admin, "beta") == []


def test_two_run_alls_at_once_give_one_run_per_export(any_scenario: Scenario) -> None:
    s = any_scenario
    for name in ("alpha", "gamma", "delta"):
        add_own(s, name)
    cmd = [sys.executable, "-m", "segport", "--workspace", str(s.ws.path), "exports", "run"]
    procs = [
        subprocess.Popen(
            [*cmd, "--all", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    for name in ("alpha", "gamma", "delta"):
        [run] = list_runs(s.ws, s.admin, name)
        assert run.status == "successful"
    # Both processes report the same three runs, ended.
    seen = [sorted((r["export_name"], r["id"]) for r in json.loads(out)) for out, _ in outputs]
    assert seen[0] == seen[1] and len(seen[0]) == 3


def test_runs_retry(scenario: Scenario) -> None:
    s = scenario
    s.add_export()
    assert s.run().status == "successful"
    retried = in_process(s, "runs", "retry", "1", "--json")
    assert retried.returncode == 0, retried.stderr
    record = json.loads(retried.stdout)
    assert (record["number"], record["status"], record["trigger"]) == (2, "queued", "retry")
    refused = in_process(s, "runs", "retry", "1")
    assert refused.returncode == 1
    assert "run 2 of export 'news' (id 2) is queued" in refused.stderr
    itself = in_process(s, "runs", "retry", "2")
    assert itself.returncode == 1 and "(id 2) is queued" in itself.stderr
    missing = in_process(s, "runs", "retry", "99")
    assert missing.returncode == 1 and "no run 99" in missing.stderr
    assert segport(s, "worker", "--once").returncode == 0
    with background_worker(s, "--poll", "0.1"):
        waited = in_process(s, "runs", "retry", "2", "--wait")
    assert waited.returncode == 0, waited.stderr
    assert "Run 3 of export 'news' (id 3): successful" in waited.stdout
    numbers = [(r.number, r.status, r.trigger) for r in list_runs(s.ws, s.admin, "news")]
    assert numbers == [
        (3, "successful", "retry"),
        (2, "successful", "retry"),
        (1, "successful", "manual"),
    ]

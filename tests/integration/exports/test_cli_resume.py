"""The real command in a subprocess: its output, and runs killed with SIGKILL at several
points (named checkpoints, and at a random moment while it posts) that the next run
finishes with exactly the list one clean run leaves, sending no chunk twice beyond the
one in flight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any

from tests.fixtures.waiting import wait_until
from tests.integration.exports.conftest import Scenario, profile

from segport.exports.state import ExportState, state_path
from segport.service.runs import list_runs

IMPORT = "POST /contacts/import"
REMOVE = "POST /contacts/lists/{listId}/contacts/remove"
CHUNK = ["--chunk-bytes", "3000"]  # ~40 contacts per chunk: many chunks from few rows


def _env(kill_at: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SEGPORT_TEST_KILL_AT"}
    if kill_at:
        env["SEGPORT_TEST_KILL_AT"] = kill_at
    return env


def segport(
    scenario: Scenario, *args: str, kill_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "segport", "--workspace", str(scenario.ws.path), *args],
        capture_output=True,
        text=True,
        env=_env(kill_at),
        timeout=180,
    )


def wait_for_imports(scenario: Scenario, proc: subprocess.Popen[Any], n: int, what: str) -> None:
    """Until the run in ``proc`` posted ``n`` imports; fails if it ended first (``what``
    it should still be running for: being killed, stopped, ...)."""
    log = scenario.sandbox.requests_log
    wait_until(
        lambda: log.count(IMPORT) >= n or proc.poll() is not None,
        90,
        f"{n} import requests",
        condition=log.changed,
    )
    assert proc.poll() is None, f"the run ended before {what}"


def emails(n: int) -> set[str]:
    return {f"user{i}@example.com" for i in range(1, n + 1)}


def statuses(scenario: Scenario) -> list[str]:
    return [r.status for r in list_runs(scenario.ws, scenario.admin, scenario.export)]


def test_cli_prints_the_summary_json_and_history(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 31)] + [profile(31, email="bad@")])
    scenario.add_export()
    done = segport(scenario, "exports", "run", "news")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Run 1 of export 'news': successful" in out
    for line in ("members  ", "valid  ", "new  ", "sent  ", "not sent  ", "Brevo-reported"):
        assert line in out
    assert "email_invalid 1" in out and "rejected.csv" in out and "time: " in out
    assert "reading members" in done.stderr  # plain progress lines when not a terminal
    scenario.sandbox.state.wait_idle()
    assert scenario.members() == emails(30)
    again = segport(scenario, "exports", "run", "news", "--json", "--full")
    data = json.loads(again.stdout)
    assert data["status"] == "successful" and data["sent"] == 30 and data["unchanged"] == 30
    assert data["rejected"] == {"email_invalid": 1} and data["run_id"] == 2
    history = segport(scenario, "exports", "runs", "news")
    assert history.returncode == 0
    lines = history.stdout.splitlines()
    assert lines[0].split()[:4] == ["run", "id", "status", "started"] and len(lines) == 3
    assert lines[1].split()[:3] == ["2", "2", "successful"]
    bad = segport(scenario, "exports", "run", "nope", "--chunk-bytes", "20000000")
    assert bad.returncode == 1 and "--chunk-bytes" in bad.stderr
    # While another process holds the export's state, a second run stops at once.
    with ExportState(state_path(scenario.ws.path, 1)):
        busy = segport(scenario, "exports", "run", "news")
    assert busy.returncode == 1
    assert "another run of this export is in progress" in busy.stderr
    assert statuses(scenario) == ["successful", "successful"]


def test_run_killed_again_and_again_finishes_exactly(scenario: Scenario) -> None:
    """Killed after planning, after a post whose answer was not yet checkpointed, after a
    checkpointed submit, after a chunk was done: each next run continues the same run (it
    settles what Brevo took, then plans the rest afresh: chunks count from 1 per plan)."""
    scenario.load([profile(i) for i in range(1, 301)])
    scenario.add_export()
    for kill_at in ("preparing:1", "planned", "posted:2", "submitted:4", "done:2"):
        killed = segport(scenario, "exports", "run", "news", *CHUNK, kill_at=kill_at)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        assert statuses(scenario) == ["processing"]
    finished = segport(scenario, "exports", "run", "news", "--json", *CHUNK)
    assert finished.returncode == 0, finished.stderr
    data = json.loads(finished.stdout)
    assert data["run_id"] == 1 and data["resumed"] is True and data["status"] == "successful"
    scenario.sandbox.state.wait_idle()
    assert scenario.members() == emails(300)
    assert data["chunks"] >= 6
    # Only chunk 2, whose acceptance was never checkpointed, went twice.
    assert scenario.sandbox.requests_log.count(IMPORT) == data["chunks"] + 1
    assert statuses(scenario) == ["successful"]
    after = json.loads(segport(scenario, "exports", "run", "news", "--json").stdout)
    assert (after["sent"], after["unchanged"]) == (0, 300)


def test_killed_while_preparing_changes_resumes_exactly(scenario: Scenario) -> None:
    """Killed after changed rows entered the prepared-contacts cache but before their index
    and the de-duplicated contacts were updated: the next run rebuilds them."""
    scenario.load([profile(i) for i in range(1, 41)])
    scenario.add_export()
    assert segport(scenario, "exports", "run", "news").returncode == 0
    rows = [profile(i) for i in range(1, 41)]
    for i in range(1, 11):
        rows[i - 1]["last_name"] = f"Moved{i}"
    rows[11]["email"] = "user13@example.com"  # 12 now duplicates 13: one of them is dropped
    scenario.load(rows)
    killed = segport(scenario, "exports", "run", "news", kill_at="preparing:1")
    assert killed.returncode == -signal.SIGKILL
    resumed = segport(scenario, "exports", "run", "news", "--json")
    assert resumed.returncode == 0, resumed.stderr
    data = json.loads(resumed.stdout)
    assert data["rejected"] == {"email_duplicate": 1}
    # 10 renamed, and user13@ now carries customer 12 (the smaller id wins the duplicate).
    assert (data["changed"], data["valid"]) == (11, 39)
    scenario.sandbox.state.wait_idle()
    assert scenario.members() == emails(40)  # add mode: user12 stays in the list
    contact = scenario.contact("user7@example.com")
    assert contact is not None and contact["attributes"]["LASTNAME"] == "Moved7"
    thirteen = scenario.contact("user13@example.com")
    assert thirteen is not None and thirteen["attributes"]["FIRSTNAME"] == "First12"


def test_killed_at_a_random_moment_while_posting(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 401)])
    scenario.add_export()
    cmd = [sys.executable, "-m", "segport", "--workspace", str(scenario.ws.path)]
    proc = subprocess.Popen(
        [*cmd, "exports", "run", "news", *CHUNK],
        env=_env(None),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_imports(scenario, proc, 3, "it could be killed")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    resumed = segport(scenario, "exports", "run", "news", "--json", *CHUNK)
    assert resumed.returncode == 0, resumed.stderr
    data = json.loads(resumed.stdout)
    scenario.sandbox.state.wait_idle()
    assert scenario.members() == emails(400)
    assert scenario.sandbox.requests_log.count(IMPORT) <= data["chunks"] + 1


def test_mirror_removal_killed_midway_resumes(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 401)])
    scenario.add_export(mode="mirror")
    assert segport(scenario, "exports", "run", "news").returncode == 0
    scenario.sandbox.state.wait_idle()
    scenario.load([profile(i) for i in range(1, 51)])
    args = ["exports", "run", "news", "--allow-mass-removal"]
    killed = segport(scenario, *args, kill_at="removed:1")
    assert killed.returncode == -signal.SIGKILL
    assert len(scenario.members()) == 400 - 150
    scenario.sandbox.requests_log.clear()
    resumed = segport(scenario, *args, "--json")
    assert resumed.returncode == 0, resumed.stderr
    data = json.loads(resumed.stdout)
    assert data["removed"] == 350 and data["resumed"] is True
    assert scenario.members() == emails(50)
    assert scenario.sandbox.requests_log.count(REMOVE) == 2  # the 150 removed are not redone
    for i in (51, 200, 400):
        assert scenario.contact(f"user{i}@example.com") is not None  # never deleted

"""Day two, combined: the parts of issue 9 meet (a target change, --empty-values, a
crash and resume, rebuild-state, shared lists, the removal guard). Each test drives the
real command and checks that the list ends as a clean run on today's inputs would leave
it, and that the dry run said so first."""

from __future__ import annotations

import json
import signal
from typing import Any

from tests.integration.exports.conftest import Scenario, profile
from tests.integration.exports.test_cli_resume import segport

MASS = "--allow-mass-removal"


def attrs(s: Scenario, i: int) -> dict[str, Any]:
    contact = s.contact(f"user{i}@example.com")
    assert contact is not None
    return dict(contact["attributes"])


def run_json(s: Scenario, *args: str) -> dict[str, Any]:
    done = segport(s, "exports", "run", "news", "--json", *args)
    assert done.returncode in (0, 1), done.stderr
    s.sandbox.state.wait_idle()
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def test_keep_to_clear_killed_after_planning_still_empties(scenario: Scenario) -> None:
    """The first run after `--empty-values keep` -> `clear` looks for values Brevo kept in
    unchanged contacts too; killed after planning, the resumed run must still look."""
    s = scenario
    rows = [profile(i) for i in range(1, 5)]
    s.load(rows)
    s.add_export()
    assert segport(s, "exports", "edit", "news", "--empty-values", "keep").returncode == 0
    assert segport(s, "exports", "run", "news").returncode == 0
    rows[1]["phone"] = ""
    s.load(rows)
    assert segport(s, "exports", "run", "news").returncode == 0
    s.sandbox.state.wait_idle()
    assert "SMS" in attrs(s, 2)  # kept
    assert segport(s, "exports", "edit", "news", "--empty-values", "clear").returncode == 0
    killed = segport(s, "exports", "run", "news", kill_at="planned")
    assert killed.returncode == -signal.SIGKILL
    dry = run_json(s, "--dry-run")
    real = run_json(s)
    assert real["status"] == "successful" and real["resumed"] is True
    assert dry["sent"] == real["sent"] == 1
    assert "SMS" not in attrs(s, 2) and "SMS" in attrs(s, 3)

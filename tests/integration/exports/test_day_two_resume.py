"""Day two: a run killed while sending or removing, resumed after the profiles changed,
ends as a clean run on today's profiles would, and the dry run before it says so."""

from __future__ import annotations

import json
import signal
from typing import Any

from tests.integration.exports.conftest import Scenario, profile
from tests.integration.exports.test_cli_resume import CHUNK, segport
from tests.integration.exports.test_run_report import segport as in_process

MASS = "--allow-mass-removal"  # the guard is not what these tests are about


def span(first: int, last: int) -> set[str]:
    return {f"user{i}@example.com" for i in range(first, last + 1)}


def dry_then_real(s: Scenario, *args: str) -> tuple[dict[str, Any], dict[str, Any]]:
    dry = in_process(s, "exports", "run", "news", "--dry-run", "--json", *args)
    assert dry.returncode == 0, dry.stderr
    real = in_process(s, "exports", "run", "news", "--json", *args)
    assert real.returncode == 0, real.stderr
    s.sandbox.state.wait_idle()
    return json.loads(dry.stdout), json.loads(real.stdout)


def agree(dry: dict[str, Any], real: dict[str, Any]) -> None:
    """The dry run's plan is the real run's (whose ``sent`` and ``removed`` also count
    what the killed part of the run did)."""
    for key in ("members", "valid", "new", "changed", "unchanged", "to_remove"):
        assert dry[key] == real[key], key
    assert dry["sent"] == real["new"] + real["changed"]


def test_killed_while_removing_then_the_right_file_is_loaded(scenario: Scenario) -> None:
    """security.md H4: the wrong file is loaded, the run removing its leavers is killed,
    the right file is put back; the resumed run must not finish the stale plan."""
    s = scenario
    right = [profile(i) for i in range(1, 401)]
    s.load(right)
    s.add_export(mode="mirror")
    assert in_process(s, "exports", "run", "news", MASS).returncode == 0
    s.load([profile(i) for i in range(201, 601)])  # the wrong file
    killed = segport(s, "exports", "run", "news", MASS, kill_at="removed:1")
    assert killed.returncode == -signal.SIGKILL
    s.sandbox.state.wait_idle()
    assert len(s.members()) == 600 - 150
    s.load(right)  # put back
    dry, real = dry_then_real(s, MASS)
    assert real["status"] == "successful" and real["resumed"] is True
    agree(dry, real)
    assert s.members() == span(1, 400)
    # The 150 removed by the killed run come back; 401-600 leave.
    assert real["new"] == 150 and real["removed"] == 150 + 200
    again = json.loads(in_process(s, "exports", "run", "news", "--json").stdout)
    assert (again["sent"], again["to_remove"], again["unchanged"]) == (0, 0, 400)


def test_killed_while_sending_then_the_segment_shrinks(scenario: Scenario) -> None:
    """Killed right after Brevo took a chunk, before it was checkpointed: those contacts
    may be in the list; once they left the segment, a mirror export must take them out."""
    s = scenario
    s.load([profile(i) for i in range(1, 101)])
    s.add_export(mode="mirror")
    assert in_process(s, "exports", "run", "news").returncode == 0
    s.load([profile(i) for i in range(1, 301)])
    killed = segport(s, "exports", "run", "news", *CHUNK, kill_at="posted:2")
    assert killed.returncode == -signal.SIGKILL
    s.sandbox.state.wait_idle()
    assert len(s.members()) > 100  # two chunks reached the list
    s.load([profile(i, last_name=f"New{i}") for i in range(1, 101)])
    dry, real = dry_then_real(s, *CHUNK, MASS)
    assert real["status"] == "successful" and real["resumed"] is True
    agree(dry, real)
    assert s.members() == span(1, 100)
    assert real["changed"] == 100  # the new names reach Brevo
    contact = s.contact("user50@example.com")
    assert contact is not None and contact["attributes"]["LASTNAME"] == "New50"

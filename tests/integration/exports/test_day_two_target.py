"""Day two: an export moved to another list or connection, or given another mapping.

What the export believes Brevo holds belongs to one target (connection, account, list):
the next run after a move sends every member to the new list, on its own, and never
removes anything from the old one; `exports edit`, `exports show` and the dry run say so.
"""

from __future__ import annotations

import re

import pytest
from tests.fixtures.sandbox import TEST_API_KEY, SandboxFactory
from tests.integration.exports.conftest import Scenario, profile
from typer.testing import CliRunner, Result

from segport.service import connections


def segport(scenario: Scenario, *args: str, code: int = 0) -> Result:
    from segport.cli import app

    result = CliRunner().invoke(app, ["--workspace", str(scenario.ws.path), *args])
    assert result.exit_code == code, result.output
    scenario.sandbox.state.wait_idle()
    return result


def emails(ids: range) -> set[str]:
    return {f"user{i}@example.com" for i in ids}


@pytest.mark.parametrize("mode", ["add", "mirror"])
def test_a_new_list_gets_every_member_and_the_old_one_keeps_its_contacts(
    scenario: Scenario, mode: str
) -> None:
    scenario.load([profile(i) for i in range(1, 6)])
    scenario.add_export(mode=mode)
    old = scenario.list_id
    segport(scenario, "exports", "run", "news", "-q")
    assert scenario.members(old) == emails(range(1, 6))
    new = scenario.sandbox.state.create_list("Second")
    edited = segport(scenario, "exports", "edit", "news", "--list-id", str(new))
    note = f"target changed since the last run (list {old} -> {new})"
    assert note in edited.output and "sends every member" in edited.output
    assert note in segport(scenario, "exports", "show", "news").output
    dry = segport(scenario, "exports", "run", "news", "--dry-run")
    assert note in dry.output
    assert re.search(r"would add +5\n", dry.output) and re.search(r"unchanged +0\n", dry.output)
    assert scenario.members(new) == set()  # the dry run sent nothing
    ran = segport(scenario, "exports", "run", "news", "--json")
    assert '"new": 5' in ran.output and '"sent": 5' in ran.output
    assert scenario.members(new) == emails(range(1, 6))
    assert scenario.members(old) == emails(range(1, 6))  # nothing left the old list
    assert "next run:" not in segport(scenario, "exports", "show", "news").output
    # From then on the export holds the new list only: a leaver leaves it (mirror), and
    # the old list is never touched again.
    scenario.load([profile(i, tier="silver" if i == 5 else "gold") for i in range(1, 6)])
    again = segport(scenario, "exports", "run", "news", "--json")
    assert '"sent": 0' in again.output
    expected = emails(range(1, 5)) if mode == "mirror" else emails(range(1, 6))
    assert scenario.members(new) == expected
    assert scenario.members(old) == emails(range(1, 6))


def test_a_new_connection_is_a_new_target(
    scenario: Scenario, sandbox_factory: SandboxFactory
) -> None:
    scenario.load([profile(i) for i in range(1, 4)])
    scenario.add_export(mode="mirror")
    segport(scenario, "exports", "run", "news", "-q")
    other = sandbox_factory()
    connections.add_connection(
        scenario.ws,
        scenario.admin,
        "other",
        "brevo",
        TEST_API_KEY,
        agree_privacy=True,
        base_url=other.base_url,
        verify=True,
    )
    other_list = other.state.create_list("Elsewhere")
    segport(
        scenario, "exports", "edit", "news", "--connection", "other", "--list-id", str(other_list)
    )
    shown = segport(scenario, "exports", "show", "news").output
    assert "target changed since the last run (connection sandbox -> other)" in shown
    segport(scenario, "exports", "run", "news", "-q")
    other.state.wait_idle()
    assert other.state.list_member_emails(other_list) == emails(range(1, 4))
    assert scenario.members() == emails(range(1, 4))


def test_a_new_mapping_is_said_and_resends_what_differs(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 4)])
    scenario.add_export()
    segport(scenario, "exports", "run", "news", "-q")
    segport(scenario, "exports", "edit", "news", "--first-name", "city")
    note = "data matching changed since the last run"
    assert note in segport(scenario, "exports", "show", "news").output
    dry = segport(scenario, "exports", "run", "news", "--dry-run")
    assert note in dry.output and re.search(r"would update +3\n", dry.output)
    segport(scenario, "exports", "run", "news", "-q")
    contact = scenario.contact("user2@example.com")
    assert contact is not None and contact["attributes"]["FIRSTNAME"] == "City2"

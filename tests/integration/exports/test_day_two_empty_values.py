"""Day two: a value that became empty in the profiles is emptied in Brevo (``clear``, the
default) by the next run, in chunks of its own sent with emptyContactsAttributes; other
contacts are sent as before, so Brevo keeps the values they never had from us. ``keep``
keeps today's behaviour: Brevo keeps its value."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.exports.conftest import Scenario, profile
from typer.testing import CliRunner, Result

IMPORT = "POST /contacts/import"


def segport(scenario: Scenario, *args: str, code: int = 0) -> Result:
    from segport.cli import app

    result = CliRunner().invoke(app, ["--workspace", str(scenario.ws.path), *args])
    assert result.exit_code == code, result.output
    scenario.sandbox.state.wait_idle()
    return result


def attrs(scenario: Scenario, i: int) -> dict[str, Any]:
    contact = scenario.contact(f"user{i}@example.com")
    assert contact is not None
    return dict(contact["attributes"])


@pytest.mark.parametrize("mode", ["add", "mirror"])
def test_emptied_values_are_emptied_in_brevo_by_the_next_run(scenario: Scenario, mode: str) -> None:
    rows = [profile(i) for i in range(1, 7)]
    rows[3]["last_name"] = ""  # user4 never had a last name from us
    scenario.load(rows)
    scenario.add_export(mode=mode)
    segport(scenario, "exports", "run", "news", "-q")
    assert "SMS" in attrs(scenario, 2) and attrs(scenario, 3)["LASTNAME"] == "Last3"
    # Someone sets user4's last name in Brevo; the export never sent one.
    scenario.sandbox.state.upsert_contact("user4@example.com", {"LASTNAME": "FromBrevo"})
    rows[1]["phone"] = ""  # user2's phone erased
    rows[2]["last_name"] = " "  # user3's last name blanked
    rows[3]["first_name"] = "Renamed"  # user4 changed, nothing emptied
    scenario.load(rows)
    scenario.sandbox.requests_log.clear()
    ran = segport(scenario, "exports", "run", "news", "--json")
    assert '"changed": 3' in ran.output and '"status": "successful"' in ran.output
    assert "SMS" not in attrs(scenario, 2)
    assert "LASTNAME" not in attrs(scenario, 3)
    assert "empty values:  clear" in segport(scenario, "exports", "show", "news").output
    four = attrs(scenario, 4)
    assert four["FIRSTNAME"] == "Renamed" and four["LASTNAME"] == "FromBrevo"
    # One chunk empties (user2 and user3, with all their values), one sends the others.
    assert scenario.sandbox.requests_log.count(IMPORT) == 2
    assert attrs(scenario, 2)["LASTNAME"] == "Last2" and attrs(scenario, 3)["SMS"]
    assert scenario.members() == {f"user{i}@example.com" for i in range(1, 7)}
    # Settled: nothing more to send, and --full sends the same values again.
    again = segport(scenario, "exports", "run", "news", "--json")
    assert '"sent": 0' in again.output
    segport(scenario, "exports", "run", "news", "--full", "-q")
    assert "SMS" not in attrs(scenario, 2) and attrs(scenario, 4)["LASTNAME"] == "FromBrevo"


def test_keep_leaves_brevo_its_values(scenario: Scenario) -> None:
    rows = [profile(i) for i in range(1, 4)]
    scenario.load(rows)
    scenario.add_export()
    segport(scenario, "exports", "edit", "news", "--empty-values", "keep")
    assert "empty values:  keep" in segport(scenario, "exports", "show", "news").output
    segport(scenario, "exports", "run", "news", "-q")
    phone = attrs(scenario, 2)["SMS"]
    rows[1]["phone"] = ""
    scenario.load(rows)
    segport(scenario, "exports", "run", "news", "-q")
    assert attrs(scenario, 2)["SMS"] == phone
    # Back to clear: the next run empties it (the state knows Brevo kept it).
    segport(scenario, "exports", "edit", "news", "--empty-values", "clear")
    ran = segport(scenario, "exports", "run", "news", "--json")
    assert '"sent": 1' in ran.output
    assert "SMS" not in attrs(scenario, 2) and attrs(scenario, 3)["SMS"]
    assert '"sent": 0' in segport(scenario, "exports", "run", "news", "--json").output


def test_a_bad_empty_values_setting_is_refused(scenario: Scenario) -> None:
    scenario.add_export()
    bad = segport(scenario, "exports", "edit", "news", "--empty-values", "wipe", code=1)
    assert "the empty-values rule 'wipe' is not known" in bad.output
    assert "(option: --empty-values clear|keep)" in bad.output

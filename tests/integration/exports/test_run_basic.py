"""Full and incremental runs against the sandbox: the list holds exactly the segment."""

from __future__ import annotations

from tests.integration.exports.conftest import Scenario, profile


def test_first_run_sends_every_member(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 51)])
    scenario.add_export()
    summary = scenario.run()
    assert summary.status == "successful", summary.message
    assert summary.members == 50 and summary.valid == 50 and summary.new == 50
    assert summary.sent == 50 and summary.changed == 0 and summary.unchanged == 0
    assert scenario.members() == {f"user{i}@example.com" for i in range(1, 51)}
    c = scenario.contact("user7@example.com")
    assert c is not None
    assert c["attributes"]["FIRSTNAME"] == "First7"
    assert c["attributes"]["LASTNAME"] == "Last7"
    assert c["attributes"]["SMS"].lstrip("+") == "447911000007"

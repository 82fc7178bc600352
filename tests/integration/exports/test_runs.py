"""Runs against the sandbox over real HTTP: exact list contents after full, incremental
and mirror runs, dry runs, limits, blacklists and recorded statuses."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.sandbox import TEST_API_KEY
from tests.integration.exports.conftest import Scenario, make_scenario, profile

from segport.brevo import BrevoClient
from segport.brevo.sandbox import SandboxServer
from segport.service.export_configs import detach_export
from segport.service.runs import list_runs

IMPORT = "POST /contacts/import"


def emails(ids: range | list[int]) -> set[str]:
    return {f"user{i}@example.com" for i in ids}


def test_incremental_run_sends_only_new_and_changed(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 51)])
    scenario.add_export()
    assert scenario.run().sent == 50
    rows = [profile(i) for i in range(1, 56)]
    for i in (2, 4, 6, 8, 10):
        rows[i - 1]["first_name"] = f"Renamed{i}"
    scenario.load(rows)
    scenario.sandbox.requests_log.clear()
    summary = scenario.run()
    assert summary.status == "successful", summary.message
    assert (summary.new, summary.changed, summary.unchanged) == (5, 5, 45)
    assert summary.sent == 10 and summary.chunks == 1
    assert scenario.sandbox.requests_log.count(IMPORT) == 1
    assert scenario.members() == emails(range(1, 56))
    contact = scenario.contact("user4@example.com")
    assert contact is not None and contact["attributes"]["FIRSTNAME"] == "Renamed4"
    # Nothing changed: nothing is sent at all.
    scenario.sandbox.requests_log.clear()
    again = scenario.run()
    assert (again.new, again.changed, again.unchanged, again.sent) == (0, 0, 55, 0)
    assert scenario.sandbox.requests_log.count(IMPORT) == 0


def test_full_run_sends_every_member_again(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 21)])
    scenario.add_export()
    scenario.run()
    summary = scenario.run(full=True)
    assert summary.full and summary.sent == 20 and summary.unchanged == 20
    assert scenario.members() == emails(range(1, 21))


def test_add_mode_keeps_members_who_left(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 11)])
    scenario.add_export()
    scenario.run()
    scenario.load([profile(i, tier="silver" if i <= 3 else "gold") for i in range(1, 11)])
    summary = scenario.run()
    assert summary.removed == 0 and summary.members == 7
    assert scenario.members() == emails(range(1, 11))


def test_mirror_removes_leavers_and_deletes_no_contact(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 21)])
    scenario.add_export(mode="mirror")
    outsider = "someone.else@example.org"
    scenario.sandbox.state.upsert_contact(outsider, {}, [scenario.list_id])
    assert scenario.run().status == "successful"
    assert scenario.members() == emails(range(1, 21)) | {outsider}
    rows = [profile(i, tier="silver" if i <= 3 else "gold") for i in range(1, 21)]
    rows[9]["email"] = "new.address10@example.com"  # a changed email leaves, too
    scenario.load(rows)
    summary = scenario.run()
    assert summary.status == "successful", summary.message
    assert summary.removed == 4 and summary.new == 1
    expected = (emails(range(4, 21)) - {"user10@example.com"}) | {"new.address10@example.com"}
    assert scenario.members() == expected | {outsider}
    for gone in ("user1@example.com", "user2@example.com", "user10@example.com"):
        assert scenario.contact(gone) is not None  # out of the list, still in Brevo
    # Back in the segment: added to the list again.
    scenario.load([profile(i) for i in range(1, 21)])
    back = scenario.run()
    assert back.removed == 1  # new.address10 left
    assert scenario.members() == emails(range(1, 21)) | {outsider}


def test_mirror_refuses_mass_removal_until_allowed(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 21)])
    scenario.add_export(mode="mirror")
    scenario.run()
    scenario.load([profile(i, tier="gold" if i <= 4 else "silver") for i in range(1, 21)])
    refused = scenario.run()
    assert refused.status == "failed"
    assert refused.removal_refused and "shrank from 20 to 4" in refused.removal_refused
    assert refused.removed == 0 and scenario.members() == emails(range(1, 21))
    # Refused again until the user confirms; the baseline did not move.
    assert scenario.run().status == "failed"
    allowed = scenario.run(allow_mass_removal=True)
    assert allowed.status == "successful" and allowed.removed == 16
    assert scenario.members() == emails(range(1, 5))


def test_mirror_refuses_to_empty_the_list(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 6)])
    scenario.add_export(mode="mirror")
    scenario.run()
    scenario.load([profile(i, tier="silver") for i in range(1, 6)])
    refused = scenario.run()
    assert refused.status == "failed" and refused.members == 0
    assert refused.removal_refused and "no valid members" in refused.removal_refused
    assert scenario.members() == emails(range(1, 6))


def test_a_first_run_of_an_empty_segment_sends_nothing_then_members_go(
    scenario: Scenario,
) -> None:
    scenario.load([profile(i, tier="silver") for i in range(1, 6)])
    scenario.add_export()
    scenario.sandbox.requests_log.clear()
    empty = scenario.run()
    assert empty.status == "successful", empty.message
    assert (empty.members, empty.valid, empty.sent) == (0, 0, 0)
    assert scenario.sandbox.requests_log.count(IMPORT) == 0
    scenario.load([profile(i) for i in range(1, 6)])
    filled = scenario.run()
    assert (filled.members, filled.new, filled.sent) == (5, 5, 5)
    assert scenario.members() == emails(range(1, 6))


def test_dry_run_sends_nothing_and_changes_no_state(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 13)] + [profile(13, email="not-an-email")])
    scenario.add_export(mode="mirror")
    scenario.sandbox.requests_log.clear()
    dry = scenario.run(dry_run=True)
    assert dry.dry_run and dry.status == "successful" and dry.run_id is None
    assert dry.new == 12 and dry.sent == 12 and dry.rejected == {"email_invalid": 1}
    assert dry.samples["new"][:2] == ["user10@example.com", "user11@example.com"]
    assert scenario.sandbox.requests_log.count(IMPORT) == 0
    assert scenario.members() == set()
    assert list_runs(scenario.ws, scenario.admin, "news") == []
    real = scenario.run()
    assert real.new == 12 and scenario.members() == emails(range(1, 13))
    scenario.load([profile(i) for i in range(1, 9)])
    dry = scenario.run(dry_run=True)
    assert dry.to_remove == 4 and sorted(dry.samples["remove"]) == sorted(emails(range(9, 13)))
    assert scenario.members() == emails(range(1, 13))


def test_over_the_profile_limit_the_run_is_skipped(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 21)])
    scenario.add_export(profile_limit=10)
    scenario.sandbox.requests_log.clear()
    summary = scenario.run()
    assert summary.status == "skipped" and summary.members == 20
    assert summary.message and "20 members" in summary.message and "limit of 10" in summary.message
    assert scenario.sandbox.requests_log.count(IMPORT) == 0 and scenario.members() == set()
    [run] = list_runs(scenario.ws, scenario.admin, "news")
    assert run.status == "skipped" and run.message == summary.message


def test_detached_export_is_skipped_with_the_reason(scenario: Scenario) -> None:
    scenario.add_export()
    detach_export(scenario.ws, scenario.admin, "news")
    summary = scenario.run()
    assert summary.status == "skipped" and summary.message
    assert "No connection" in summary.message
    assert [r.status for r in list_runs(scenario.ws, scenario.admin, "news")] == ["skipped"]


def test_blacklisted_contact_stays_blacklisted(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 6)])
    scenario.sandbox.state.upsert_contact(
        "user3@example.com", {"FIRSTNAME": "Old"}, [], email_blacklisted=True
    )
    scenario.add_export()
    scenario.run(full=True)
    contact = scenario.contact("user3@example.com")
    assert contact is not None
    assert contact["emailBlacklisted"] is True
    assert contact["attributes"]["FIRSTNAME"] == "First3"


def test_runs_are_recorded_with_status_and_counts(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 6)])
    scenario.add_export()
    first = scenario.run()
    second = scenario.run()
    runs = list_runs(scenario.ws, scenario.admin, "news")
    assert [r.id for r in runs] == [second.run_id, first.run_id]
    assert [r.status for r in runs] == ["successful", "successful"]
    assert (runs[1].members, runs[1].sent, runs[0].sent) == (5, 5, 0)
    assert runs[1].summary is not None and runs[1].summary.new == 5


def test_a_wrong_key_fails_the_run_with_brevos_message(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 4)])
    scenario.add_export()
    with BrevoClient(TEST_API_KEY, scenario.sandbox.base_url) as client:
        assert client.get_list(scenario.list_id).id == scenario.list_id
    from segport.service.connections import edit_connection

    edit_connection(scenario.ws, scenario.admin, "sandbox", api_key="wrong-key", verify=False)
    summary = scenario.run()
    assert summary.status == "failed" and summary.message
    assert "API key" in summary.message and "wrong-key" not in summary.message


def test_runs_on_postgresql_metadata(
    sandbox: SandboxServer, tmp_path: Path, pg_database: str
) -> None:
    s = make_scenario(tmp_path / "ws", sandbox, tmp_path, pg_database)
    try:
        s.load([profile(i) for i in range(1, 8)])
        s.add_export(mode="mirror")
        first = s.run()
        s.load([profile(i) for i in range(1, 6)])
        second = s.run()
        assert (first.sent, second.removed) == (7, 2)
        runs = list_runs(s.ws, s.admin, "news")
        assert [(r.status, r.members) for r in runs] == [("successful", 5), ("successful", 7)]
        assert s.members() == emails(range(1, 6))
    finally:
        s.ws.close()

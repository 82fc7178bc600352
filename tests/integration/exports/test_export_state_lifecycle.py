"""An export's state goes with it: removing an export deletes its state file, and a new
export never inherits the state of a removed one, even when it gets the same id."""

from __future__ import annotations

from tests.integration.exports.conftest import Scenario, profile

from segport.exports.state import state_path
from segport.service.export_configs import get_run_spec, remove_export


def test_a_new_export_on_a_reused_id_sends_everything(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 11)])
    scenario.add_export("first")
    assert scenario.run().sent == 10
    old_id = get_run_spec(scenario.ws, scenario.admin, "first").export_id
    path = state_path(scenario.ws.path, old_id)
    assert path.exists()

    remove_export(scenario.ws, scenario.admin, "first")
    assert not path.exists()
    assert not path.with_name(path.name + ".wal").exists()

    other = scenario.sandbox.state.create_list("Other")
    scenario.add_export("second", list_id=other)
    new_id = get_run_spec(scenario.ws, scenario.admin, "second").export_id
    summary = scenario.run()
    assert summary.status == "successful", summary.message
    # Every member is new to this export (SQLite hands out the removed id again).
    assert (summary.new, summary.unchanged, summary.sent) == (10, 0, 10)
    assert len(scenario.members(other)) == 10
    if new_id == old_id:
        assert state_path(scenario.ws.path, new_id).exists()


def test_a_leftover_state_file_is_not_inherited(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 6)])
    scenario.add_export("first")
    scenario.run()
    first_id = get_run_spec(scenario.ws, scenario.admin, "first").export_id
    # A state file left where the next export's id points (e.g. by an older segport).
    source = state_path(scenario.ws.path, first_id)
    leftover = state_path(scenario.ws.path, first_id + 1)
    for suffix in ("", ".wal"):
        if source.with_name(source.name + suffix).exists():
            leftover.with_name(leftover.name + suffix).write_bytes(
                source.with_name(source.name + suffix).read_bytes()
            )
    other = scenario.sandbox.state.create_list("Other")
    scenario.add_export("second", list_id=other)
    assert get_run_spec(scenario.ws, scenario.admin, "second").export_id == first_id + 1
    summary = scenario.run()
    assert (summary.new, summary.sent) == (5, 5)
    assert len(scenario.members(other)) == 5

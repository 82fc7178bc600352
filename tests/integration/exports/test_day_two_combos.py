"""Day two, combined: the parts of issue 9 meet (a target change, --empty-values, a
crash and resume, rebuild-state, shared lists, the removal guard). Each test drives the
real command and checks that the list ends as a clean run on today's inputs would leave
it, and that the dry run said so first."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

from tests.integration.exports.conftest import Scenario, make_scenario, profile
from tests.integration.exports.test_cli_resume import CHUNK, segport
from tests.integration.exports.test_profile_sources import _to_postgres
from typer.testing import CliRunner, Result

from segport.brevo.sandbox import SandboxServer
from segport.service.profile_source import use_table
from segport.service.segment_definitions import create_segment

MASS = "--allow-mass-removal"


def attrs(s: Scenario, i: int) -> dict[str, Any]:
    contact = s.contact(f"user{i}@example.com")
    assert contact is not None
    return dict(contact["attributes"])


def cli(s: Scenario, *args: str) -> Result:
    """The command in this process (faster than a subprocess; only killed runs need one)."""
    from segport.cli import app

    result = CliRunner().invoke(app, ["--workspace", str(s.ws.path), *args])
    assert result.exit_code in (0, 1), result.output
    s.sandbox.state.wait_idle()
    return result


def edit(s: Scenario, *args: str) -> None:
    done = cli(s, "exports", "edit", *args)
    assert done.exit_code == 0, done.output


def run_json(s: Scenario, *args: str, export: str = "news") -> dict[str, Any]:
    done = cli(s, "exports", "run", export, "--json", "-q", *args)
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def test_keep_to_clear_killed_after_planning_still_empties(scenario: Scenario) -> None:
    """The first run after `--empty-values keep` -> `clear` looks for values Brevo kept in
    unchanged contacts too; killed after planning, the resumed run must still look."""
    s = scenario
    rows = [profile(i) for i in range(1, 5)]
    s.load(rows)
    s.add_export()
    edit(s, "news", "--empty-values", "keep")
    assert run_json(s)["status"] == "successful"
    rows[1]["phone"] = ""
    s.load(rows)
    assert run_json(s)["status"] == "successful"
    s.sandbox.state.wait_idle()
    assert "SMS" in attrs(s, 2)  # kept
    edit(s, "news", "--empty-values", "clear")
    killed = segport(s, "exports", "run", "news", kill_at="planned")
    assert killed.returncode == -signal.SIGKILL
    dry = run_json(s, "--dry-run")
    real = run_json(s)
    assert real["status"] == "successful" and real["resumed"] is True
    assert dry["sent"] == real["sent"] == 1
    assert "SMS" not in attrs(s, 2) and "SMS" in attrs(s, 3)


def changes(s: Scenario, run_id: int) -> list[tuple[str, str]]:
    import csv

    path = s.ws.path / "runs" / str(run_id) / "changes.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        return sorted((r["outcome"], r["email"]) for r in csv.DictReader(fh))


def test_dry_run_between_a_killed_first_run_and_its_resume_keeps_its_record(
    scenario: Scenario,
) -> None:
    """A first run's send plan is a view of the current contacts; a dry run before the
    resumed run refreshes them, and must not change which contacts the killed part's
    accepted chunk holds (the change record lists what Brevo took, once)."""
    s = scenario
    s.load([profile(i) for i in range(1, 101)])
    s.add_export(mode="mirror")
    killed = segport(s, "exports", "run", "news", *CHUNK, kill_at="done:1")
    assert killed.returncode == -signal.SIGKILL
    s.sandbox.state.wait_idle()
    first = set(s.members())
    s.load([profile(i) for i in range(201, 301)])  # another file altogether
    dry = run_json(s, "--dry-run", MASS, *CHUNK)
    real = run_json(s, MASS, *CHUNK)
    assert real["status"] == "successful" and real["resumed"] is True
    assert dry["to_remove"] == real["to_remove"] == len(first)
    assert s.members() == {f"user{i}@example.com" for i in range(201, 301)}
    record = changes(s, real["run_id"])
    added = {e for o, e in record if o == "added"}
    removed = {e for o, e in record if o == "removed"}
    assert removed == first and first <= added
    assert len(record) == len(set(record)) == 100 + 2 * len(first)


def test_moved_to_another_list_stopped_before_sending_then_moved_back(
    scenario: Scenario,
) -> None:
    """A mirror export is edited onto the wrong list; its run is stopped before Brevo took
    anything, and the export is moved back. It still owns what it put on its list: the
    contacts that left its segment leave the list."""
    s = scenario
    other = s.sandbox.state.create_list("Other")
    s.load([profile(i) for i in range(1, 11)])
    s.add_export(mode="mirror")
    assert run_json(s)["status"] == "successful"
    edit(s, "news", "--list-id", str(other))
    killed = segport(s, "exports", "run", "news", kill_at="planned")
    assert killed.returncode == -signal.SIGKILL
    edit(s, "news", "--list-id", str(s.list_id))
    s.load([profile(i) for i in range(1, 7)])
    dry = run_json(s, "--dry-run")
    real = run_json(s)
    assert real["status"] == "successful"
    assert dry["to_remove"] == real["removed"] == 4
    assert dry["sent"] == real["sent"] == 0
    assert s.members() == {f"user{i}@example.com" for i in range(1, 7)}
    assert s.members(other) == set()
    # Moved again, and this time Brevo took the contacts on the other list: moving back
    # is a new target again (their values may have changed meanwhile): all is sent.
    edit(s, "news", "--list-id", str(other))
    assert run_json(s)["sent"] == 6
    edit(s, "news", "--list-id", str(s.list_id))
    again = run_json(s)
    assert (again["sent"], again["removed"]) == (6, 0)


def test_first_run_killed_in_flight_counts_its_contacts_as_added(scenario: Scenario) -> None:
    """Killed after Brevo took chunk 1 but before its checkpoint: the resumed run sends it
    again; those contacts were never on the list before this run, so they are new and
    added, as in a clean first run."""
    s = scenario
    s.load([profile(i) for i in range(1, 101)])
    s.add_export(mode="mirror")
    killed = segport(s, "exports", "run", "news", *CHUNK, kill_at="posted:1")
    assert killed.returncode == -signal.SIGKILL
    dry = run_json(s, "--dry-run", *CHUNK)
    real = run_json(s, *CHUNK)
    assert real["status"] == "successful" and real["resumed"] is True
    assert (dry["new"], dry["changed"]) == (real["new"], real["changed"]) == (100, 0)
    assert real["changes"] == {"added": 100}
    assert s.members() == {f"user{i}@example.com" for i in range(1, 101)}


def test_shared_list_change_record_lists_only_what_left_the_list(scenario: Scenario) -> None:
    """Leavers another export on the list still holds stay on the list: the mirror
    export's change record and counts do not say they were removed."""
    s = scenario
    s.load([profile(i) for i in range(1, 11)])
    create_segment(s.ws, s.admin, "first-five", where="customer_id <= 5")
    s.add_export("keeper", segments=["first-five"])  # add mode: holds 1-5
    s.add_export("news", mode="mirror", list_id=s.list_id, share_list=True)
    assert run_json(s, export="keeper")["status"] == "successful"
    assert run_json(s)["status"] == "successful"
    # 1-3 leave the mirror export's segment (keeper still holds them), 9-10 leave both.
    rows = [profile(i, tier="silver" if i <= 3 else "gold") for i in range(1, 9)]
    s.load(rows)
    real = run_json(s)
    assert real["status"] == "successful"
    assert real["removed"] == 2 and real["changes"] == {"removed": 2}
    removed = {e for o, e in changes(s, real["run_id"]) if o == "removed"}
    assert removed == {"user9@example.com", "user10@example.com"}
    assert s.members() == {f"user{i}@example.com" for i in range(1, 9)}


def test_keep_to_clear_and_moved_back_before_sending_still_empties(scenario: Scenario) -> None:
    """Switched from keep to clear and put on a wrong list whose run was stopped before
    Brevo took anything; moved back, the export still empties what Brevo kept."""
    s = scenario
    other = s.sandbox.state.create_list("Other")
    rows = [profile(i) for i in range(1, 5)]
    s.load(rows)
    s.add_export()
    edit(s, "news", "--empty-values", "keep")
    assert run_json(s)["status"] == "successful"
    rows[1]["phone"] = ""
    s.load(rows)
    assert run_json(s)["status"] == "successful"
    edit(s, "news", "--empty-values", "clear", "--list-id", str(other))
    killed = segport(s, "exports", "run", "news", kill_at="planned")
    assert killed.returncode == -signal.SIGKILL
    edit(s, "news", "--list-id", str(s.list_id))
    dry = run_json(s, "--dry-run")
    real = run_json(s)
    assert real["status"] == "successful" and dry["sent"] == real["sent"] == 1
    s.sandbox.state.wait_idle()
    assert "SMS" not in attrs(s, 2) and "SMS" in attrs(s, 3)
    assert s.members(other) == set()


def test_postgresql_store_killed_first_run_then_other_rows(
    sandbox: SandboxServer, tmp_path: Path, pg_database: str
) -> None:
    """Profiles in PostgreSQL (members streamed, not attached): a first run killed in
    flight, the table replaced, a dry run, then the resumed run: the list, the counts and
    the change record are a clean run's."""
    s = make_scenario(tmp_path / "ws", sandbox, tmp_path)
    try:
        _to_postgres(pg_database, [profile(i) for i in range(1, 101)])
        use_table(s.ws, s.admin, pg_database, "people", "customer_id")
        s.add_export(mode="mirror")
        killed = segport(s, "exports", "run", "news", *CHUNK, kill_at="posted:2")
        assert killed.returncode == -signal.SIGKILL
        s.sandbox.state.wait_idle()
        first = set(s.members())
        _to_postgres(pg_database, [profile(i) for i in range(51, 151)])
        dry = run_json(s, "--dry-run", MASS, *CHUNK)
        real = run_json(s, MASS, *CHUNK)
        assert real["status"] == "successful" and real["resumed"] is True
        for key in ("new", "changed", "to_remove"):
            assert dry[key] == real[key], key
        assert s.members() == {f"user{i}@example.com" for i in range(51, 151)}
        record = changes(s, real["run_id"])
        assert len(record) == len(set(record))
        added = {e for o, e in record if o == "added"}
        removed = {e for o, e in record if o == "removed"}
        # (The chunk killed in flight is not known to have been added: it is not listed
        # unless sent again.)
        wanted = {f"user{i}@example.com" for i in range(51, 151)}
        assert wanted <= added <= first | wanted
        assert removed == {f"user{i}@example.com" for i in range(1, 51)} & first
        assert not [o for o, _ in record if o == "updated"]
    finally:
        s.ws.close()


def test_a_peer_moved_away_and_back_before_sending_still_holds_its_contacts(
    scenario: Scenario,
) -> None:
    """Two exports share a list; one is put on a wrong list and moved back before Brevo
    took anything there. The mirror export on the list must not remove what that one
    still holds there (it will not send them again: they are on the list)."""
    s = scenario
    other = s.sandbox.state.create_list("Other")
    s.load([profile(i) for i in range(1, 11)])
    create_segment(s.ws, s.admin, "first-five", where="customer_id <= 5")
    s.add_export("keeper", segments=["first-five"])  # add mode: holds 1-5
    s.add_export("news", mode="mirror", list_id=s.list_id, share_list=True)
    assert run_json(s, export="keeper")["status"] == "successful"
    assert run_json(s)["status"] == "successful"
    edit(s, "keeper", "--list-id", str(other))
    killed = segport(s, "exports", "run", "keeper", kill_at="planned")
    assert killed.returncode == -signal.SIGKILL
    edit(s, "keeper", "--list-id", str(s.list_id), "--share-list")
    # 1-2 leave the mirror export's segment; keeper still has them on the list.
    s.load([profile(i, tier="silver" if i <= 2 else "gold") for i in range(1, 11)])
    real = run_json(s)
    assert real["status"] == "successful" and real["removed"] == 0
    keeper = run_json(s, export="keeper")
    assert keeper["status"] == "successful"
    s.sandbox.state.wait_idle()
    assert s.members() == {f"user{i}@example.com" for i in range(1, 11)}


def test_rebuilt_state_empties_what_became_empty(scenario: Scenario) -> None:
    """After rebuild-state the held contacts have no fingerprint and no mask: a value that
    became empty meanwhile is still emptied in Brevo, a contact on the list by other means
    leaves it (mirror), and the dry run, counts and change record agree."""
    s = scenario
    rows = [profile(i) for i in range(1, 11)]
    s.load(rows)
    s.add_export(mode="mirror")
    assert run_json(s)["status"] == "successful"
    s.sandbox.state.upsert_contact("stranger@example.com", {}, list_ids=[s.list_id])
    for leftover in s.ws.path.joinpath("state").glob("export-1.duckdb*"):
        leftover.unlink()
    rows[2]["phone"] = ""
    s.load(rows)
    assert cli(s, "exports", "run", "news", "-q").exit_code == 1  # the state is lost
    assert cli(s, "exports", "rebuild-state", "news").exit_code == 0
    dry = run_json(s, "--dry-run")
    real = run_json(s)
    assert real["status"] == "successful"
    for key in ("new", "changed", "unchanged", "to_remove"):
        assert dry[key] == real[key], key
    assert (real["changed"], real["removed"]) == (10, 1)
    assert real["changes"] == {"updated": 10, "removed": 1}
    assert "SMS" not in attrs(s, 3) and "SMS" in attrs(s, 4)
    assert s.members() == {f"user{i}@example.com" for i in range(1, 11)}
    assert run_json(s)["sent"] == 0

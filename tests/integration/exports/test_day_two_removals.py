"""Day two, mirror removal: the guard compares what would leave the list with what the
list holds from the export, whatever the reason; and two exports on one list must be
shared knowingly, a mirror export then removing only contacts no other export holds."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from sqlalchemy import select
from tests.integration.exports.conftest import Scenario, profile
from typer.testing import CliRunner, Result

from segport.exports.state import ExportState, state_path
from segport.service.models import Export
from segport.service.segment_definitions import create_segment


def segport(scenario: Scenario, *args: str, code: int = 0) -> Result:
    from segport.cli import app

    result = CliRunner().invoke(app, ["--workspace", str(scenario.ws.path), *args])
    assert result.exit_code == code, result.output
    scenario.sandbox.state.wait_idle()
    return result


def emails(ids: range | list[int]) -> set[str]:
    return {f"user{i}@example.com" for i in ids}


def test_mangled_emails_do_not_empty_a_mirror_list(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 21)])
    scenario.add_export(mode="mirror")
    segport(scenario, "exports", "run", "news", "-q")
    # The same customers, reloaded with the emails of all but one mangled by a tool.
    mangled = [
        profile(i, email=f"user{i} at example.com" if i > 1 else "user1@example.com")
        for i in range(1, 21)
    ]
    scenario.load(mangled)
    dry = segport(scenario, "exports", "run", "news", "--dry-run")
    assert "19 of the 20 contacts this export holds" in dry.output
    refused = segport(scenario, "exports", "run", "news", code=1)
    assert "mirror removal refused: 19 of the 20 contacts" in refused.output
    assert scenario.members() == emails(range(1, 21))
    allowed = segport(scenario, "exports", "run", "news", "--allow-mass-removal", "--json")
    assert '"removed": 19' in allowed.output
    assert scenario.members() == emails([1])


def test_a_second_export_on_a_list_must_share_it(scenario: Scenario) -> None:
    scenario.add_export()
    args = ["--connection", "sandbox", "--segment", "gold", "--email", "email"]
    listed = ["--list-id", str(scenario.list_id)]
    refused = segport(scenario, "exports", "add", "two", *args, *listed, code=1)
    assert "already the list of export 'news'" in refused.output
    assert "--share-list" in refused.output
    other = scenario.sandbox.state.create_list("Other")
    segport(scenario, "exports", "add", "two", *args, "--list-id", str(other))
    moved = segport(scenario, "exports", "edit", "two", *listed, code=1)
    assert "already the list of export 'news'" in moved.output
    segport(scenario, "exports", "edit", "two", *listed, "--share-list")
    shown = segport(scenario, "exports", "show", "two").output
    assert "shared list:   yes, with news" in shown
    assert "no, but two uses the list too" in segport(scenario, "exports", "show", "news").output
    copy = segport(scenario, "exports", "duplicate", "news", "copy", code=1)
    assert "already the list of export" in copy.output
    segport(scenario, "exports", "duplicate", "news", "copy", "--list-id", str(other))
    segport(scenario, "exports", "duplicate", "news", "copy2", "--share-list")


def test_a_mirror_export_leaves_what_another_export_holds_on_the_list(
    scenario: Scenario,
) -> None:
    scenario.load([profile(i) for i in range(1, 11)])
    create_segment(scenario.ws, scenario.admin, "first-five", where="customer_id <= 5")
    scenario.add_export("keeper", segments=["first-five"])  # add mode: holds 1-5
    # The mirror export shares the list (set on the record: `exports add --share-list`
    # is tested above), holding 1-10.
    scenario.add_export("mirror", mode="mirror", list_id=scenario.sandbox.state.create_list("B"))
    with scenario.ws.session() as session:
        row = session.scalars(select(Export).where(Export.name == "mirror")).one()
        row.list_id, row.share_list = scenario.list_id, True
    segport(scenario, "exports", "run", "keeper", "-q")
    segport(scenario, "exports", "run", "mirror", "-q")
    assert scenario.members() == emails(range(1, 11))
    # 1, 2 and 6 leave the mirror export's segment; keeper still holds 1 and 2.
    leaving = {1, 2, 6}
    scenario.load([profile(i, tier="silver" if i in leaving else "gold") for i in range(1, 11)])
    dry = segport(scenario, "exports", "run", "mirror", "--dry-run")
    assert re.search(r"would remove +1\n", dry.output)
    ran = segport(scenario, "exports", "run", "mirror", "--json")
    assert '"removed": 1' in ran.output and '"status": "successful"' in ran.output
    assert scenario.members() == emails(range(1, 11)) - {"user6@example.com"}
    assert '"sent": 0' in segport(scenario, "exports", "run", "keeper", "--json").output
    assert scenario.members() == emails(range(1, 11)) - {"user6@example.com"}


def test_a_mirror_export_removes_nothing_while_a_peer_on_its_list_runs(
    scenario: Scenario,
) -> None:
    scenario.load([profile(i) for i in range(1, 11)])
    create_segment(scenario.ws, scenario.admin, "first-five", where="customer_id <= 5")
    scenario.add_export("keeper", segments=["first-five"])
    segport(scenario, "exports", "add", "mirror", "--connection", "sandbox", "--list-id",
            str(scenario.list_id), "--segment", "gold", "--email", "email", "--mode", "mirror",
            "--share-list")  # fmt: skip
    segport(scenario, "exports", "run", "keeper", "-q")
    segport(scenario, "exports", "run", "mirror", "-q")
    scenario.load([profile(i, tier="silver" if i == 6 else "gold") for i in range(1, 11)])
    with scenario.ws.session() as session:
        keeper = session.scalars(select(Export.id).where(Export.name == "keeper")).one()
    # A run of the keeper holds its state: what it holds cannot be read, so nothing goes.
    with ExportState(state_path(scenario.ws.path, keeper)):
        busy = subprocess.run(
            [sys.executable, "-m", "segport", "--workspace", str(scenario.ws.path), "exports",
             "run", "mirror", "-q"],
            capture_output=True, text=True, timeout=180, env=dict(os.environ),
        )  # fmt: skip
    assert busy.returncode == 1, busy.stderr
    assert "export 'keeper' shares this list and is running now" in busy.stdout
    scenario.sandbox.state.wait_idle()
    assert scenario.members() == emails(range(1, 11))
    again = segport(scenario, "exports", "run", "mirror", "--json")
    assert '"removed": 1' in again.output
    assert scenario.members() == emails(range(1, 11)) - {"user6@example.com"}

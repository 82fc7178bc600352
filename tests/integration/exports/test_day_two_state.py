"""Day two: an export state that was lost, cut short or put back from an older copy stops
the run with the file and the ways back, and `exports rebuild-state` rebuilds it from the
list's members in Brevo (security.md M6)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.integration.exports.conftest import Scenario, profile
from tests.integration.exports.test_cli_resume import IMPORT, emails
from tests.integration.exports.test_run_report import segport

from segport.exports.state import state_path
from segport.service.audit import list_entries
from segport.service.models import Export


def _paths(s: Scenario) -> tuple[Path, Path]:
    path = state_path(s.ws.path, 1)
    return path, path.with_name(path.name + ".wal")


def refused(s: Scenario, *args: str) -> str:
    before = s.sandbox.requests_log.count(IMPORT)
    done = segport(s, "exports", "run", "news", *args)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert s.sandbox.requests_log.count(IMPORT) == before  # nothing was sent
    assert str(_paths(s)[0]) in done.stderr and "rebuild-state news" in done.stderr
    return done.stderr


def test_lost_write_ahead_log_is_detected_and_rebuilt(scenario: Scenario) -> None:
    s = scenario
    s.load([profile(i) for i in range(1, 41)])
    s.add_export(mode="mirror")
    assert segport(s, "exports", "run", "news").returncode == 0
    _, wal = _paths(s)
    assert wal.exists()
    wal.unlink()
    assert "missing, cut short or not the one" in refused(s)
    refused(s, "--dry-run")
    s.load([profile(i) for i in range(1, 31)])  # 31-40 leave the segment meanwhile
    rebuilt = segport(s, "exports", "rebuild-state", "news")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "40 contacts held" in rebuilt.stdout
    [entry] = [e for e in list_entries(s.ws, s.admin) if e.action == "exports.rebuild_state"]
    assert entry.target == "news" and entry.details["held"] == 40
    dry = json.loads(segport(s, "exports", "run", "news", "--dry-run", "--json").stdout)
    run = segport(s, "exports", "run", "news", "--json", "--allow-mass-removal")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    # Every member's values are sent again; the mirror export owns the list again.
    assert (data["changed"], data["removed"]) == (30, 10)
    assert (dry["changed"], dry["to_remove"]) == (30, 10)
    s.sandbox.state.wait_idle()
    assert s.members() == emails(30)
    after = json.loads(segport(s, "exports", "run", "news", "--json").stdout)
    assert (after["status"], after["sent"], after["unchanged"]) == ("successful", 0, 30)


def test_state_put_back_from_an_older_copy_is_refused(scenario: Scenario, tmp_path: Path) -> None:
    s = scenario
    s.load([profile(i) for i in range(1, 21)])
    s.add_export(mode="mirror")
    assert segport(s, "exports", "run", "news").returncode == 0
    path, wal = _paths(s)
    backup = tmp_path / "backup"
    backup.mkdir()
    for f in (path, wal):
        if f.exists():
            shutil.copy2(f, backup / f.name)
    s.load([profile(i) for i in range(1, 31)])
    assert segport(s, "exports", "run", "news").returncode == 0
    for f in (path, wal):
        f.unlink(missing_ok=True)
        if (backup / f.name).exists():
            shutil.copy2(backup / f.name, f)
    assert "put back from an older copy" in refused(s)


def test_state_cut_short_is_refused_and_rebuilt(scenario: Scenario) -> None:
    s = scenario
    s.load([profile(i) for i in range(1, 21)])
    s.add_export()
    assert segport(s, "exports", "run", "news").returncode == 0
    path, wal = _paths(s)
    wal.unlink(missing_ok=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    message = refused(s)
    assert "the export state" in message or "missing, cut short" in message
    viewer = segport(s, "users", "add", "vic", "--role", "viewer")
    assert viewer.returncode == 0, viewer.stderr
    denied = segport(s, "--as", "vic", "exports", "rebuild-state", "news")
    assert denied.returncode == 1 and "vic" in denied.stderr
    rebuilt = segport(s, "exports", "rebuild-state", "news")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "20 contacts held" in rebuilt.stdout and ".before-rebuild" in rebuilt.stdout
    run = segport(s, "exports", "run", "news", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["changed"] == 20


def test_state_lost_before_tokens_existed_is_refused(scenario: Scenario) -> None:
    """A workspace whose runs predate state tokens: an empty state after a successful run
    is refused all the same."""
    s = scenario
    s.load([profile(i) for i in range(1, 11)])
    s.add_export(mode="mirror")
    assert segport(s, "exports", "run", "news").returncode == 0
    with s.ws.session() as session:
        export = session.get(Export, 1)
        assert export is not None and export.state_token
        export.state_token = None
    for f in _paths(s):
        f.unlink(missing_ok=True)
    refused(s)

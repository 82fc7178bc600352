"""Phones in several countries, through the CLI against the sandbox (issue 9, F-6).

A mixed GB/FR/DE/US file with ``--phone-country-column``: every valid number reaches
Brevo in E.164, each read in its row's country; the bad ones are in rejected.csv with
their row named; a changed country alone makes the next run read the number again.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fixtures.sandbox import TEST_API_KEY
from tests.fixtures.workspace import Cli, _command
from typer.testing import CliRunner

from segport.brevo.sandbox import SandboxServer
from segport.service import connections
from segport.service.access import actor_named
from segport.service.opening import init_workspace
from segport.service.profile_source import load_profiles
from segport.service.segment_definitions import create_segment
from segport.service.workspace import Workspace

FIELDS = ("customer_id", "email", "phone", "country")
# customer id, phone, country, what Brevo must hold as SMS (None: sent without SMS)
ROWS: list[tuple[int, str, str, str | None]] = [
    (1, "020 7946 0018", "GB", "+442079460018"),
    (2, "07911 123456", "gb", "+447911123456"),
    (3, "06 12 34 56 78", "FR", "+33612345678"),
    (4, "01 23 45 67 89", " fr ", "+33123456789"),
    (5, "030 901820", "DE", "+4930901820"),
    (6, "0151 23456789", "De", "+4915123456789"),
    (7, "(415) 555-2671", "US", "+14155552671"),
    (8, "212.555.0199", "us", "+12125550199"),
    (9, "+44 20 7946 0019", "FR", "+442079460019"),  # international: read as given
    (10, "07911 123457", "", "+447911123457"),  # blank country: --phone-region (GB)
    (11, "+33 6 12 34 56 79", "UK", "+33612345679"),  # bad country, international number
    (12, "07911 123458", "UK", None),  # bad country, national number: rejected
    (13, "0151 2345", "DE", None),  # not a valid German number: rejected
    (14, "", "FR", None),  # no phone: nothing to report
]


@pytest.fixture
def ws(sandbox: SandboxServer, tmp_path: Path) -> Iterator[Workspace]:
    workspace = init_workspace(tmp_path / "ws")
    connections.add_connection(
        workspace, actor_named(workspace, None), "sandbox", "brevo", TEST_API_KEY,
        agree_privacy=True, base_url=sandbox.base_url, verify=True,
    )  # fmt: skip
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def cli(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Cli:
    import typer.testing

    monkeypatch.setattr(typer.testing, "_get_command", _command)
    return Cli(ws.path, CliRunner())


def _load(ws: Workspace, tmp: Path, rows: list[tuple[int, str, str, str | None]]) -> None:
    path = tmp / "profiles.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(FIELDS)
        for cid, phone, country, _ in rows:
            writer.writerow([cid, f"user{cid}@example.com", phone, country])
    load_profiles(ws, actor_named(ws, None), path, id_column="customer_id", replace=True)


def _rejects(output: str) -> list[dict[str, str]]:
    line = next(x for x in output.splitlines() if "rejected.csv" in x)
    path = Path(line[line.index("/") :].split()[0].rstrip(")."))
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _sms(sandbox: SandboxServer, cid: int) -> str | None:
    contact = sandbox.state.get_contact(f"user{cid}@example.com")
    assert contact is not None, cid
    sms = contact["attributes"].get("SMS")
    # Brevo stores (and shows) the number without its "+"; segport sends it in E.164.
    return None if sms is None else "+" + str(sms).lstrip("+")


def _add(cli: Cli, list_id: int, *extra: str, ok: bool = True) -> str:
    return cli(
        "exports", "add", "world", "--connection", "sandbox", "--list-id", str(list_id),
        "--segment", "everyone", "--email", "email", "--phone", "phone", *extra, ok=ok,
    ).output  # fmt: skip


def test_mixed_countries_send_every_valid_number(
    ws: Workspace, cli: Cli, sandbox: SandboxServer, tmp_path: Path
) -> None:
    _load(ws, tmp_path, ROWS)
    create_segment(ws, actor_named(ws, None), "everyone", where="customer_id > 0")
    list_id = sandbox.state.create_list("World")
    missing = _add(cli, list_id, "--phone-country-column", "land", ok=False)
    assert "the phone country column 'land': the profiles have no such column" in missing
    assert "(option: --phone-country-column COLUMN)" in missing
    _add(cli, list_id, "--phone-country-column", "country")
    show = cli("exports", "show", "world", ok=True).output
    assert "phone region:  GB (default)" in show
    assert "phone country: country" in show

    run = cli("exports", "run", "world", ok=True).output
    sandbox.state.wait_idle()
    assert len(sandbox.state.list_member_emails(list_id)) == len(ROWS)  # all sent
    for cid, _, _, e164 in ROWS:
        assert _sms(sandbox, cid) == e164, cid
    rejects = {int(r["customer_id"]): r for r in _rejects(run)}
    assert set(rejects) == {12, 13}
    assert rejects[12]["reason"] == "phone_country_invalid" and rejects[12]["field"] == "SMS"
    assert rejects[12]["email"] == "user12@example.com"
    assert "column 'country' holds 'UK'" in rejects[12]["detail"]
    assert rejects[13]["reason"] == "phone_invalid"
    assert "region DE" in rejects[13]["detail"]


def test_a_changed_country_reads_the_number_again(
    ws: Workspace, cli: Cli, sandbox: SandboxServer, tmp_path: Path
) -> None:
    rows = [(1, "06 12 34 56 70", "", None), (2, "020 7946 0018", "", "+442079460018")]
    _load(ws, tmp_path, rows)
    create_segment(ws, actor_named(ws, None), "everyone", where="customer_id > 0")
    list_id = sandbox.state.create_list("World")
    _add(cli, list_id, "--phone-region", "GB", "--phone-country-column", "country")
    cli("exports", "run", "world", ok=True)
    sandbox.state.wait_idle()
    assert _sms(sandbox, 1) is None  # a French number read as GB: not valid
    # Only the country changes: the number must be read again, now in France.
    _load(ws, tmp_path, [(1, "06 12 34 56 70", "FR", None), rows[1]])
    cli("exports", "run", "world", ok=True)
    sandbox.state.wait_idle()
    assert _sms(sandbox, 1) == "+33612345670"
    assert _sms(sandbox, 2) == "+442079460018"
    # Cleared, the export reads every national number in its region again.
    cli("exports", "edit", "world", "--phone-country-column", "", ok=True)
    show = cli("exports", "show", "world", ok=True).output
    assert "phone country: -" in show and "phone region:  GB\n" in show
    refused = cli("exports", "edit", "world", "--phone", "", "--phone-country-column", "country")
    assert refused.exit_code != 0 and "map a phone column too" in refused.output

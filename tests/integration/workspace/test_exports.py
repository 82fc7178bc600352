"""Export configurations through the CLI against the sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from tests.fixtures.sandbox import SandboxFactory
from tests.fixtures.workspace import Cli

from segport.brevo import BrevoClient
from segport.brevo.sandbox import SandboxServer
from segport.service import (
    CLEAR,
    ExportConfig,
    ExportEdit,
    ExportMapping,
    connections,
    edit_export,
    users,
)
from segport.service.access import actor_named
from segport.service.export_configs import ExportChanged, add_export, get_run_spec
from segport.service.segment_definitions import delete_segment
from segport.service.workspace import Workspace, WorkspaceError


def _connect(cli: Cli, sandbox: SandboxServer, name: str = "news", *extra: str) -> None:
    cli(
        "connections", "add", name, "--type", "brevo", "--api-key-stdin", "--agree-privacy",
        "--base-url", sandbox.base_url, *extra, input=sandbox.api_key, ok=True,
    )  # fmt: skip


@pytest.fixture
def setup(profiled_workspace: Workspace, cli: Cli, sandbox: SandboxServer) -> tuple[Cli, int]:
    """Users of every role, a private and a shared connection, a list and a CITY attribute."""
    ws = profiled_workspace
    users.add_user(ws, actor_named(ws, None), "carol", "contributor")
    users.add_user(ws, actor_named(ws, None), "vic", "viewer")
    for name, share in (("private", False), ("shared", True)):
        connections.add_connection(
            ws, actor_named(ws, None), name, "brevo", sandbox.api_key, agree_privacy=True,
            base_url=sandbox.base_url, share_with_contributors=share,
        )  # fmt: skip
    if "CITY" not in sandbox.state.attributes:
        with BrevoClient(sandbox.api_key, sandbox.base_url) as client:
            client.create_attribute("normal", "CITY", "text")
    return cli, sandbox.state.create_list("Newsletter")


def _add(cli: Cli, name: str, *extra: str, connection: str = "shared", list_id: int,
         actor: str | None = None, ok: bool | None = True) -> str:  # fmt: skip
    return cli(
        "exports", "add", name, "--connection", connection, "--list-id", str(list_id),
        "--segment", "gb", "--email", "email", *extra, actor=actor, ok=ok,
    ).output  # fmt: skip


def test_add_checks_and_saves_without_running(
    setup: tuple[Cli, int], profiled_workspace: Workspace, sandbox: SandboxServer
) -> None:
    cli, list_id = setup
    out = _add(
        cli, "GB news", "--segment", "big", "--first-name", "first", "--last-name", "last",
        "--phone", "phone", "--attribute", "city=city", "--mode", "mirror",
        "--phone-region", "gb", "--limit", "5000", "--schedule", "manual", list_id=list_id,
    )  # fmt: skip
    assert "saved (not run)" in out and "segments gb, big -> list" in out
    assert sandbox.state.list_member_emails(list_id) == set()
    show = cli("exports", "show", "GB news", ok=True).output
    for expected in ("connection:    shared", f"list:          {list_id}", "mode:          mirror",
                     "phone region:  GB", "profile limit: 5,000", "schedule:      manual",
                     "EMAIL <- email", "FIRSTNAME <- first", "LASTNAME <- last", "SMS <- phone",
                     "CITY <- city", "last status:   not_started"):  # fmt: skip
        assert expected in show
    spec = get_run_spec(profiled_workspace, actor_named(profiled_workspace, "carol"), "GB news")
    m = spec.config.mapping
    assert m.attributes == {"CITY": "city"} and spec.config.segments == ("gb", "big")
    assert m.first_name_attribute == "FIRSTNAME" and m.last_name_attribute == "LASTNAME"
    # The default limit is the platform's million.
    _add(cli, "plain", "--share-list", list_id=list_id)  # (the list of "GB news" too)
    assert (
        get_run_spec(
            profiled_workspace, actor_named(profiled_workspace, None), "plain"
        ).config.profile_limit
        == 1_000_000
    )
    log = cli("audit", "--limit", "1", ok=True).output
    assert "exports.add" in log and "plain" in log


def test_first_and_last_name_follow_the_accounts_language(
    profiled_workspace: Workspace, cli: Cli, sandbox_factory: SandboxFactory
) -> None:
    fr = sandbox_factory(locale="fr")
    _connect(cli, fr, "fr")
    list_id = fr.state.create_list("Infolettre")
    _add(cli, "fr", "--first-name", "first", "--last-name", "last", connection="fr",
         list_id=list_id)  # fmt: skip
    show = cli("exports", "show", "fr", ok=True).output
    assert "PRENOM <- first" in show and "NOM <- last" in show
    spec = get_run_spec(profiled_workspace, actor_named(profiled_workspace, None), "fr")
    m = spec.config.mapping
    assert (m.first_name_attribute, m.last_name_attribute) == ("PRENOM", "NOM")


def test_each_wrong_setting_says_what_to_fix(
    setup: tuple[Cli, int], profiled_workspace: Workspace
) -> None:
    cli, list_id = setup
    good = ExportConfig("x", "shared", list_id, ("gb",), ExportMapping("email"))
    m = good.mapping
    cases = [
        ({"list_id": 999}, "list 999 does not exist in this Brevo account (Brevo said: "),
        ({"mapping": replace(m, email="mail")},
         "the email column 'mail': the profiles have no such column; columns: city, "),
        ({"mapping": replace(m, first_name="prenom")},
         "the first-name column 'prenom': the profiles have no such column"),
        ({"mapping": replace(m, attributes={"TIER": "city"})},
         "the attribute TIER (from column 'city'): the Brevo account has no attribute TIER; "
         "its attributes: CITY, "),
        ({"mapping": replace(m, attributes={"CITY": "town"})},
         "the column of attribute CITY 'town': the profiles have no such"),
        ({"segments": ("gb", "nope")}, "the segment 'nope': no segment named 'nope'; the "
                                       "segments are: big, gb"),
        ({"connection": "nope"}, "no connection 'nope' is available to you; "
                                 "connections you can use: private, shared"),
    ]  # fmt: skip
    for change, message in cases:
        config = replace(good, **change)  # type: ignore[arg-type]
        with pytest.raises(WorkspaceError) as info:
            add_export(profiled_workspace, actor_named(profiled_workspace, None), config)
        assert message in str(info.value), change
    add_export(profiled_workspace, actor_named(profiled_workspace, None), good)
    out = cli("exports", "add", "y", "--list-id", "1", "--segment", "gb", "--email", "email",
              actor="carol", ok=False).output  # fmt: skip
    assert "--connection is required; connections you can use: shared (brevo)" in out
    out = cli("exports", "add", "y", "--connection", "shared", "--list-id", str(list_id),
              "--segment", "gb", "--email", "email", "--attribute", "CITY").output  # fmt: skip
    assert "the attribute mapping 'CITY' must look like ATTR=COLUMN" in out
    assert "(option: --attribute ATTRIBUTE=COLUMN)" in out  # the CLI names its option
    names = [line.split()[0] for line in cli("exports", "list", ok=True).output.splitlines()]
    assert names == ["name", "x"]


def test_roles_on_exports(setup: tuple[Cli, int], profiled_workspace: Workspace) -> None:
    cli, list_id = setup
    # A contributor may not use a connection that is not shared with contributors...
    out = _add(cli, "c1", connection="private", list_id=list_id, actor="carol", ok=False)
    assert "connection 'private' is not shared with contributors" in out
    # ...but manages exports on a shared one; viewers change nothing.
    _add(cli, "c1", list_id=list_id, actor="carol")
    _add(cli, "a1", "--share-list", connection="private", list_id=list_id)
    assert "vic is a viewer and may not create or change exports" in _add(
        cli, "v1", list_id=list_id, actor="vic", ok=False
    )
    for args in (("edit", "c1", "--limit", "5"), ("duplicate", "c1", "c2"), ("detach", "c1"),
                 ("remove", "c1")):  # fmt: skip
        assert "may not create or change exports" in cli("exports", *args, actor="vic").output
        out = cli("exports", *[a.replace("c1", "a1") for a in args], actor="carol", ok=False)
        assert "may only view it" in out.output
    rows = {
        line.split()[0]: line for line in cli("exports", "list", actor="carol").output.splitlines()
    }
    assert rows["name"].split() == ["name", "connection", "segments", "schedule", "next",
                                    "firing", "last", "status", "last", "run", "you",
                                    "may"]  # fmt: skip
    off = ["system", "refresh", "is", "off"]  # the next firing: the system refresh is not set
    assert rows["a1"].split()[1:] == ["private", "gb", "system", *off, "not_started", "-",
                                      "view"]  # fmt: skip
    assert rows["c1"].split()[1:] == ["shared", "gb", "system", *off, "not_started", "-",
                                      "view,", "edit,", "run"]  # fmt: skip
    assert cli("exports", "list", actor="vic").output.count("view\n") == 2
    cli("exports", "edit", "c1", "--limit", "5", actor="carol", ok=True)
    assert (
        get_run_spec(
            profiled_workspace, actor_named(profiled_workspace, "carol"), "c1"
        ).config.profile_limit
        == 5
    )
    # Nor may a contributor move an export onto a connection not shared with them...
    out = cli("exports", "edit", "c1", "--connection", "private", actor="carol", ok=False)
    assert "connection 'private' is not shared with contributors" in out.output
    # ...and once an admin stops sharing, the contributor's exports there become view-only.
    cli("connections", "edit", "shared", "--no-share-with-contributors", ok=True)
    assert "may only view it" in cli("exports", "edit", "c1", "--limit", "6", actor="carol").output
    assert "not shared with contributors" in cli("exports", "run", "c1", actor="carol").output


def test_edit_duplicate_detach_remove(
    setup: tuple[Cli, int], profiled_workspace: Workspace, sandbox: SandboxServer
) -> None:
    cli, list_id = setup
    _add(cli, "e", "--attribute", "CITY=city", "--first-name", "first", list_id=list_id)
    other = sandbox.state.create_list("Other")
    out = cli("exports", "edit", "e", "--rename", "e2", "--list-id", str(other), "--segment",
              "big", "--remove-attribute", "city", "--first-name", "", "--phone", "phone",
              ok=True).output  # fmt: skip
    assert f"segments big -> list {other}" in out
    spec = get_run_spec(profiled_workspace, actor_named(profiled_workspace, None), "e2")
    assert spec.config.mapping.attributes == {} and spec.config.mapping.first_name is None
    assert spec.config.mapping.phone == "phone" and spec.config.list_id == other
    assert "list 4242 does not exist" in cli("exports", "edit", "e2", "--list-id", "4242").output
    assert "nothing to change" in cli("exports", "edit", "e2", ok=False).output
    out = cli("exports", "edit", "e2", "--remove-attribute", "tier", ok=False).output
    assert "the export maps no attribute TIER; it maps none (option: --remove-attribute)" in out
    # The same edit without the CLI: explicit fields, the attribute added in the service.
    admin = actor_named(profiled_workspace, None)
    view = edit_export(
        profiled_workspace, admin, "e2", changes=ExportEdit(add_attributes={"city": "city"})
    )
    assert view.config.mapping.attributes == {"CITY": "city"} and view.config.list_id == other
    view = edit_export(
        profiled_workspace,
        admin,
        "e2",
        changes=ExportEdit(remove_attributes=("City",), phone=CLEAR, schedule="Manual"),
    )
    assert view.config.mapping.attributes == {} and view.config.mapping.phone is None
    assert view.config.schedule == "manual"

    cli("exports", "duplicate", "e2", "e3", "--share-list", ok=True)
    assert (
        get_run_spec(profiled_workspace, actor_named(profiled_workspace, None), "e3").config.list_id
        == other
    )
    assert "already exists" in cli("exports", "duplicate", "e2", "e3", ok=False).output

    out = cli("exports", "detach", "e3", ok=True).output
    assert "detached" in out
    assert "No connection (detached" in cli("exports", "show", "e3", ok=True).output
    rows = [line.split()[:3] for line in cli("exports", "list", ok=True).output.splitlines()]
    assert ["e3", "No", "connection"] in rows
    # Detached keeps its settings; giving it a connection again makes it runnable.
    cli("exports", "edit", "e3", "--connection", "private", ok=True)
    assert (
        get_run_spec(
            profiled_workspace, actor_named(profiled_workspace, None), "e3"
        ).credentials.name
        == "private"
    )

    # A segment an export uses cannot be deleted.
    with pytest.raises(Exception, match="used by export"):
        delete_segment(profiled_workspace, actor_named(profiled_workspace, None), "big")
    cli("exports", "remove", "e2", ok=True)
    cli("exports", "remove", "e3", ok=True)
    delete_segment(profiled_workspace, actor_named(profiled_workspace, None), "big")
    assert "no export named 'e2'" in cli("exports", "show", "e2", ok=False).output


def test_removing_a_connection_in_use(
    setup: tuple[Cli, int], profiled_workspace: Workspace
) -> None:
    cli, list_id = setup
    _add(cli, "one", list_id=list_id)
    _add(cli, "two", "--share-list", list_id=list_id)
    out = cli("connections", "remove", "shared", ok=False).output
    assert "used by 2 export(s): one, two" in out
    assert "--detach-exports" in out and "--remove-exports" in out
    assert "shared" in cli("connections", "list", ok=True).output
    out = cli("connections", "remove", "shared", "--detach-exports", ok=True).output
    assert "exports detached (they keep their settings): one, two" in out
    assert cli("exports", "list", ok=True).output.count("No connection") == 2
    cli("exports", "edit", "one", "--connection", "private", ok=True)
    out = cli("connections", "remove", "private", "--remove-exports", ok=True).output
    assert "exports removed" in out and "one" in out
    names = [line.split()[0] for line in cli("exports", "list", ok=True).output.splitlines()]
    assert names == ["name", "two"]


def test_an_edit_is_saved_only_onto_the_settings_it_was_made_from(
    profiled_workspace: Workspace, sandbox_factory: SandboxFactory
) -> None:
    """An edit checked against Brevo (outside the database transaction) while another
    edit is saved is refused, not saved over it."""
    ws = profiled_workspace
    admin = actor_named(ws, None)
    slow = sandbox_factory(faults="attributes:slow=2")  # every attribute listing takes 2 s
    connections.add_connection(
        ws, admin, "slow", "brevo", slow.api_key, agree_privacy=True, base_url=slow.base_url,
        verify=False,
    )  # fmt: skip
    list_id, other = slow.state.create_list("A"), slow.state.create_list("B")
    add_export(ws, admin, ExportConfig("x", "slow", list_id, ("gb",), ExportMapping("email")))
    lists = slow.requests_log
    checked = lists.count("GET /contacts/lists/{listId}")
    refused: list[Exception] = []

    def move() -> None:  # asks Brevo about the new list, then lists the attributes (slow)
        try:
            edit_export(ws, admin, "x", changes=ExportEdit(list_id=other))
        except ExportChanged as exc:
            refused.append(exc)

    mover = threading.Thread(target=move)
    mover.start()
    deadline = time.monotonic() + 30
    while lists.count("GET /contacts/lists/{listId}") == checked:  # the move is being checked
        assert time.monotonic() < deadline and mover.is_alive()
        time.sleep(0.01)
    edit_export(ws, admin, "x", changes=ExportEdit(profile_limit=7))  # no Brevo check
    mover.join()
    assert len(refused) == 1 and "changed by someone else" in str(refused[0])
    config = get_run_spec(ws, admin, "x").config
    assert (config.list_id, config.profile_limit) == (list_id, 7)

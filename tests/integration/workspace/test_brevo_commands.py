"""`segport brevo lists|folders|attributes`: what a connection's Brevo account holds, seen
and created from segport against the sandbox, with the connection's permissions."""

from __future__ import annotations

import json

from tests.fixtures.workspace import Cli

from segport.brevo.sandbox import SandboxServer
from segport.service import actor_named, add_connection, add_user, list_entries
from segport.service.workspace import Workspace


def _setup(ws: Workspace, sandbox: SandboxServer) -> None:
    admin = actor_named(ws, None)
    add_user(ws, admin, "carol", "contributor")
    add_user(ws, admin, "vic", "viewer")
    for name, share in (("private", False), ("shared", True)):
        add_connection(
            ws, admin, name, "brevo", sandbox.api_key, agree_privacy=True,
            base_url=sandbox.base_url, share_with_contributors=share,
        )  # fmt: skip


def test_lists_are_listed_and_created(
    workspace: Workspace, cli: Cli, sandbox: SandboxServer
) -> None:
    _setup(workspace, sandbox)
    # The sandbox lives for the session: a name of this test's own.
    name = f"Weekly news {workspace.path.parent.name}"
    shown = cli("brevo", "lists", "shared", "--json", ok=True).output
    before = {x["id"] for x in json.loads(shown)}
    made = cli("brevo", "lists", "create", "shared", name, ok=True).output
    assert "Created list" in made and repr(name) in made
    after = json.loads(cli("brevo", "lists", "shared", "--json", ok=True).output)
    [new] = [x for x in after if x["id"] not in before]
    assert new["name"] == name and new["folder_id"] is not None
    assert sandbox.state.lists[new["id"]].name == name
    # The table, one folder only, and the folders themselves.
    table = cli("brevo", "lists", "shared", ok=True).output.splitlines()
    assert table[0].split() == ["id", "name", "folder", "contacts"]
    assert any(name in line for line in table[1:])
    folder = new["folder_id"]
    only = json.loads(cli("brevo", "lists", "shared", "--folder", str(folder), "--json").output)
    assert {x["folder_id"] for x in only} == {folder}
    folders = json.loads(cli("brevo", "folders", "shared", "--json", ok=True).output)
    assert folder in {f["id"] for f in folders}
    # The same name again is refused, naming the list that has it.
    again = cli("brevo", "lists", "create", "shared", name.upper(), ok=False).output
    assert f"already has a list named {name!r} (id {new['id']})" in again
    # An unknown folder is refused with the account's folders, before Brevo is asked.
    lost = cli("brevo", "lists", "create", "shared", f"{name} 2", "--folder", "99999", ok=False)
    assert "no folder 99999; its folders:" in lost.output and "--folder ID" in lost.output
    # Creating is audited (by connection), listing is not.
    [entry] = [e for e in list_entries(workspace, actor_named(workspace, None), 100)
               if e.action == "brevo.lists.create"]  # fmt: skip
    assert entry.target == "shared" and entry.details["list_id"] == new["id"]


def test_attributes_are_listed_and_created(
    workspace: Workspace, cli: Cli, sandbox: SandboxServer
) -> None:
    _setup(workspace, sandbox)
    tier = f"TIER_{workspace.path.parent.name.upper().replace('-', '_')}"[:40]
    made = cli("brevo", "attributes", "create", "shared", tier.lower(), "--type", "text")
    assert made.exit_code == 0, made.output
    assert f"Created attribute {tier} (text)" in made.output
    listed = json.loads(cli("brevo", "attributes", "shared", "--json", ok=True).output)
    assert {"name": tier, "category": "normal", "type": "text"} in listed
    table = cli("brevo", "attributes", "shared", ok=True).output
    assert tier in table and table.splitlines()[0].split() == ["name", "category", "type"]
    bad = cli("brevo", "attributes", "create", "shared", "X", "--type", "colour", ok=False)
    assert "the attribute type 'colour'" in bad.output and "--type" in bad.output
    twice = cli("brevo", "attributes", "create", "shared", tier, "--type", "text")
    assert twice.exit_code == 1 and f"already has an attribute {tier}" in twice.output


def test_permissions_follow_the_connection(
    workspace: Workspace, cli: Cli, sandbox: SandboxServer
) -> None:
    _setup(workspace, sandbox)
    # A contributor uses the shared connection, not the private one; a viewer neither.
    assert cli("brevo", "lists", "shared", actor="carol").exit_code == 0
    private = cli("brevo", "lists", "private", actor="carol", ok=False).output
    assert "not shared with contributors" in private
    viewer = cli("brevo", "lists", "create", "shared", "x", actor="vic", ok=False).output
    assert "vic is a viewer" in viewer
    missing = cli("brevo", "folders", "nope", ok=False).output
    assert "no connection 'nope'" in missing
    assert sandbox.api_key not in private + viewer + missing

"""`exports add` finds its Brevo list by name or creates it, creates the attributes the
account lacks (typed from their columns), and refuses a column that cannot fill its
attribute's type; all against the sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from tests.fixtures.workspace import Cli

from segport.brevo import BrevoClient
from segport.brevo.sandbox import SandboxServer
from segport.service import actor_named, add_connection, add_user, list_entries
from segport.service.workspace import Workspace


def _setup(ws: Workspace, sandbox: SandboxServer) -> str:
    """A shared connection and a contributor; the answer is a name unique to this test
    (the sandbox lives for the module)."""
    admin = actor_named(ws, None)
    add_user(ws, admin, "carol", "contributor")
    add_user(ws, admin, "vic", "viewer")
    add_connection(
        ws, admin, "shared", "brevo", sandbox.api_key, agree_privacy=True,
        base_url=sandbox.base_url, share_with_contributors=True,
    )  # fmt: skip
    return ws.path.parent.name.upper().replace("-", "_")[-20:]


def _add(cli: Cli, name: str, *extra: str, actor: str | None = None, ok: bool | None = None):  # type: ignore[no-untyped-def]
    return cli(
        "exports", "add", name, "--connection", "shared", "--segment", "gb",
        "--email", "email", *extra, actor=actor, ok=ok,
    )  # fmt: skip


def _exports(cli: Cli) -> dict[str, dict]:  # type: ignore[type-arg]
    listed = json.loads(cli("exports", "list", "--json", ok=True).output)
    return {e["config"]["name"]: e["config"] for e in listed}


def test_list_by_name(profiled_workspace: Workspace, cli: Cli, sandbox: SandboxServer) -> None:
    tag = _setup(profiled_workspace, sandbox)
    list_id = sandbox.state.create_list(f"News {tag}")
    out = _add(cli, "by-name", "--list-name", f"News {tag}", ok=True).output
    assert f"list {list_id} on" in out
    assert _exports(cli)["by-name"]["list_id"] == list_id
    # Unknown: refused with the account's lists and the command that shows them.
    unknown = _add(cli, "nope", "--list-name", f"Newz {tag}", ok=False)
    assert unknown.exit_code == 1
    assert f"no list named 'Newz {tag}'" in unknown.output
    assert f"'News {tag}' (id {list_id})" in unknown.output
    assert "segport brevo lists CONNECTION" in unknown.output
    # Two lists of one name (Brevo allows it): refused with both, pointing at --list-id.
    second = sandbox.state.create_list(f"Twin {tag}")
    third = sandbox.state.create_list(f"Twin {tag}")
    twins = _add(cli, "twins", "--list-name", f"Twin {tag}", ok=False).output
    assert f"2 Brevo lists are named 'Twin {tag}' (id {second} in folder" in twins
    assert f"id {third} in folder" in twins and "--list-id ID" in twins
    assert set(_exports(cli)) == {"by-name"}


def test_list_options_are_exclusive(
    profiled_workspace: Workspace, cli: Cli, sandbox: SandboxServer
) -> None:
    _setup(profiled_workspace, sandbox)
    none = _add(cli, "x", ok=False)
    assert none.exit_code == 2
    assert "--list-id LIST_ID, --list-name NAME or --create-list NAME" in none.output
    both = _add(cli, "x", "--list-id", "1", "--list-name", "News", ok=False)
    assert both.exit_code == 2 and "(not --list-id and --list-name)" in both.output
    folder = _add(cli, "x", "--list-id", "1", "--folder", "1", ok=False)
    assert folder.exit_code == 2 and "give --create-list" in folder.output


def test_create_list(profiled_workspace: Workspace, cli: Cli, sandbox: SandboxServer) -> None:
    tag = _setup(profiled_workspace, sandbox)
    folder = sandbox.state.create_folder(f"Folder {tag}")
    out = _add(cli, "fresh", "--create-list", f"Fresh {tag}", "--folder", str(folder), ok=True)
    [made] = [x for x in sandbox.state.lists.values() if x.name == f"Fresh {tag}"]
    assert made.folder_id == folder
    assert f"list {made.id} on" in out.output
    assert _exports(cli)["fresh"]["list_id"] == made.id
    entries = list_entries(profiled_workspace, actor_named(profiled_workspace, None), 50)
    [created] = [e for e in entries if e.action == "brevo.lists.create"]
    assert created.target == "shared"
    assert created.details == {"list_id": made.id, "name": f"Fresh {tag}", "folder_id": folder}
    # The same name again: refused before anything is created, naming the list.
    again = _add(cli, "fresh2", "--create-list", f"fresh {tag}", ok=False).output
    assert f"already has a list named 'Fresh {tag}' (id {made.id})" in again
    # An unknown folder: refused, with the account's folders; no list is made.
    lists_before = len(sandbox.state.lists)
    lost = _add(cli, "lost", "--create-list", f"Lost {tag}", "--folder", "99999", ok=False)
    assert "no folder 99999" in lost.output and "--folder ID" in lost.output
    # A check that fails after the list is chosen (a missing column) creates nothing.
    bad = _add(cli, "bad", "--create-list", f"Bad {tag}", "--first-name", "nope", ok=False)
    assert "the first-name column 'nope'" in bad.output
    assert len(sandbox.state.lists) == lists_before
    assert set(_exports(cli)) == {"fresh"}


def test_missing_attributes_are_offered_then_created(
    profiled_workspace: Workspace, cli: Cli, sandbox: SandboxServer
) -> None:
    tag = _setup(profiled_workspace, sandbox)
    list_id = sandbox.state.create_list(f"Attrs {tag}")
    value, town = f"LTV_{tag}", f"TOWN_{tag}"
    mapped = ["--attribute", f"{value}=ltv", "--attribute", f"{town}=city"]
    offered = _add(cli, "attrs", "--list-id", str(list_id), *mapped, ok=False).output
    assert f"has no attribute {value}" in offered
    assert f"segport can create {value} as a float attribute" in offered
    assert "--create-attributes" in offered
    assert value not in sandbox.state.attributes
    # A contributor may add exports on a shared connection, and so create attributes.
    made = _add(
        cli, "attrs", "--list-id", str(list_id), *mapped, "--create-attributes",
        actor="carol", ok=True,
    )  # fmt: skip
    assert "saved (not run)" in made.output
    with BrevoClient(sandbox.api_key, sandbox.base_url) as client:
        types = {a.name: (a.category, a.type) for a in client.get_attributes()}
    assert types[value] == ("normal", "float")  # from a number column
    assert types[town] == ("normal", "text")
    entries = list_entries(profiled_workspace, actor_named(profiled_workspace, None), 50)
    created = {e.details["name"]: e for e in entries if e.action == "brevo.attributes.create"}
    assert created[value].actor == "carol" and created[value].details["type"] == "float"
    # A viewer adds nothing, and creates nothing.
    vic = _add(cli, "v", "--list-id", str(list_id), "--attribute", f"X_{tag}=ltv",
               "--create-attributes", actor="vic", ok=False)  # fmt: skip
    assert vic.exit_code == 1 and f"X_{tag}" not in sandbox.state.attributes


def test_a_column_that_cannot_fill_its_attribute_is_refused(
    profiled_workspace: Workspace, cli: Cli, sandbox: SandboxServer
) -> None:
    tag = _setup(profiled_workspace, sandbox)
    list_id = sandbox.state.create_list(f"Types {tag}")
    born, score = f"BORN_{tag}", f"SCORE_{tag}"
    with BrevoClient(sandbox.api_key, sandbox.base_url) as client:
        client.create_attribute("normal", born, "date")
        client.create_attribute("normal", score, "float")
    for attribute, kind, wanted in (
        (born, "date", "date or timestamp"),
        (score, "float", "number"),
    ):
        out = _add(
            cli, "typed", "--list-id", str(list_id), "--attribute", f"{attribute}=city",
            ok=False,
        ).output  # fmt: skip
        assert (
            f"the attribute {attribute} is a {kind} attribute in Brevo, but column 'city' "
            "holds text values"
        ) in " ".join(out.split())
        assert f"Map a {wanted} column to it" in " ".join(out.split())
        assert "--attribute ATTRIBUTE=COLUMN" in out
    # A number column fills a float attribute.
    ok = _add(cli, "typed", "--list-id", str(list_id), "--attribute", f"{score}=ltv", ok=True)
    assert "saved (not run)" in ok.output


def test_edit_and_duplicate_take_a_list_by_name(
    profiled_workspace: Workspace, cli: Cli, sandbox: SandboxServer
) -> None:
    tag = _setup(profiled_workspace, sandbox)
    first = sandbox.state.create_list(f"First {tag}")
    moved = sandbox.state.create_list(f"Moved {tag}")
    copy_list = sandbox.state.create_list(f"Copy {tag}")
    _add(cli, "news", "--list-id", str(first), ok=True)

    out = cli("exports", "edit", "news", "--list-name", f"moved {tag}", ok=True).output
    assert f"list {moved} on" in out  # (the one name matching without case)
    assert _exports(cli)["news"]["list_id"] == moved
    unknown = cli("exports", "edit", "news", "--list-name", f"Nope {tag}", ok=False)
    assert unknown.exit_code == 1 and f"no list named 'Nope {tag}'" in unknown.output
    both = cli(
        "exports", "edit", "news", "--list-id", str(first), "--list-name", f"First {tag}",
        ok=False,
    )  # fmt: skip
    assert both.exit_code == 1 and "by id or by name" in both.output
    assert _exports(cli)["news"]["list_id"] == moved

    out = cli("exports", "duplicate", "news", "copy", "--list-name", f"Copy {tag}", ok=True)
    assert f"list {copy_list} on" in out.output
    assert _exports(cli)["copy"]["list_id"] == copy_list
    edits = [e for e in list_entries(profiled_workspace, actor_named(profiled_workspace, None))
             if e.action == "exports.edit"]  # fmt: skip
    assert edits and edits[0].details.get("list_id") == moved

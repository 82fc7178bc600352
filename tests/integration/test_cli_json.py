"""`--json` on the commands that list or show something: the service's view, as
`segport.service.to_json` writes it (the API will return the same objects)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures.workspace import Cli

from segport.service import (
    ConnectionListing,
    ConnectionView,
    Rows,
    SegmentInfo,
    SourceInfo,
    Workspace,
    actor_named,
    show_connection,
    to_json,
)

KEY = "xkeysib-json-test-0123456789abcdef"


def fields(view_type: type) -> set[str]:
    return {f.name for f in dataclasses.fields(view_type)}


def as_json(cli: Cli, *args: str, actor: str | None = None) -> object:
    result = cli(*args, "--json", actor=actor, env={"K": KEY}, ok=True)
    return json.loads(result.stdout)


def test_json_is_the_view(profiled_workspace: Workspace, cli: Cli) -> None:
    ws = profiled_workspace
    cli("connections", "add", "c", "--type", "brevo", "--api-key-env", "K", "--no-verify",
        "--agree-privacy", env={"K": KEY}, ok=True)  # fmt: skip
    listing = as_json(cli, "connections", "list")
    assert isinstance(listing, dict) and set(listing) == fields(ConnectionListing)
    assert listing["detailed"] is True and listing["summaries"] == []
    (conn,) = listing["connections"]
    assert set(conn) == fields(ConnectionView) and conn["name"] == "c"
    shown = as_json(cli, "connections", "show", "c")
    assert shown == to_json(show_connection(ws, actor_named(ws, None), "c"))
    assert KEY not in json.dumps(shown)
    assert shown["created_at"].endswith("+00:00")  # ISO 8601 with its offset

    schema = as_json(cli, "profiles", "schema")
    assert isinstance(schema, dict) and set(schema) == fields(SourceInfo)
    assert schema["columns"]["email"] == ["VARCHAR", "text"]
    profiles = as_json(cli, "profiles", "show", "--limit", "2")
    assert isinstance(profiles, dict) and set(profiles) == fields(Rows)
    assert [p["customer_id"] for p in profiles["rows"]] == [1, 2]

    segments = as_json(cli, "segments", "list")
    assert isinstance(segments, list) and [s["name"] for s in segments] == ["big", "gb"]
    assert set(segments[0]) == fields(SegmentInfo)
    gb = as_json(cli, "segments", "show", "gb")
    assert isinstance(gb, dict) and gb["definition"]["operator"] == "equals"
    assert as_json(cli, "segments", "count", "gb") == {"segment": "gb", "members": 2}
    preview = as_json(cli, "segments", "preview", "gb", "--columns", "email")
    assert preview == {
        "columns": ["customer_id", "email"],
        "rows": [
            {"customer_id": 1, "email": "ann@example.com"},
            {"customer_id": 2, "email": "bob@example.com"},
        ],
    }
    audit = as_json(cli, "audit", "--limit", "1")
    assert isinstance(audit, list) and audit[0]["action"] == "connections.add"
    assert as_json(cli, "exports", "list") == []


def test_contributors_get_names_and_types(profiled_workspace: Workspace, cli: Cli) -> None:
    cli("users", "add", "carol", "--role", "contributor", ok=True)
    for name, share in (("private", []), ("shared", ["--share-with-contributors"])):
        cli("connections", "add", name, "--type", "brevo", "--api-key-env", "K", "--no-verify",
            "--agree-privacy", *share, env={"K": KEY}, ok=True)  # fmt: skip
    listing = as_json(cli, "connections", "list", actor="carol")
    assert listing == {
        "detailed": False,
        "connections": [],
        "summaries": [{"name": "shared", "type": "brevo"}],
    }
    out = cli("connections", "list", actor="carol", ok=True).stdout
    assert "shared" in out and "private" not in out
    cli("users", "add", "vic", "--role", "viewer", ok=True)
    viewer = cli("connections", "list", actor="vic", ok=False)
    assert viewer.exit_code == 1 and viewer.stderr.startswith("Error: ")


def test_times_are_local_with_their_offset(profiled_workspace: Workspace, tmp_path: Path) -> None:
    env = {**os.environ, "TZ": "Asia/Kolkata", "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-m", "segport", "--workspace", str(profiled_workspace.path), "audit"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    ).stdout
    first = out.splitlines()[1]
    assert first.split()[1].endswith("+05:30"), first  # e.g. 2026-12-05 03:40:05+05:30


def test_a_base_url_password_is_never_shown(workspace: Workspace, cli: Cli) -> None:
    url = "http://proxyuser:proxy-pw-123@127.0.0.1:9/v3"
    cli("connections", "add", "p", "--type", "brevo", "--api-key-env", "K", "--no-verify",
        "--base-url", url, "--agree-privacy", env={"K": KEY}, ok=True)  # fmt: skip
    shown = as_json(cli, "connections", "show", "p")
    assert isinstance(shown, dict) and "proxy-pw-123" not in json.dumps(shown)
    assert "proxy-pw-123" not in cli("connections", "show", "p", ok=True).output

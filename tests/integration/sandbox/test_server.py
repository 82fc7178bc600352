"""The sandbox server itself: start/stop, fixtures, keys, state file, the CLI command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest
from tests.fixtures.sandbox import TEST_API_KEY, SandboxFactory

from segport.brevo.sandbox import SandboxConfig, SandboxServer


def test_fixture_serves_v3_with_the_test_key(sandbox: SandboxServer) -> None:
    assert sandbox.base_url.startswith("http://127.0.0.1:")
    assert sandbox.base_url.endswith("/v3")
    assert sandbox.api_key == TEST_API_KEY
    r = httpx.get(f"{sandbox.base_url}/account", headers={"api-key": TEST_API_KEY})
    assert r.status_code == 200
    assert r.json()["email"]
    assert sandbox.requests_log.count("GET /account") == 1


def test_state_helpers_round_trip(sandbox: SandboxServer) -> None:
    folder = sandbox.state.create_folder("F")
    lst = sandbox.state.create_list("L", folder)
    cid = sandbox.state.upsert_contact(
        "Ann@Example.com", {"FIRSTNAME": "Ann", "SMS": "+33612345678"}, list_ids=[lst]
    )
    assert sandbox.state.contact_count() == 1
    assert sandbox.state.list_member_emails(lst) == {"ann@example.com"}
    got = sandbox.state.get_contact("ANN@example.com")
    assert got is not None and got["id"] == cid
    assert got["attributes"] == {"FIRSTNAME": "Ann", "SMS": "33612345678"}
    assert sandbox.state.get_contact(cid) == got
    assert sandbox.state.get_contact("nobody@example.com") is None


def test_factory_servers_are_independent(sandbox_factory: SandboxFactory) -> None:
    a = sandbox_factory(api_keys=("one", "two"))
    b = sandbox_factory(locale="fr")
    assert a.port != b.port
    a.state.create_folder("only in a")
    assert b.state.create_folder("first in b") == 1
    assert httpx.get(f"{a.base_url}/account", headers={"api-key": "two"}).status_code == 200
    names = [
        x["name"]
        for x in httpx.get(
            f"{b.base_url}/contacts/attributes", headers={"api-key": b.api_key}
        ).json()["attributes"]
    ]
    assert "PRENOM" in names and "NOM" in names and "FIRSTNAME" not in names


def test_state_file_is_saved_at_stop_and_loaded_at_start(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    cfg = SandboxConfig(port=0, rate_limits="off", state_file=path)
    with SandboxServer(cfg) as first:
        lst = first.state.create_list("kept", first.state.create_folder("F"))
        first.state.upsert_contact("kept@example.com", {"LASTNAME": "Kept"}, list_ids=[lst])
    assert path.exists()
    with SandboxServer(cfg) as second:
        assert second.state.list_member_emails(lst) == {"kept@example.com"}
        contact = second.state.get_contact("kept@example.com")
        assert contact is not None and contact["attributes"]["LASTNAME"] == "Kept"
        assert second.state.create_list("next", 1) == lst + 1


def test_a_broken_state_file_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"broken\.json"):
        SandboxServer(SandboxConfig(port=0, state_file=path))


def test_bad_config_values_name_the_option() -> None:
    with pytest.raises(ValueError, match="rate_limits"):
        SandboxConfig(rate_limits="fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="api_keys"):
        SandboxConfig(api_keys=())


@contextmanager
def sandbox_command(state: Path) -> Iterator[tuple[subprocess.Popen[str], str, IO[str]]]:
    """`segport sandbox` on a free port saving to ``state``, once it printed its serving
    line: (the process, the address it serves, the rest of its output); killed at the end
    if it still runs."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "segport", "sandbox", "--port", "0", "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "Brevo sandbox serving http://127.0.0.1:" in first, first
        yield proc, first.split("serving ", 1)[1].strip(), proc.stdout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_serves_until_sigterm_and_saves_state(tmp_path: Path) -> None:
    state = tmp_path / "cli-state.json"
    with sandbox_command(state) as (proc, base, output):
        assert output.readline().strip() == "API key: sandbox"
        # The address is listening once printed: no retry until the server is up.
        r = httpx.post(
            f"{base}/contacts/folders", json={"name": "cli"}, headers={"api-key": "sandbox"}
        )
        assert r.status_code == 201
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    assert "state saved" in out
    assert b'"cli"' in state.read_bytes()


def test_a_sigterm_right_after_the_serving_line_stops_it(tmp_path: Path) -> None:
    # A signal that arrives before uvicorn has put its own handlers in place (a script
    # that starts the sandbox and stops it at once) used to be swallowed: the process
    # served on. The window is narrow, so it is tried several times.
    for attempt in range(8):
        state = tmp_path / f"state-{attempt}.json"
        with sandbox_command(state) as (proc, _, _):
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0, (attempt, out)
        assert state.exists(), (attempt, out)  # stopped cleanly: the state was saved


def test_cli_rejects_a_bad_fault_spec() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "segport", "sandbox", "--port", "0", "--faults", "import:418"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "--faults" in proc.stderr and "418" in proc.stderr


def test_cli_names_a_busy_port() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "segport", "sandbox", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert proc.returncode == 2
    assert f"127.0.0.1:{port}" in proc.stderr and "--port" in proc.stderr

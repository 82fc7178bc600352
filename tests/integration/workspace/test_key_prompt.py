"""A real `segport` process on a terminal: the key prompt hides what is typed."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.fixtures.terminal import read_until, type_hidden

from segport.brevo.sandbox import SandboxServer
from segport.service.workspace import Workspace


def test_hidden_prompt_on_a_terminal(workspace: Workspace, sandbox: SandboxServer) -> None:
    master, slave = pty.openpty()
    cmd = [sys.executable, "-m", "segport", "--workspace", str(workspace.path),
           "connections", "add", "tty", "--type", "brevo", "--base-url", sandbox.base_url,
           "--agree-privacy"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path("src").resolve())}
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    try:
        before = read_until(master, b"Brevo API key:")
        assert b"Brevo API key:" in before, before
        type_hidden(master, sandbox.api_key)
        after = read_until(master, b"privacy consent")
        assert proc.wait(timeout=30) == 0, before + after
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert b"saved (brevo" in after
    assert sandbox.api_key.encode() not in before + after

"""A real `segport` process on a terminal: the key prompt hides what is typed."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.fixtures.waiting import wait_until

from segport.brevo.sandbox import SandboxServer
from segport.service.workspace import Workspace


def _read_until(fd: int, marker: bytes, timeout: float = 30.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_hidden_prompt_on_a_terminal(workspace: Workspace, sandbox: SandboxServer) -> None:
    master, slave = pty.openpty()
    cmd = [sys.executable, "-m", "segport", "--workspace", str(workspace.path),
           "connections", "add", "tty", "--type", "brevo", "--base-url", sandbox.base_url,
           "--agree-privacy"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path("src").resolve())}
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    try:
        before = _read_until(master, b"Brevo API key:")
        assert b"Brevo API key:" in before, before
        # Type only once the terminal stopped echoing, as a person would (click prints the
        # prompt a moment before getpass turns echo off and flushes pending input).
        wait_until(lambda: not termios.tcgetattr(master)[3] & termios.ECHO, 30, "echo turned off")
        os.write(master, sandbox.api_key.encode() + b"\r")
        after = _read_until(master, b"privacy consent")
        assert proc.wait(timeout=30) == 0, before + after
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert b"saved (brevo" in after
    assert sandbox.api_key.encode() not in before + after

"""`segport serve` as a process: it prints where it listens, answers there, executes a
requested run with its embedded worker, and stops cleanly on SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from tests.fixtures.server import build_workspace
from tests.fixtures.waiting import wait_until

from segport.brevo.sandbox import SandboxServer
from segport.service import actor_named, create_token, list_workers


@contextmanager
def serving(ws_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "segport",
            "--workspace",
            str(ws_path),
            "serve",
            "--port",
            "0",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # printed once the socket is bound
        found = re.search(r"serves (http://127\.0\.0\.1:\d+)/", first)
        assert found, first + proc.stderr.read()
        yield proc, found.group(1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/openapi.json", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_answers_runs_a_requested_export_and_stops_on_sigterm(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    ws = build_workspace(tmp_path, sandbox)
    try:
        admin = actor_named(ws, None)
        token = create_token(ws, admin, name="serve test").token.reveal()
        auth = {"Authorization": f"Bearer {token}"}
        with serving(ws.path) as (proc, url):
            wait_until(lambda: _answers(url), 60, "the server to answer", poll=0.05)
            run = httpx.post(f"{url}/api/v1/exports/news/runs", headers=auth, timeout=30)
            assert run.status_code == 202, run.text

            def ended() -> bool:
                got = httpx.get(f"{url}/api/v1/runs/{run.json()['id']}", headers=auth, timeout=30)
                return got.json()["run"]["status"] not in ("queued", "processing")

            wait_until(ended, 120, "the embedded worker to run the export", poll=0.1)
            done = httpx.get(f"{url}/api/v1/runs/{run.json()['id']}", headers=auth).json()
            assert done["run"]["status"] == "successful", done
            assert done["run"]["sent"] == 5
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "stopped (SIGTERM)" in err  # the worker stopped before the process ended
        assert list_workers(ws, admin) == []  # and unregistered
        assert not _answers(url)
    finally:
        ws.close()


def test_serve_without_the_worker(sandbox: SandboxServer, tmp_path: Path) -> None:
    ws = build_workspace(tmp_path, sandbox)
    ws.close()
    with serving(ws.path, "--no-worker") as (proc, url):
        wait_until(lambda: _answers(url), 60, "the server to answer", poll=0.05)
        docs = httpx.get(f"{url}/api/v1/docs")
        assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "worker" not in err.replace("--no-worker", "")

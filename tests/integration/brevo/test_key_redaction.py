"""An endpoint that echoes the request headers (a misconfigured proxy, a WAF page) must not
put the API key into a message, the run history, `exports runs --json` or the terminal.

security.md M1: before the fix the key reached ``runs.message``/``summary`` in the metadata
database and every output, in clear. The echo server here is a real HTTP server on
loopback that answers every request with an error quoting the headers it received.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select
from tests.fixtures.sandbox import SandboxFactory
from tests.fixtures.workspace import Cli

from segport.service.workspace import Workspace

KEY = "xkeysib-SECRETCANARY0123456789abcdefZZ-q1w2e3r4"
# What must never appear: the key, and any long piece of it (an echo cut short).
PIECES = (KEY, KEY[:24], KEY[-24:])


class _Echo(BaseHTTPRequestHandler):
    mode = "json"

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        pairs = "; ".join(f"{k}={v}" for k, v in self.headers.items())
        key = self.headers.get("api-key", "")
        if self.mode == "json":
            body = json.dumps(
                {
                    "code": "bad_request",
                    "message": f"request refused by the gateway; headers were: {pairs}",
                    "metadata": {"headers": dict(self.headers.items()), "cut": key[:30]},
                }
            ).encode()
            ctype = "application/json"
        else:  # an HTML error page from a proxy, with the key cut short in a second place
            body = (
                f"<html><body><h1>400 Bad Request</h1><pre>{self.headers}</pre>"
                f"<p>token prefix {key[:20]}</p></body></html>"
            ).encode()
            ctype = "text/html"
        self.send_response(400)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(params=["json", "text"])
def echo_url(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = type("Echo", (_Echo,), {"mode": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v3"
    finally:
        server.shutdown()
        server.server_close()


def _database_text(ws: Workspace) -> str:
    meta = MetaData()
    meta.reflect(ws.engine)
    parts = []
    with ws.engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                parts.extend(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row)
    return "\n".join(parts)


def _files_text(root: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("latin-1") for p in sorted(root.rglob("*")) if p.is_file()
    )


def test_an_echoing_endpoint_cannot_put_the_key_anywhere(
    profiled_workspace: Workspace,
    cli: Cli,
    sandbox_factory: SandboxFactory,
    echo_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox = sandbox_factory(api_keys=(KEY,))
    list_id = sandbox.state.create_list("Echo test")
    env = {"BREVO_KEY": KEY}
    cli(
        "connections",
        "add",
        "c",
        "--type",
        "brevo",
        "--api-key-env",
        "BREVO_KEY",
        "--base-url",
        sandbox.base_url,
        "--agree-privacy",
        env=env,
        ok=True,
    )
    cli(
        "exports",
        "add",
        "e",
        "--connection",
        "c",
        "--list-id",
        str(list_id),
        "--segment",
        "gb",
        "--email",
        "email",
        ok=True,
    )
    # The URL now goes through a "proxy" that echoes the request headers.
    cli("connections", "edit", "c", "--base-url", echo_url, "--no-verify", ok=True)

    run = cli("exports", "run", "e", "--json", ok=False)
    outputs = {
        "exports run --json": run.stdout + run.stderr,
        "exports runs --json": cli("exports", "runs", "e", "--json", ok=True).stdout,
        "exports runs": cli("exports", "runs", "e", ok=True).stdout,
        "connections add": cli(
            "connections", "add", "echo", "--type", "brevo", "--api-key-env", "BREVO_KEY",
            "--base-url", echo_url, "--agree-privacy", env=env, ok=False,
        ).output,
        "connections show --check": cli("connections", "show", "c", "--check").output,
        "exports add": cli("exports", "add", "e2", "--connection", "c", "--list-id",
                           str(list_id), "--segment", "gb", "--email", "email",
                           ok=False).output,
    }  # fmt: skip
    outputs["database"] = _database_text(profiled_workspace)
    outputs["workspace files"] = _files_text(profiled_workspace.path)
    outputs["logs"] = "\n".join(
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    # The run failed with the gateway's message, and that message reached the history:
    # the redaction, not a missing message, is what keeps the key out.
    summary = json.loads(run.stdout)
    assert summary["status"] == "failed"
    assert "headers were" in summary["message"] or "400 Bad Request" in summary["message"]
    assert "********" in summary["message"]
    assert "********" in outputs["exports runs --json"]
    for where, text in outputs.items():
        for piece in PIECES:
            assert piece not in text, f"the API key (or a piece of it) in clear in {where}"

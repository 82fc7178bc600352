"""`make demo` runs the whole flow against the sandbox and ends with the list filled."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest
from tests.integration.server.test_serve_command import serving

from segport import demo


def test_demo_exports_the_sample_segment(capfd: pytest.CaptureFixture[str]) -> None:
    demo.main()
    captured = capfd.readouterr()
    out = captured.out
    held = re.search(r"The Brevo list \d+ now holds (\d+) contacts", out)
    assert held, out
    # The sample's UK high-value segment, less the rows rejected on purpose.
    valid = re.findall(r"^  valid +(\d+)$", out, re.MULTILINE)
    assert valid and int(held.group(1)) == int(valid[-1]) > 300
    assert "successful" in out
    assert "email_invalid" in out and "email_duplicate" in out
    # The second run finds nothing new or changed and sends nothing.
    assert re.search(r"^  sent +0$", out, re.MULTILINE), out
    assert "line 2002" in captured.err  # the malformed CSV line, reported by its line number
    assert "the sandbox answered" in out and "API calls and stopped." in out
    # It ends saying how to see it in the web app: that works as printed.
    shown = re.search(
        r"segport --workspace (\S+) serve --no-worker\n.*sign in as demo-admin with the "
        r"password (\S+)\n",
        out,
    )
    assert shown, out
    workspace, password = Path(shown.group(1)), shown.group(2)
    try:
        with serving(workspace, "--no-worker") as (_, url), httpx.Client(base_url=url) as web:
            signed = web.post("/api/v1/session", json={"name": "demo-admin", "password": password})
            assert signed.status_code == 201, signed.text
            [export] = web.get("/api/v1/exports").json()["items"]
            assert export["config"]["name"] == "uk-newsletter"
            runs = web.get("/api/v1/runs").json()
            assert runs["total"] == 2 and {r["status"] for r in runs["items"]} == {"successful"}
    finally:
        shutil.rmtree(workspace.parent, ignore_errors=True)

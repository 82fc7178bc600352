"""Run all and Retry keep to what the acting user may run: a contributor's "all" leaves out
the exports on a connection not shared with contributors, and retrying a run of one is
refused, as requesting a run of it is (the page, the API and the CLI call these)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fixtures.server import build_workspace

from segport.brevo.sandbox import SandboxServer
from segport.service import (
    Forbidden,
    actor_named,
    cancel_run,
    request_all_runs,
    request_run,
    retry_run,
)


def test_a_contributors_run_all_and_retry_leave_private_connections_alone(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    ws = build_workspace(tmp_path, sandbox)
    try:
        admin, carol = actor_named(ws, None), actor_named(ws, "carol")
        with pytest.raises(Forbidden):
            request_run(ws, carol, "vip")
        mine = request_all_runs(ws, carol)
        assert [(r.export_name, r.run is not None) for r in mine] == [("news", True)]
        for r in mine:
            assert r.run is not None
            cancel_run(ws, admin, r.run.id)
        everyone = request_all_runs(ws, admin)
        assert [r.export_name for r in everyone] == ["news", "vip"]
        vip = next(r.run for r in everyone if r.export_name == "vip")
        assert vip is not None
        cancel_run(ws, admin, vip.id)
        with pytest.raises(Forbidden) as refused:
            retry_run(ws, carol, vip.id)
        assert "not shared with contributors" in refused.value.message
        assert retry_run(ws, admin, vip.id).export_name == "vip"
    finally:
        ws.close()

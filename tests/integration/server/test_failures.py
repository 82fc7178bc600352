"""When the metadata database fails under the server, a request gets 502 problem details
(what the driver said, no statement, no traceback), and the server keeps serving."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import text
from tests.fixtures.server import running, server_settings

from segport.service import actor_named, create_token, init_workspace


def test_a_failed_metadata_database_is_a_502_problem(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    try:
        token = create_token(ws, actor_named(ws, None), name="t").token.reveal()
        with running(server_settings(ws), ws) as url:
            auth = {"Authorization": f"Bearer {token}"}
            assert httpx.get(f"{url}/api/v1/me", headers=auth).status_code == 200
            # a database someone damaged: the exports' table is gone
            with ws.session() as session:
                session.execute(text("ALTER TABLE exports RENAME TO exports_gone"))
            answer = httpx.get(f"{url}/api/v1/exports", headers=auth)
            assert answer.status_code == 502, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            body = answer.json()
            assert body["code"] == "database_failed" and body["kind"] == "unavailable"
            assert "no such table" in body["detail"]
            assert "SELECT" not in body["detail"] and "Traceback" not in body["detail"]
            assert httpx.get(f"{url}/api/v1/openapi.json").status_code == 200
    finally:
        ws.close()

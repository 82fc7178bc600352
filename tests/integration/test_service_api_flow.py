"""A whole flow through the service API alone, as a second face (the scheduler, the REST
API, the web app) would drive it: no command line, nothing but `segport.service`.

Users and their credentials, a connection checked against the sandbox, profiles, a
segment, an export, a run that lands in the Brevo list, the run's record, a run that is
requested and canceled while queued, a processing run canceled from another thread at a
safe point, refusals as typed errors with codes, and the audit log. Every answer must
serialise to JSON as it is.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.waiting import wait_until

import segport.service as sp
from segport.brevo.sandbox import SandboxServer
from segport.secret import Secret

PROFILES = "customer_id,email,first_name,country\n" + "".join(
    f"{i},user{i}@example.com,User{i},{'GB' if i % 4 else 'FR'}\n" for i in range(1, 401)
)
GB = {f"user{i}@example.com" for i in range(1, 401) if i % 4}
IMPORT = "POST /contacts/import"


def _json(view: Any) -> Any:
    """What the API would return: the view as JSON, parsed back."""
    return json.loads(json.dumps(sp.to_json(view)))


def _members(sandbox: SandboxServer, list_id: int) -> set[str]:
    sandbox.state.wait_idle()
    return set(sandbox.state.list_member_emails(list_id))


def test_a_whole_flow_through_the_service_api(
    tmp_path: Path, sandbox_factory: Callable[..., SandboxServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGPORT_RUN_HEARTBEAT_SECONDS", "0.05")
    sandbox = sandbox_factory(faults="import:slow=0.1")
    ws = sp.init_workspace(tmp_path / "ws", None, admin="ada")
    try:
        # Who is acting: the face names or authenticates an actor; services check it.
        ada = sp.actor_named(ws, "ada")
        sp.add_user(ws, ada, "carl", "contributor")
        sp.add_user(ws, ada, "vic", "viewer")
        sp.set_password(ws, ada, "carl", Secret("a long enough passphrase"))
        carl = sp.verify_password(ws, "carl", Secret("a long enough passphrase"))
        assert (carl.name, carl.role) == ("carl", sp.Role.CONTRIBUTOR)
        with pytest.raises(sp.Forbidden) as wrong:
            sp.verify_password(ws, "carl", Secret("not the passphrase at all"))
        assert wrong.value.code == "bad_credentials"
        new = sp.create_token(ws, carl, name="scheduler")
        assert sp.authenticate_token(ws, new.token) == carl
        vic = sp.actor_named(ws, "vic")

        # A connection, checked against the (sandbox) Brevo account.
        conn = sp.add_connection(
            ws, ada, "brevo", "brevo", sandbox.api_key, agree_privacy=True,
            base_url=sandbox.base_url, share_with_contributors=True,
        )  # fmt: skip
        assert _json(conn)["name"] == "brevo"
        assert sandbox.api_key not in json.dumps(sp.to_json(conn))

        # Profiles and a segment.
        csv = tmp_path / "profiles.csv"
        csv.write_text(PROFILES, encoding="utf-8")
        sp.load_profiles(ws, ada, csv, id_column="customer_id")
        sp.create_segment(ws, carl, "gb", where="country = 'GB'")
        assert sp.count_segment(ws, carl, "gb") == len(GB)

        # An export, saved (not run), as its view.
        list_id = sandbox.state.create_list("News")
        mapping = sp.ExportMapping(email="email", first_name="first_name")
        view = sp.add_export(ws, carl, sp.ExportConfig("news", "brevo", list_id, ("gb",), mapping))
        shown = _json(view)
        assert shown["config"]["list_id"] == list_id and shown["config"]["segments"] == ["gb"]

        # A viewer may see it but not run it: a typed refusal with a code, no CLI words.
        assert [v.config.name for v in sp.list_exports(ws, vic)] == ["news"]
        with pytest.raises(sp.Forbidden) as refused:
            sp.run_export(ws, vic, "news")
        assert refused.value.code == "permission_denied" and "--" not in str(refused.value)

        # A run: the list holds exactly the segment.
        summary = sp.run_export(ws, carl, "news")
        assert summary.status == "successful", summary.message
        assert _members(sandbox, list_id) == GB
        [first] = sp.list_runs(ws, carl, "news")
        assert (first.number, first.status, first.reason) == (1, "successful", "completed")
        assert _json(first)["export_name"] == "news"

        # A run requested and canceled while queued; a second request meanwhile is busy.
        queued = sp.request_run(ws, carl, "news", full=True)
        assert (queued.number, queued.status) == (2, "queued")
        with pytest.raises(sp.Busy) as busy:
            sp.request_run(ws, carl, "news")
        assert busy.value.code == "run_in_progress" and busy.value.details["run_id"] == queued.id
        canceled = sp.cancel_run(ws, carl, queued.id)
        assert (canceled.status, canceled.reason) == ("canceled", "canceled_by_user")

        # A processing run, canceled from another thread: it stops between chunks.
        requests_before = sandbox.requests_log.count(IMPORT)
        result: list[Any] = []
        runner = threading.Thread(
            target=lambda: result.append(
                sp.run_export(ws, carl, "news", full=True, options=sp.RunOptions(max_bytes=2000))
            )
        )
        runner.start()
        wait_until(
            lambda: sandbox.requests_log.count(IMPORT) >= requests_before + 2,
            60,
            "two chunks posted",
        )
        [going] = [r for r in sp.list_runs(ws, carl, "news") if r.status == "processing"]
        sp.cancel_run(ws, carl, going.id)
        runner.join(timeout=120)
        [stopped] = result
        assert (stopped.status, stopped.reason) == ("canceled", "canceled_by_user")
        assert 0 < stopped.sent < len(GB)
        assert [r.number for r in sp.list_runs(ws, carl, "news")] == [3, 2, 1]

        # The audit log says who did what, without secrets.
        entries = sp.list_entries(ws, ada, 100)
        actions = {(e.actor, e.action) for e in entries}
        assert {("ada", "users.add"), ("carl", "exports.add"), ("carl", "runs.cancel")} <= actions
        log = json.dumps(sp.to_json(entries))
        assert sandbox.api_key not in log and "a long enough passphrase" not in log
    finally:
        ws.close()

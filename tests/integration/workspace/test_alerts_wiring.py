"""Alerts wired into the workspace, on SQLite and on the real PostgreSQL: managed through
the CLI, sent when real export runs against the sandbox end, to a real SMTP server
(aiosmtpd on loopback, with a login whose password comes from the environment) and a real
HTTP receiver on loopback checking the signature. A failing alert never fails nor holds a
run, and no secret lands in an output, a log line or the database."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tests.fixtures.sandbox import TEST_API_KEY, SandboxFactory
from tests.fixtures.smtp import Mailbox, free_port, smtp_on_loopback
from tests.fixtures.webhooks import Receiver, webhook_receiver
from tests.fixtures.workspace import Cli
from tests.integration.exports.conftest import Scenario, profile

from segport.service import Workspace, alert_sending, connections
from segport.service.access import actor_named
from segport.service.run_lifecycle import cancel_run, claim_run, recover_runs, request_run
from segport.service.segment_definitions import create_segment
from segport.service.users import add_user

SMTP_USER = "alerts"
SMTP_PASSWORD = "smtp-pass-WIRING-4b1f7e2a90"
HOOK_SECRET = "hook-secret-WIRING-93c0d17e55"
SECRETS = (SMTP_PASSWORD, HOOK_SECRET)
WAIT = 120.0  # seconds at most for the alerts of a run to be sent (never reached when green)


# -- a real SMTP server and a real webhook receiver on loopback (tests/fixtures) ----------


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, int]]:
    """A local relay on loopback (no TLS: a login is allowed to a server on this machine)."""
    with smtp_on_loopback(SMTP_USER, SMTP_PASSWORD, login=True) as server:
        yield server.mailbox, server.port


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver(HOOK_SECRET) as server:
        yield server


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The secrets in the environment (where the run's process reads them), no proxy; and
    every alert a test started sent before the next test."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("SEGPORT_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("SEGPORT_TEST_HOOK_SECRET", HOOK_SECRET)
    yield
    assert alert_sending.wait_for_alerts(WAIT)


# -- a workspace wired to the sandbox ----------------------------------------------------


@pytest.fixture
def scenario(workspace: Workspace, sandbox_factory: SandboxFactory, tmp_path: Path) -> Scenario:
    """The workspace (SQLite, PostgreSQL) wired to a sandbox of its own (a test revokes
    its key) as the exports tests wire theirs (``make_scenario``): a connection, a list,
    three gold profiles, export news."""
    sandbox = sandbox_factory()
    connections.add_connection(
        workspace,
        actor_named(workspace, None),
        "sandbox",
        "brevo",
        TEST_API_KEY,
        agree_privacy=True,
        base_url=sandbox.base_url,
        verify=True,
    )
    s = Scenario(workspace, sandbox, sandbox.state.create_list("Newsletter"), tmp_path)
    s.load([profile(i) for i in range(1, 4)])
    create_segment(workspace, s.admin, "gold", where="tier = 'gold'")
    s.add_export()
    return s


Outputs = list[str]


@pytest.fixture
def run_cli(scenario: Scenario, cli: Cli) -> tuple[Callable[..., Any], Outputs]:
    """The CLI, keeping every output for the secret check."""
    seen: Outputs = []

    def call(*args: str, **kw: Any) -> Any:
        result = cli(*args, **kw)
        seen.append(result.stdout + result.stderr)
        return result

    return call, seen


def wire(call: Callable[..., Any], mail_port: int, receiver: Receiver) -> None:
    call(
        "smtp",
        "set",
        "--host",
        "127.0.0.1",
        "--port",
        str(mail_port),
        "--no-starttls",
        "--user",
        SMTP_USER,
        "--password-env",
        "SEGPORT_TEST_SMTP_PASSWORD",
        "--from",
        "segport@example.com",
        ok=True,
    )
    call(
        "alerts", "add", "ops-mail", "--email", "ops@example.com", "--on", "failed,skipped", ok=True
    )
    call(
        "alerts",
        "add",
        "ops-hook",
        "--webhook",
        f"{receiver.base}/failed",
        "--secret-env",
        "SEGPORT_TEST_HOOK_SECRET",
        "--on",
        "failed,skipped",
        ok=True,
    )


def database_dump(s: Scenario) -> str:
    """Every row of every table of the metadata database, as text."""
    from sqlalchemy import inspect

    out = []
    with s.ws.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(f"{table}: {tuple(row)}")
    return "\n".join(out)


def assert_no_secret(*texts: str) -> None:
    for blob in texts:
        for secret in SECRETS:
            assert secret not in blob


# -- the tests ---------------------------------------------------------------------------


def test_alerts_and_the_smtp_server_are_managed_by_admins(
    scenario: Scenario, run_cli: tuple[Callable[..., Any], Outputs], receiver: Receiver
) -> None:
    call, seen = run_cli
    add_user(scenario.ws, scenario.admin, "carol", "contributor")
    add_user(scenario.ws, scenario.admin, "vic", "viewer")
    shown = call("smtp", "show", ok=True)
    assert "No SMTP server is set" in shown.stdout
    wire(call, 2525, receiver)
    listed = json.loads(call("alerts", "list", "--json", ok=True).stdout)
    assert [(a["name"], a["kind"], a["on"]) for a in listed] == [
        ("ops-hook", "webhook", "failed,skipped"),
        ("ops-mail", "email", "failed,skipped"),
    ]
    assert listed[0]["secret_env"] == "SEGPORT_TEST_HOOK_SECRET"
    assert listed[1]["email"] == ["ops@example.com"]
    table = call("alerts", "list", ok=True).stdout
    assert "ops-hook" in table and f"webhook {receiver.base}/failed" in table
    smtp = json.loads(call("smtp", "show", "--json", ok=True).stdout)
    assert smtp["password_env"] == "SEGPORT_TEST_SMTP_PASSWORD" and smtp["user"] == SMTP_USER
    assert set(smtp) == {
        "configured",
        "host",
        "port",
        "starttls",
        "user",
        "password_env",
        "from_address",
        "updated_by",
        "updated_at",
    }
    # Anyone who sees exports sees them; only admins change or send them.
    for who in ("carol", "vic"):
        assert call("alerts", "list", actor=who, ok=True).stdout == table
        call("smtp", "show", actor=who, ok=True)
        for args in (
            ["alerts", "add", "x", "--email", "x@example.com", "--on", "failed"],
            ["alerts", "remove", "ops-mail"],
            ["alerts", "test", "ops-hook"],
            ["smtp", "set", "--host", "h.example.com", "--from", "a@example.com"],
        ):
            refused = call(*args, actor=who, ok=False)
            assert f"{who} is a" in refused.stderr and "may not manage alerts" in refused.stderr
    assert receiver.received == []
    # Bad input names the option at fault.
    bad = call("alerts", "add", "y", "--email", "ops@example.com", "--on", "failure", ok=False)
    assert "did you mean failed?" in bad.stderr and "--on RULE" in bad.stderr
    both = call("alerts", "add", "y", "--on", "failed", ok=False)
    assert both.exit_code == 2 and "--email ADDRESS or --webhook URL" in both.stderr
    taken = call("alerts", "add", "ops-mail", "--email", "a@example.com", "--on", "failed")
    assert taken.exit_code == 1 and "an alert named 'ops-mail' exists" in taken.stderr
    value = call(
        "alerts", "add", "z", "--webhook", receiver.base, "--secret-env", HOOK_SECRET, "--on", "x"
    )
    assert value.exit_code == 1  # a secret given where its variable's name goes: refused
    clear = call(
        "smtp", "set", "--host", "mail.example.com", "--no-starttls", "--user", "u",
        "--password-env", "PW", "--from", "a@example.com",
    )  # fmt: skip
    assert clear.exit_code == 1 and "cross the network in clear" in clear.stderr
    login = call("smtp", "set", "--host", "mail.example.com", "--user", "a\nb",
                 "--password-env", "PW", "--from", "a@example.com")  # fmt: skip
    assert login.exit_code == 1 and "is not a login name" in login.stderr
    assert "--user USER" in login.stderr
    assert "removed" in call("alerts", "remove", "ops-mail", ok=True).stdout
    gone = call("alerts", "remove", "ops-mail", ok=False)
    assert "no alert named 'ops-mail'; alerts: ops-hook" in gone.stderr
    audit = [
        (e["action"], e["target"]) for e in json.loads(call("audit", "--json", ok=True).stdout)
    ]
    assert ("alerts.remove", "ops-mail") in audit and ("smtp.set", "smtp") in audit
    assert ("alerts.add", "ops-hook") in audit
    assert_no_secret(*seen, database_dump(scenario))


def test_alerts_test_sends_a_sample_run_now(
    scenario: Scenario,
    run_cli: tuple[Callable[..., Any], Outputs],
    receiver: Receiver,
    mail: tuple[Mailbox, int],
) -> None:
    call, seen = run_cli
    box, port = mail
    wire(call, port, receiver)
    hook = call("alerts", "test", "ops-hook", ok=True)
    assert "Alert 'ops-hook' delivered by webhook (1 attempt(s))" in hook.stdout
    [got] = receiver.received
    assert got.signed and got.run["export_name"] == "segport-alert-test"
    assert got.run["status"] == "failed" and got.headers["X-Segport-Alert"] == "ops-hook"
    result = json.loads(call("alerts", "test", "ops-mail", "--json", ok=True).stdout)
    assert result["status"] == "delivered" and result["channel"] == "email"
    [message] = box.messages
    assert box.logins == [SMTP_USER]  # the password came from the environment
    assert message["To"] == "ops@example.com"
    assert "run 0 of export 'segport-alert-test' failed" in message["Subject"]
    # The password's variable unset where the test is sent: not delivered, exit 1.
    with pytest.MonkeyPatch.context() as env:
        env.delenv("SEGPORT_TEST_SMTP_PASSWORD")
        unset = call("alerts", "test", "ops-mail", ok=False)
    assert unset.stderr.count("SEGPORT_TEST_SMTP_PASSWORD is not set") == 1, unset.stderr
    assert len(box.messages) == 1
    assert_no_secret(*seen, database_dump(scenario))


def test_a_failed_run_sends_its_alerts_and_a_successful_one_does_not(
    scenario: Scenario,
    run_cli: tuple[Callable[..., Any], Outputs],
    receiver: Receiver,
    mail: tuple[Mailbox, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="segport")
    call, seen = run_cli
    box, port = mail
    wire(call, port, receiver)
    gateway = scenario.sandbox._app  # the sandbox's key check: the key is revoked
    keys = gateway.api_keys  # type: ignore[attr-defined]
    gateway.api_keys = frozenset()  # type: ignore[attr-defined]
    failed = call("exports", "run", "news", "--json")
    gateway.api_keys = keys  # type: ignore[attr-defined]
    assert failed.exit_code == 1, failed.output
    run = json.loads(failed.stdout)
    assert run["status"] == "failed"
    assert alert_sending.wait_for_alerts(WAIT)
    [got] = receiver.received
    assert got.signed and got.headers["X-Segport-Event"] == "run.ended"
    assert got.run["id"] == run["run_id"] and got.run["status"] == "failed"
    assert got.run["export_name"] == "news" and got.run["number"] == 1
    [message] = box.messages
    assert message["Subject"] == "segport: run 1 of export 'news' failed"
    assert f"segport runs show {run['run_id']}" in message.get_content()
    # The run's record does not wait for its alerts: it was recorded as it ended.
    shown = json.loads(call("runs", "show", str(run["run_id"]), "--json", ok=True).stdout)
    assert shown["status"] == "failed"

    ok = call("exports", "run", "news", "--json", ok=True)
    assert json.loads(ok.stdout)["status"] == "successful"
    assert alert_sending.wait_for_alerts(WAIT)
    assert len(receiver.received) == 1 and len(box.messages) == 1  # nothing for success
    assert_no_secret(*seen, caplog.text, database_dump(scenario), message.as_string())


def test_rejected_rows_over_the_share_raise_the_alert(
    scenario: Scenario, run_cli: tuple[Callable[..., Any], Outputs], receiver: Receiver
) -> None:
    call, _ = run_cli
    call("alerts", "add", "rejects", "--webhook", f"{receiver.base}/rejects",
         "--on", "rejected-over:5%", ok=True)  # fmt: skip
    call("alerts", "add", "fails", "--webhook", f"{receiver.base}/fails",
         "--on", "failed", ok=True)  # fmt: skip
    # 3 good profiles and 2 invalid addresses: 40% of the members set aside.
    scenario.load(
        [profile(i) for i in range(1, 4)]
        + [profile(4, email="not-an-address"), profile(5, email="x@")]
    )
    done = json.loads(call("exports", "run", "news", "--json", ok=True).stdout)
    assert done["status"] == "successful" and done["rejected"]["email_invalid"] == 2
    assert alert_sending.wait_for_alerts(WAIT)
    [got] = receiver.at("/rejects")
    assert got.run["rejected"] == 2 and got.run["members"] == 5 and not got.signed
    assert receiver.at("/fails") == []
    # Under the share: no alert.
    scenario.load([profile(i) for i in range(1, 40)] + [profile(40, email="bad")])
    again = json.loads(call("exports", "run", "news", "--json", ok=True).stdout)
    assert again["rejected"]["email_invalid"] == 1 and again["members"] == 40
    assert alert_sending.wait_for_alerts(WAIT)
    assert len(receiver.at("/rejects")) == 1


def test_a_receiver_that_hangs_does_not_hold_the_run(
    scenario: Scenario, run_cli: tuple[Callable[..., Any], Outputs], receiver: Receiver
) -> None:
    call, _ = run_cli
    call("alerts", "add", "slow", "--webhook", f"{receiver.base}/slow", "--on", "successful",
         ok=True)  # fmt: skip
    receiver.hold = True
    done = call("exports", "run", "news", "--json", ok=True)
    # The command came back while the alert's receiver has not answered (it cannot: it
    # waits for release); the run is recorded as it ended.
    assert not receiver.answered.is_set()
    assert json.loads(done.stdout)["status"] == "successful"
    assert receiver.arrived.wait(WAIT)
    shown = call("runs", "list", "--export", "news", "--json", ok=True)
    assert [r["status"] for r in json.loads(shown.stdout)] == ["successful"]
    receiver.release.set()
    assert alert_sending.wait_for_alerts(WAIT)
    assert len(receiver.at("/slow")) == 1


def test_a_receiver_that_is_down_is_logged_and_the_run_ends_as_it_ended(
    scenario: Scenario,
    run_cli: tuple[Callable[..., Any], Outputs],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(alert_sending, "WEBHOOK_BACKOFF", 0.0)  # 5 attempts, no wait
    caplog.set_level(logging.WARNING, logger="segport.alerts")
    call, seen = run_cli
    closed = free_port()  # nothing listens there
    call("alerts", "add", "down", "--webhook", f"http://127.0.0.1:{closed}/x",
         "--secret-env", "SEGPORT_TEST_HOOK_SECRET", "--on", "successful", ok=True)  # fmt: skip
    # An e-mail alert with no SMTP server set fails too, on its own.
    call("alerts", "add", "nomail", "--email", "ops@example.com", "--on", "successful", ok=True)
    done = call("exports", "run", "news", "--json", ok=True)
    assert json.loads(done.stdout)["status"] == "successful"
    assert alert_sending.wait_for_alerts(WAIT)
    warnings = [r.getMessage() for r in caplog.records if r.name == "segport.alerts"]
    assert any("alert 'down'" in w and "not delivered by webhook after 5" in w for w in warnings)
    assert any("alert 'nomail'" in w and "no SMTP server is set" in w for w in warnings)
    assert len(json.loads(call("runs", "list", "--export", "news", "--json", ok=True).stdout)) == 1
    assert_no_secret(*seen, caplog.text)


def test_runs_ended_outside_the_engine_raise_alerts_too(
    scenario: Scenario, run_cli: tuple[Callable[..., Any], Outputs], receiver: Receiver
) -> None:
    """A queued run canceled by a user, and a run recovered from a worker that died: both
    end in the run lifecycle, not in the engine."""
    call, _ = run_cli
    call("alerts", "add", "ends", "--webhook", f"{receiver.base}/ends",
         "--on", "failed,canceled", ok=True)  # fmt: skip
    ws, admin = scenario.ws, actor_named(scenario.ws, None)
    queued = request_run(ws, admin, "news")
    cancel_run(ws, admin, queued.id)
    lost = request_run(ws, admin, "news")
    assert claim_run(ws, lost.id, "another-host:4242")  # a worker there, never heard of again
    [recovered] = recover_runs(ws, admin, timeout=0)
    assert recovered.id == lost.id
    assert alert_sending.wait_for_alerts(WAIT)
    got = sorted((r.run["id"], r.run["status"], r.run["reason"]) for r in receiver.at("/ends"))
    assert got == [(queued.id, "canceled", "canceled_by_user"), (lost.id, "failed", "worker_lost")]


def test_a_failed_alert_test_says_why_once(tmp_path: Path, sandbox_factory: SandboxFactory) -> None:
    """`alerts test` shows the result itself: the delivery's log line is not printed
    beside its `Error:` (a real process, where logging reaches stderr). The hook is a
    real HTTP server that refuses it (401), which is not retried."""
    import subprocess
    import sys

    def segport(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "segport", "--workspace", str(tmp_path / "ws"), *args],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    hook = sandbox_factory().base_url + "/no-such-hook"
    assert segport("init").returncode == 0
    assert segport("alerts", "add", "hook", "--webhook", hook, "--on", "failed").returncode == 0
    done = segport("alerts", "test", "hook")
    assert done.returncode == 1
    assert done.stderr.count("401 Unauthorized") == 1, done.stderr
    assert done.stderr.startswith("Error: alert 'hook' was not delivered by webhook")

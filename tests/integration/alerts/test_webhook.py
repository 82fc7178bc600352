"""Webhook alerts against a real HTTP receiver on loopback (tests/fixtures/webhooks.py).

The receiver checks every request's signature with the published
:func:`segport.alerts.signing.verify` (the function docs/alerts.md tells receivers to
copy), answers what each test scripts (500 then 200, 429 with Retry-After, 400, a
redirect, or no answer at all until the test ends) and keeps what it received.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from tests.fixtures.run_records import run_record
from tests.fixtures.webhooks import Answer, Receiver, webhook_receiver

from segport.alerts import (
    Alert,
    WebhookSettings,
    WebhookTarget,
    deliver,
    deliver_matching,
    parse_rule,
    verify,
)
from segport.alerts.webhook import send_webhook
from segport.secret import Secret

SECRET = "whsec-0123456789abcdef-receiver-secret"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver(SECRET) as server:
        yield server


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def settings(url: str, waits: list[float], **options: Any) -> WebhookSettings:
    """Settings that record the backoff instead of sleeping it."""
    options.setdefault("secret", Secret(SECRET))
    options.setdefault("max_attempts", 3)
    return WebhookSettings(url=url, sleep=waits.append, **options)


def test_the_run_record_is_posted_signed(receiver: Receiver) -> None:
    record = run_record("failed", reason="brevo_error", message="Brevo refused the key")
    waits: list[float] = []
    result = send_webhook(settings(receiver.url, waits), record, alert_name="ops-hook")
    assert result.delivered and result.attempts == 1 and not waits
    assert result.detail is not None and result.detail.startswith("HTTP 200")
    [got] = receiver.received
    assert got.signed
    assert orjson.loads(got.body) == record  # the run record itself, as JSON
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Segport-Event"] == "run.ended"
    assert got.headers["X-Segport-Alert"] == "ops-hook"
    assert got.headers["X-Segport-Attempt"] == "1"
    assert got.headers["User-Agent"].startswith("segport/")
    assert len(got.headers["X-Segport-Delivery"]) == 32


def test_a_signature_with_another_secret_or_another_body_does_not_verify(
    receiver: Receiver,
) -> None:
    receiver.require_signature = True
    waits: list[float] = []
    result = send_webhook(
        settings(receiver.url, waits, secret=Secret("another-secret-entirely")),
        run_record("failed"),
        alert_name="ops-hook",
    )
    # the receiver refused it (401): final, not retried
    assert not result.delivered and result.attempts == 1
    assert result.reason is not None and "HTTP 401" in result.reason
    assert "bad signature" in result.reason
    [got] = receiver.received
    assert not got.signed
    tampered = got.body.replace(b'"failed"', b'"successful"')
    assert tampered != got.body
    stamp, signature = got.headers["X-Segport-Timestamp"], got.headers["X-Segport-Signature"]
    assert verify("another-secret-entirely", got.body, stamp, signature)
    assert not verify("another-secret-entirely", tampered, stamp, signature)


def test_without_a_secret_nothing_is_signed(receiver: Receiver) -> None:
    result = send_webhook(
        settings(receiver.url, [], secret=None), run_record("skipped"), alert_name="a"
    )
    assert result.delivered
    [got] = receiver.received
    assert "X-Segport-Signature" not in got.headers and "X-Segport-Timestamp" not in got.headers


def test_a_5xx_is_retried_with_backoff_and_the_same_delivery_id(receiver: Receiver) -> None:
    receiver.script = [Answer(500, body=b"oops"), Answer(503, body=b"later")]
    waits: list[float] = []
    result = send_webhook(settings(receiver.url, waits), run_record("failed"), alert_name="a")
    assert result.delivered and result.attempts == 3
    assert len(waits) == 2 and all(w > 0 for w in waits)
    assert [r.headers["X-Segport-Attempt"] for r in receiver.received] == ["1", "2", "3"]
    assert len({r.headers["X-Segport-Delivery"] for r in receiver.received}) == 1
    assert all(r.signed for r in receiver.received)  # each attempt signed afresh
    assert len({r.body for r in receiver.received}) == 1


def test_a_429_waits_as_long_as_the_receiver_asks(receiver: Receiver) -> None:
    receiver.script = [Answer(429, headers={"Retry-After": "7"})]
    waits: list[float] = []
    result = send_webhook(settings(receiver.url, waits), run_record("failed"), alert_name="a")
    assert result.delivered and result.attempts == 2
    assert waits == [7.0]


def test_retries_stop_after_the_last_attempt(receiver: Receiver) -> None:
    receiver.script = [Answer(502, body=b"bad gateway")] * 5
    waits: list[float] = []
    result = send_webhook(settings(receiver.url, waits), run_record("failed"), alert_name="a")
    assert not result.delivered and result.attempts == 3 and len(receiver.received) == 3
    assert result.reason is not None
    assert "HTTP 502" in result.reason and "gave up after 3 attempts" in result.reason
    assert len(waits) == 2


@pytest.mark.parametrize("status", [400, 404, 410, 422])
def test_a_4xx_is_final(receiver: Receiver, status: int) -> None:
    receiver.script = [Answer(status, body=b"no such hook")]
    waits: list[float] = []
    result = send_webhook(settings(receiver.url, waits), run_record("failed"), alert_name="a")
    assert not result.delivered and result.attempts == 1 and not waits
    assert result.reason is not None
    assert f"HTTP {status}" in result.reason and "no such hook" in result.reason
    assert receiver.url in result.reason


def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.script = [Answer(307, headers={"Location": "http://127.0.0.1:9/elsewhere"})]
    result = send_webhook(settings(receiver.url, []), run_record("failed"), alert_name="a")
    assert not result.delivered and result.attempts == 1
    assert result.reason is not None and "HTTP 307" in result.reason
    assert len(receiver.received) == 1


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_closed_port_is_retried_then_reported() -> None:
    waits: list[float] = []
    url = f"http://127.0.0.1:{closed_port()}/hook"
    result = send_webhook(settings(url, waits), run_record("failed"), alert_name="a")
    assert not result.delivered and result.attempts == 3 and len(waits) == 2
    assert result.reason is not None and "could not connect" in result.reason


def test_a_receiver_that_does_not_answer_times_out(receiver: Receiver) -> None:
    receiver.script = [Answer(hang=True), Answer(hang=True)]
    waits: list[float] = []
    result = send_webhook(
        settings(receiver.url, waits, timeout=0.2, max_attempts=2),
        run_record("failed"),
        alert_name="a",
    )
    assert not result.delivered and result.attempts == 2
    assert result.reason is not None and "did not answer within 0.2 s" in result.reason
    assert len(receiver.received) == 2


def test_deliver_reads_the_secret_from_the_environment_and_never_logs_it(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPS_HOOK_SECRET", SECRET)
    receiver.script = [Answer(500, body=f"echo {SECRET}".encode())]
    alert = Alert(
        name="ops-hook",
        rule=parse_rule("failed"),
        target=WebhookTarget(
            url=receiver.url, secret_env="OPS_HOOK_SECRET", max_attempts=2, backoff_seconds=0.01
        ),
    )
    with caplog.at_level(logging.DEBUG):
        result = deliver(alert, run_record("failed"))
    assert result.delivered and result.attempts == 2
    assert all(r.signed for r in receiver.received)
    # a receiver echoing the secret in a 5xx; the logs hold neither it nor any piece of it
    receiver.script = [Answer(400, body=f"bad: {SECRET}".encode())]
    with caplog.at_level(logging.DEBUG):
        failed = deliver(alert, run_record("failed"))
    assert not failed.delivered and failed.reason is not None
    assert SECRET not in failed.reason and "********" in failed.reason
    assert "ops-hook" in caplog.text and "not delivered" in caplog.text
    assert SECRET not in caplog.text and SECRET[:12] not in caplog.text


def test_a_secret_missing_from_the_environment_sends_nothing(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPS_HOOK_SECRET", raising=False)
    alert = Alert(
        name="ops-hook",
        rule=parse_rule("failed"),
        target=WebhookTarget(url=receiver.url, secret_env="OPS_HOOK_SECRET"),
    )
    result = deliver(alert, run_record("failed"))
    assert not result.delivered and result.attempts == 0
    assert result.reason is not None and "OPS_HOOK_SECRET is not set" in result.reason
    assert receiver.received == []  # never sent unsigned


def test_deliver_never_raises(receiver: Receiver) -> None:
    alert = Alert(name="a", rule=parse_rule("failed"), target=WebhookTarget(url=receiver.url))
    # a record orjson cannot write: a Secret (it refuses to be serialised), and a set
    result = deliver(alert, {"id": 1, "status": "failed", "key": Secret("k" * 20)})
    assert not result.delivered and result.reason is not None
    assert "k" * 20 not in result.reason
    assert receiver.received == []


def test_only_the_alerts_a_run_meets_are_sent(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_HOOK_SECRET", SECRET)
    target = WebhookTarget(url=receiver.url, secret_env="OPS_HOOK_SECRET")
    alerts = [
        Alert(name="on-failure", rule=parse_rule("failed,skipped"), target=target),
        Alert(name="on-rejects", rule=parse_rule("rejected-over:5%"), target=target),
        Alert(name="on-success", rule=parse_rule("successful"), target=target),
    ]
    results = deliver_matching(alerts, run_record("failed", members=100, rejected={"x": 6}))
    assert [r.alert for r in results] == ["on-failure", "on-rejects"]
    assert all(r.delivered for r in results)
    assert [r.headers["X-Segport-Alert"] for r in receiver.received] == [
        "on-failure",
        "on-rejects",
    ]
    assert deliver_matching(alerts, run_record("processing")) == []
    assert len(receiver.received) == 2

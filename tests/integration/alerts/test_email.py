"""E-mail alerts against a real SMTP server on loopback (aiosmtpd on a free port).

The server (tests/fixtures/smtp.py) offers STARTTLS with a self-signed certificate
(trusted by the client only through ``SmtpSettings.ca_file``) and AUTH, which it allows
only over TLS. It keeps the messages it accepts and can answer a scripted temporary (4xx)
or permanent (5xx) refusal to the message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.run_records import run_record
from tests.fixtures.smtp import SmtpServer, free_port, smtp_on_loopback

from segport.alerts import Alert, EmailTarget, SmtpSettings, deliver, parse_rule
from segport.alerts.mail import send_email
from segport.errors import Invalid
from segport.secret import Secret

USER = "alerts"
PASSWORD = "smtp-pass-7c1e0d5a9b"


StartServer = Callable[..., SmtpServer]


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start SMTP servers: ``tls=True`` (STARTTLS required, AUTH over TLS) or a plain
    local relay; all stopped at teardown."""
    with ExitStack() as servers:

        def start(*, tls: bool = True, exclude: tuple[str, ...] = ()) -> SmtpServer:
            return servers.enter_context(
                smtp_on_loopback(
                    USER, PASSWORD, tls_directory=tmp_path if tls else None, exclude=exclude
                )
            )

        yield start


@pytest.mark.parametrize(("mechanism", "exclude"), [("LOGIN", "PLAIN"), ("PLAIN", "LOGIN")])
def test_an_alert_is_sent_over_starttls_after_logging_in(
    smtp_server: StartServer, mechanism: str, exclude: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = smtp_server(exclude=(exclude,))
    monkeypatch.setenv("SEGPORT_SMTP_PASSWORD", PASSWORD)
    settings = SmtpSettings.from_environment(
        host=server.host,
        port=server.port,
        from_address="segport@example.com",
        user=USER,
        password_env="SEGPORT_SMTP_PASSWORD",
        ca_file=str(server.ca_file),
    )
    assert settings.password == Secret(PASSWORD) and PASSWORD not in repr(settings)
    record = run_record(
        "failed",
        reason="brevo_error",
        message="Brevo answered 401: key not found",
        rejected={"invalid_email": 12, "duplicate": 3},
    )
    result = send_email(settings, ["ops@example.com", "lead@example.com"], record, alert_name="ops")
    assert result.delivered and result.attempts == 1, result.reason
    [got] = server.mailbox.accepted
    assert got.tls and got.login == USER
    assert server.mailbox.mechanisms == [mechanism]
    assert got.mail_from == "segport@example.com"
    assert got.rcpt_tos == ["ops@example.com", "lead@example.com"]
    message = got.message
    assert message["Subject"] == "segport: run 3 of export 'news' failed"
    assert message["To"] == "ops@example.com, lead@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "text/plain"
    body = message.get_content()
    assert "Run 3 of export 'news' (id 17) ended failed." in body
    assert "Reason:   brevo_error" in body
    assert "Message:  Brevo answered 401: key not found" in body
    assert "Members:  1,000" in body and "Rejected: 15" in body
    assert "  invalid_email: 12" in body and "  duplicate: 3" in body
    assert "segport runs show 17" in body


def test_a_wrong_password_fails_at_once_and_is_never_shown(
    smtp_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_server()
    wrong = "wrong-pass-0f9e8d7c6b"
    alert = Alert(name="ops", rule=parse_rule("failed"), target=EmailTarget(("ops@example.com",)))
    with caplog.at_level(logging.DEBUG):
        result = deliver(alert, run_record("failed"), smtp=server.settings(password=Secret(wrong)))
    assert not result.delivered and result.attempts == 1
    assert result.reason is not None and "refused the login of 'alerts'" in result.reason
    assert server.mailbox.accepted == []
    assert "not delivered" in caplog.text
    for secret in (wrong, PASSWORD):
        assert secret not in caplog.text and secret not in result.reason
        assert secret not in repr(server.settings(password=Secret(wrong)))


def test_a_certificate_the_client_does_not_trust_stops_the_alert(
    smtp_server: StartServer,
) -> None:
    server = smtp_server()
    result = send_email(
        server.settings(ca_file=None), ["ops@example.com"], run_record("failed"), alert_name="a"
    )
    assert not result.delivered and result.attempts == 1
    assert result.reason is not None and "certificate is not trusted" in result.reason
    assert server.mailbox.accepted == []


def test_a_server_without_starttls_is_not_sent_to_in_clear(smtp_server: StartServer) -> None:
    server = smtp_server(tls=False)
    result = send_email(
        server.settings(starttls=True, ca_file=None, user=None, password=None),
        ["ops@example.com"],
        run_record("failed"),
        alert_name="a",
    )
    assert not result.delivered
    assert result.reason is not None and "STARTTLS" in result.reason
    assert server.mailbox.accepted == []


def test_a_local_relay_without_tls_or_login(smtp_server: StartServer) -> None:
    server = smtp_server(tls=False)
    rule = parse_rule("failed,rejected-over:5%")
    record = run_record("successful", members=200, rejected={"invalid_email": 11})
    result = send_email(server.settings(), ["ops@example.com"], record, alert_name="a", rule=rule)
    assert result.delivered
    [got] = server.mailbox.accepted
    assert not got.tls and got.login is None
    assert got.message["Subject"] == (
        "segport: run 3 of export 'news' successful with 11 rejected rows of 200"
    )


def test_a_temporary_refusal_is_tried_again_and_a_permanent_one_is_not(
    smtp_server: StartServer,
) -> None:
    server = smtp_server()
    server.mailbox.refusals = ["451 4.3.0 Try again later"]
    result = send_email(
        server.settings(), ["ops@example.com"], run_record("failed"), alert_name="a"
    )
    assert result.delivered and result.attempts == 2
    assert len(server.mailbox.accepted) == 1

    server.mailbox.refusals = ["554 5.7.1 Message rejected as spam"]
    result = send_email(
        server.settings(), ["ops@example.com"], run_record("failed"), alert_name="a"
    )
    assert not result.delivered and result.attempts == 1
    assert result.reason is not None and "554" in result.reason and "spam" in result.reason

    server.mailbox.refusals = ["421 4.3.2 Busy"] * 5
    result = send_email(
        server.settings(max_attempts=3), ["ops@example.com"], run_record("failed"), alert_name="a"
    )
    assert not result.delivered and result.attempts == 3
    assert result.reason is not None and "421" in result.reason
    assert len(server.mailbox.accepted) == 1


def test_a_refused_recipient(smtp_server: StartServer) -> None:
    server = smtp_server()
    result = send_email(
        server.settings(), ["ghost@nowhere.example"], run_record("failed"), alert_name="a"
    )
    assert not result.delivered and result.attempts == 1
    assert result.reason is not None and "ghost@nowhere.example" in result.reason
    assert "550" in result.reason
    # one good address among them: delivered to it, the refusal said
    result = send_email(
        server.settings(),
        ["ghost@nowhere.example", "ops@example.com"],
        run_record("failed"),
        alert_name="a",
    )
    assert (
        result.delivered and result.detail is not None and "ghost@nowhere.example" in result.detail
    )
    assert server.mailbox.accepted[-1].rcpt_tos == ["ops@example.com"]


def test_nothing_listening_is_tried_a_bounded_number_of_times() -> None:
    settings = SmtpSettings(
        host="127.0.0.1",
        port=free_port(),
        starttls=False,
        from_address="segport@example.com",
        max_attempts=2,
        backoff_seconds=0.0,
    )
    result = send_email(settings, ["ops@example.com"], run_record("failed"), alert_name="a")
    assert not result.delivered and result.attempts == 2
    assert result.reason is not None and "connection refused" in result.reason


def test_an_export_name_cannot_add_headers(smtp_server: StartServer) -> None:
    server = smtp_server(tls=False)
    record = run_record("failed", export_name="news\r\nBcc: everyone@example.com")
    result = send_email(server.settings(), ["ops@example.com"], record, alert_name="a")
    assert result.delivered
    [got] = server.mailbox.accepted
    assert got.rcpt_tos == ["ops@example.com"]
    assert got.message["Bcc"] is None
    assert "\n" not in got.message["Subject"]
    assert got.message["Subject"].startswith("segport: run 3 of export 'news Bcc:")


def test_an_email_alert_without_an_smtp_server_fails_without_raising() -> None:
    alert = Alert(name="ops", rule=parse_rule("failed"), target=EmailTarget(("ops@example.com",)))
    result = deliver(alert, run_record("failed"))
    assert not result.delivered and result.attempts == 0
    assert result.reason is not None and "no SMTP server" in result.reason


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"host": ""}, "smtp_host"),
        ({"port": 0}, "smtp_port"),
        ({"port": 70000}, "smtp_port"),
        ({"from_address": "segport"}, "smtp_from"),
        ({"from_address": "a@b.com\nBcc: x@y.com"}, "smtp_from"),
        ({"timeout": 0}, "smtp_timeout"),
        ({"user": "alerts"}, "smtp_password_env"),
        ({"password": Secret("p" * 12)}, "smtp_user"),
        # a password in clear over the network: refused (a relay on loopback may)
        (
            {"host": "smtp.example.com", "user": "u", "password": Secret("p" * 12)},
            "smtp_starttls",
        ),
    ],
)
def test_bad_smtp_settings_name_the_setting(options: dict[str, Any], field: str) -> None:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "from_address": "segport@example.com",
        "starttls": False,
    }
    values.update(options)
    with pytest.raises(Invalid) as caught:
        SmtpSettings(**values)
    assert caught.value.field == field


def test_a_password_variable_that_is_not_set_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGPORT_SMTP_PASSWORD", raising=False)
    with pytest.raises(Invalid) as caught:
        SmtpSettings.from_environment(
            host="smtp.example.com",
            from_address="segport@example.com",
            user=USER,
            password_env="SEGPORT_SMTP_PASSWORD",
        )
    assert caught.value.field == "smtp_password_env" and caught.value.code == "secret_not_set"
    assert "SEGPORT_SMTP_PASSWORD is not set" in caught.value.message
    with pytest.raises(Invalid) as caught:
        SmtpSettings.from_environment(
            host="h", from_address="a@b.com", user=USER, password_env="not a name"
        )
    assert caught.value.field == "smtp_password_env"
    assert "not the name of an environment variable" in caught.value.message


def test_bad_addresses_are_refused() -> None:
    for address in ("ops", "ops@", "two@a.com,three@b.com", "a b@c.com", "<ops@example.com>"):
        with pytest.raises(Invalid) as caught:
            EmailTarget((address,))
        assert caught.value.field == "email"
    with pytest.raises(Invalid):
        EmailTarget(())

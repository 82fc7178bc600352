"""Alerts by e-mail: the SMTP settings, the message about a run, and sending it (smtplib).

The message is plain text: a subject naming the run and how it ended ("segport: run 3 of
export 'news' failed") and a body with the run's reason, message and counts. Sending
opens one SMTP connection, upgrades it with STARTTLS when set (the server's certificate
verified against the system's CAs, or ``ca_file``), logs in when a user is set, and sends.
A dropped connection or a temporary (4xx) answer is tried again a bounded number of times;
a permanent (5xx) answer or a refused login is final.
"""

from __future__ import annotations

import ipaddress
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from segport.alerts.environment import secret_from_env
from segport.alerts.results import DeliveryResult, one_line
from segport.alerts.rules import AlertRule, matches
from segport.errors import Invalid
from segport.secret import Secret, redact

__all__ = ["SmtpSettings", "check_address", "compose", "send_email"]

# One address, as a person writes it: no display name, no spaces, one @.
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+$|^[^@\s<>,;\"]+@localhost$")


def check_address(address: str, *, field: str) -> str:
    """``address`` if it is one e-mail address (``ops@example.com``); :class:`Invalid`."""
    if not isinstance(address, str) or not _ADDRESS.match(address.strip()):
        raise Invalid(
            f"{address!r} is not an e-mail address: write one address such as ops@example.com",
            field=field,
            code="invalid_email",
        )
    return address.strip()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SmtpSettings:
    """The workspace's SMTP server. ``password`` is read from the environment
    (:func:`segport.alerts.environment.secret_from_env`), never stored.

    A password is sent only over STARTTLS, except to a server on this machine (a local
    relay): a login in clear over the network would give the password away.
    """

    host: str
    from_address: str
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password: Secret | None = None
    timeout: float = 30.0
    ca_file: str | None = None  # trust this CA (a company relay's); the system's otherwise
    max_attempts: int = 3
    backoff_seconds: float = 1.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.host or not isinstance(self.host, str) or one_line(self.host) != self.host:
            raise Invalid("the SMTP server needs a host name", field="smtp_host")
        if (
            isinstance(self.port, bool)
            or not isinstance(self.port, int)
            or not (0 < self.port < 65536)
        ):
            raise Invalid(
                f"the SMTP port {self.port!r} is not a port: 587 (STARTTLS) or 25",
                field="smtp_port",
            )
        check_address(self.from_address, field="smtp_from")
        if not self.timeout > 0:
            raise Invalid("the SMTP timeout is a number of seconds above 0", field="smtp_timeout")
        if not 1 <= self.max_attempts <= 10:
            raise Invalid("SMTP attempts are between 1 and 10", field="smtp_attempts")
        if (self.user is None) != (self.password is None):
            raise Invalid(
                "an SMTP login needs both the user and the password (from its environment "
                "variable); give both or neither",
                field="smtp_user" if self.user is None else "smtp_password_env",
            )
        if self.user is not None and not self.starttls and not _is_loopback(self.host):
            raise Invalid(
                f"the SMTP password would cross the network in clear to {self.host}: turn "
                "STARTTLS on",
                field="smtp_starttls",
                code="smtp_login_without_tls",
            )

    @classmethod
    def from_environment(
        cls,
        *,
        host: str,
        from_address: str,
        port: int = 587,
        starttls: bool = True,
        user: str | None = None,
        password_env: str | None = None,
        timeout: float = 30.0,
        ca_file: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> SmtpSettings:
        """The settings as the workspace keeps them: the password's environment variable
        by name (``password_env``), read now. :class:`Invalid` naming the setting (the
        variable unset: ``smtp_password_env``)."""
        password = (
            secret_from_env(password_env, field="smtp_password_env", environ=environ)
            if password_env is not None
            else None
        )
        return cls(
            host=host,
            from_address=from_address,
            port=port,
            starttls=starttls,
            user=user,
            password=password,
            timeout=timeout,
            ca_file=ca_file,
        )

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)


# Text from data (an export's name, a message) on one line: a header cannot be split,
# and a terminal reading the mail cannot be steered.
_clean = one_line


def _count(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else "-"


def _run_name(record: dict[str, Any]) -> str:
    number = record.get("number", record.get("id", "?"))
    return f"run {_clean(number)} of export {_clean(record.get('export_name', '?'))!r}"


def subject_of(record: dict[str, Any], rule: AlertRule | None = None) -> str:
    """``segport: run 3 of export 'news' failed`` (and the rejected rows when they, not
    the status, raised the alert)."""
    status = _clean(record.get("status", "ended"))
    subject = f"segport: {_run_name(record)} {status}"
    if rule is not None and status not in rule.endings and matches(rule, record):
        subject += (
            f" with {_count(record, 'rejected')} rejected rows of {_count(record, 'members')}"
        )
    return subject


def body_of(record: dict[str, Any], alert_name: str) -> str:
    """The run's summary as plain text: how it ended and why, its counts and times."""
    summary = record.get("summary") if isinstance(record.get("summary"), dict) else {}
    assert isinstance(summary, dict)
    lines = [
        f"{_run_name(record).capitalize()} (id {_clean(record.get('id', '?'))}) ended "
        f"{_clean(record.get('status', '?'))}.",
        "",
        f"Reason:   {_clean(record.get('reason') or '-')}",
    ]
    if record.get("message"):
        lines.append(f"Message:  {_clean(record['message'])}")
    lines += [
        f"Trigger:  {_clean(record.get('trigger') or '-')}"
        + (f" by {_clean(record['actor'])}" if record.get("actor") else ""),
        f"Started:  {_clean(record.get('started_at') or '-')}",
        f"Finished: {_clean(record.get('finished_at') or '-')}",
        "",
        f"Members:  {_count(record, 'members')}",
        f"Valid:    {_count(summary, 'valid')}",
        f"Sent:     {_count(record, 'sent')}",
        f"Removed:  {_count(record, 'removed')}",
        f"Rejected: {_count(record, 'rejected')}",
    ]
    rejected = summary.get("rejected")
    if isinstance(rejected, dict) and rejected:
        for reason, n in sorted(rejected.items(), key=lambda kv: (-int(kv[1]), kv[0])):
            lines.append(f"  {_clean(reason)}: {int(n):,}")
    if summary.get("rejected_csv"):
        lines.append(f"Rejected rows: {_clean(summary['rejected_csv'])}")
    lines += [
        "",
        f"See it with: segport runs show {_clean(record.get('id', '?'))}",
        "",
        f"-- segport alert {_clean(alert_name)!r}",
    ]
    return "\n".join(lines) + "\n"


def compose(
    settings: SmtpSettings,
    recipients: Sequence[str],
    record: dict[str, Any],
    *,
    alert_name: str,
    rule: AlertRule | None = None,
) -> EmailMessage:
    """The message about the run ``record``, from the workspace's address to ``recipients``."""
    # Headers up to RFC 5322's 998 characters on one line: folding a long subject at 78
    # can leave the unfolded subject starting with a space.
    message = EmailMessage(policy=policy.default.clone(max_line_length=998))
    message["Subject"] = subject_of(record, rule)
    message["From"] = settings.from_address
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.from_address.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    message["X-Segport-Alert"] = _clean(alert_name)
    message.set_content(body_of(record, alert_name))
    return message


class _Temporary(Exception):
    """A failure worth another try: the connection dropped, the server said 4xx."""


def _transient(error: BaseException) -> bool:
    return isinstance(error, _Temporary)


def _send_once(settings: SmtpSettings, message: EmailMessage, recipients: Sequence[str]) -> str:
    """Send ``message`` on one connection; the server's last reply. Raises ``_Temporary``
    for what another try may cure, anything else for what it cannot."""
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            smtp.ehlo()
            if settings.starttls:
                # smtplib raises when the server offers no STARTTLS: never on in clear.
                smtp.starttls(context=settings.tls_context())
                smtp.ehlo()
            if settings.user is not None and settings.password is not None:
                smtp.login(settings.user, settings.password.reveal())
            refused = smtp.send_message(message, to_addrs=list(recipients))
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
            raise _Temporary(_describe(exc, settings)) from exc
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [c for c, _ in exc.recipients.values()]
        if codes and all(400 <= c < 500 for c in codes):
            raise _Temporary(_describe(exc, settings)) from exc
        raise
    except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError, socket.gaierror) as exc:
        raise _Temporary(_describe(exc, settings)) from exc
    where = f"{settings.host}:{settings.port}"
    if refused:
        return f"accepted by {where} for some recipients; refused {_refused(refused)}"
    return f"accepted by {where} for {len(recipients)} recipient(s)"


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return redact(f"{code} {_clean(text)}")


def _refused(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{to}: {_reply(c, r)}" for to, (c, r) in sorted(recipients.items()))


def _describe(exc: BaseException, settings: SmtpSettings) -> str:
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, _Temporary):
        return str(exc)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the SMTP server refused the login of {settings.user!r}: " + _reply(
            exc.smtp_code, exc.smtp_error
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"the SMTP server {where} does not offer it: {_clean(exc)}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the SMTP server refused every recipient: " + _refused(exc.recipients)
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the SMTP server {where} answered " + _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the SMTP server {where}'s certificate is not trusted: {_clean(exc.verify_message)}"
    if isinstance(exc, TimeoutError):
        return f"the SMTP server {where} did not answer within {settings.timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return f"nothing accepts connections at {where} (connection refused)"
    if isinstance(exc, socket.gaierror):
        return f"the SMTP host {settings.host!r} is not known ({_clean(exc)})"
    return f"sending through {where} failed: {type(exc).__name__}: {redact(_clean(exc))}"


def send_email(
    settings: SmtpSettings,
    recipients: Sequence[str],
    record: dict[str, Any],
    *,
    alert_name: str,
    rule: AlertRule | None = None,
) -> DeliveryResult:
    """Send the message about ``record``; the result, never an exception."""
    attempts = 0
    try:
        message = compose(settings, recipients, record, alert_name=alert_name, rule=rule)

        def attempt() -> str:
            nonlocal attempts
            attempts += 1
            return _send_once(settings, message, recipients)

        retrying = Retrying(
            stop=stop_after_attempt(settings.max_attempts),
            wait=wait_exponential(multiplier=settings.backoff_seconds, max=60),
            retry=retry_if_exception(_transient),
            sleep=settings.sleep,
            reraise=True,
        )
        detail = retrying(attempt)
    except Exception as exc:  # a failing alert is reported, never raised (see delivery)
        return DeliveryResult(
            alert=alert_name,
            channel="email",
            status="failed",
            attempts=attempts,
            reason=redact(_describe(exc, settings)),
        )
    return DeliveryResult(
        alert=alert_name, channel="email", status="delivered", attempts=attempts, detail=detail
    )

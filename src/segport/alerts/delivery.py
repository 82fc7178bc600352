"""One alert sent about one run: by e-mail or webhook, never failing the run.

:func:`deliver` sends whatever happens and answers a :class:`DeliveryResult`; it never
raises (an alert that cannot be sent is logged as a warning and reported in the result,
and the run it is about ends as it ended). :func:`deliver_matching` sends the alerts
whose rule the run meets. Secrets (the SMTP password, a webhook's secret) are read from
the environment here, at sending time, and appear in no log line and no result.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from segport.alerts.environment import check_variable_name, secret_from_env
from segport.alerts.mail import SmtpSettings, check_address, send_email
from segport.alerts.results import DeliveryResult
from segport.alerts.rules import AlertRule, matches
from segport.alerts.webhook import WebhookSettings, check_url, send_webhook
from segport.errors import Invalid, SegportError
from segport.secret import redact

__all__ = ["Alert", "EmailTarget", "WebhookTarget", "deliver", "deliver_matching"]

log = logging.getLogger("segport.alerts")


@dataclass(frozen=True)
class EmailTarget:
    """Mail to these addresses, through the workspace's SMTP server."""

    recipients: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.recipients:
            raise Invalid("an e-mail alert needs at least one address", field="email")
        for address in self.recipients:
            check_address(address, field="email")


@dataclass(frozen=True)
class WebhookTarget:
    """POST to ``url``, signed with the secret in the environment variable ``secret_env``
    (unsigned without one)."""

    url: str
    secret_env: str | None = None
    timeout: float = 10.0
    max_attempts: int = 5
    backoff_seconds: float = 1.0

    def __post_init__(self) -> None:
        check_url(self.url, field="webhook")
        if self.secret_env is not None:
            check_variable_name(self.secret_env, field="secret_env")


@dataclass(frozen=True)
class Alert:
    """A named alert: when (``rule``) and where (``target``)."""

    name: str
    rule: AlertRule
    target: EmailTarget | WebhookTarget

    @property
    def channel(self) -> str:
        return "email" if isinstance(self.target, EmailTarget) else "webhook"


def _send(
    alert: Alert,
    record: dict[str, Any],
    smtp: SmtpSettings | None,
    environ: Mapping[str, str] | None,
) -> DeliveryResult:
    target = alert.target
    if isinstance(target, EmailTarget):
        if smtp is None:
            return DeliveryResult(
                alert=alert.name,
                channel="email",
                status="failed",
                attempts=0,
                reason="no SMTP server is set in the workspace: e-mail alerts cannot be sent",
            )
        return send_email(smtp, target.recipients, record, alert_name=alert.name, rule=alert.rule)
    try:
        secret = (
            secret_from_env(target.secret_env, field="secret_env", environ=environ)
            if target.secret_env is not None
            else None
        )
    except SegportError as exc:
        # Never sent unsigned when a secret is expected: the receiver would refuse it, or
        # worse, accept it.
        return DeliveryResult(
            alert=alert.name, channel="webhook", status="failed", attempts=0, reason=exc.message
        )
    settings = WebhookSettings(
        url=target.url,
        secret=secret,
        timeout=target.timeout,
        connect_timeout=min(target.timeout, 5.0),
        max_attempts=target.max_attempts,
        backoff_seconds=target.backoff_seconds,
    )
    return send_webhook(settings, record, alert_name=alert.name)


def deliver(
    alert: Alert,
    run_record: dict[str, Any],
    *,
    smtp: SmtpSettings | None = None,
    environ: Mapping[str, str] | None = None,
    quiet: bool = False,
) -> DeliveryResult:
    """Send ``alert`` about the run ``run_record`` (its JSON record, ``RunView.to_dict()``)
    whether or not its rule matches (``alerts test`` sends this way). Never raises.

    ``quiet``: log nothing; the caller shows the result itself (``alerts test``)."""
    try:
        result = _send(alert, run_record, smtp, environ)
    except Exception as exc:  # the last guard: an alert never fails a run
        result = DeliveryResult(
            alert=alert.name,
            channel="email" if isinstance(alert.target, EmailTarget) else "webhook",
            status="failed",
            attempts=0,
            reason=redact(f"{type(exc).__name__}: {exc}"),
        )
    run = f"run {run_record.get('id', '?')}" if isinstance(run_record, dict) else "a run"
    if quiet:
        return result
    if result.delivered:
        log.info(
            "alert %r about %s delivered by %s (%d attempt(s)): %s",
            alert.name,
            run,
            result.channel,
            result.attempts,
            result.detail,
        )
    else:
        log.warning(
            "alert %r about %s not delivered by %s after %d attempt(s): %s",
            alert.name,
            run,
            result.channel,
            result.attempts,
            redact(result.reason or "unknown"),
        )
    return result


def deliver_matching(
    alerts: Iterable[Alert],
    run_record: dict[str, Any],
    *,
    smtp: SmtpSettings | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[DeliveryResult]:
    """Send every alert whose rule ``run_record`` meets, one after the other; their
    results (none for a run that raises no alert). Never raises."""
    results = []
    for alert in alerts:
        try:
            due = matches(alert.rule, run_record)
        except Exception:  # a malformed record: no alert rather than a failed run
            log.warning("alert %r: the run record could not be read", alert.name, exc_info=True)
            continue
        if due:
            results.append(deliver(alert, run_record, smtp=smtp, environ=environ))
    return results

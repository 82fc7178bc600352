"""Alerts about run endings, and the workspace's SMTP server: add, list, test, remove;
set and show.

Anyone who sees exports sees the alerts and the SMTP settings; adding, removing, testing
an alert and setting the SMTP server are an admin's (``Action.ALERTS_MANAGE``) and
audited (``alerts.add``, ``alerts.remove``, ``alerts.test``, ``smtp.set``). Secrets are
named, never held: the SMTP password and a webhook's secret stay in the environment
variables whose names the workspace keeps, read when an alert is sent
(:mod:`segport.alerts`). Sending alerts when a run ends is
:mod:`segport.service.alert_sending`'s. docs/alerts.md describes the commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport.alerts import DeliveryResult, EmailTarget, WebhookTarget, deliver, parse_rule
from segport.alerts.environment import check_variable_name
from segport.errors import Conflict, Invalid, NotFound, SegportError
from segport.service import audit
from segport.service.access import Action, Actor, authorize
from segport.service.alert_model import EMAIL, SMTP_ROW_ID, WEBHOOK, AlertRow, SmtpRow
from segport.service.alert_sending import alert_of, smtp_of
from segport.service.models import utcnow
from segport.service.run_model import RunView
from segport.service.workspace import Workspace, has_control_characters

__all__ = [
    "AlertTestView",
    "AlertView",
    "SmtpView",
    "add_alert",
    "list_alerts",
    "remove_alert",
    "set_smtp",
    "show_smtp",
    "test_alert",
]

MAX_NAME = 100


class AlertNotFound(NotFound):
    default_code = "alert_not_found"


class AlertExists(Conflict):
    default_code = "alert_exists"


@dataclass(frozen=True)
class AlertView:
    """An alert: where it goes (``email`` addresses, or a ``webhook`` URL with its query
    string masked, signed with the secret in ``secret_env``) and when (``on``)."""

    name: str
    kind: str
    on: str
    email: list[str] = field(default_factory=list)
    webhook: str | None = None
    secret_env: str | None = None
    enabled: bool = True
    created_by: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class AlertTestView:
    """What became of a test of an alert (``DeliveryResult``): ``delivered``, or
    ``failed`` with the ``reason``; ``detail`` is what answered."""

    alert: str
    channel: str
    status: str
    attempts: int
    reason: str | None = None
    detail: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status == "delivered"


@dataclass(frozen=True)
class SmtpView:
    """The workspace's SMTP server; ``configured`` False until an admin set it. The
    password is only named: ``password_env`` is the variable it is read from."""

    configured: bool
    host: str | None = None
    port: int | None = None
    starttls: bool | None = None
    user: str | None = None
    password_env: str | None = None
    from_address: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None


def _shown_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)  # a query string can carry a token: masked, as in logs
    return parts._replace(query="***" if parts.query else "", fragment="").geturl()


def _view(row: AlertRow) -> AlertView:
    return AlertView(
        name=row.name,
        kind=row.kind,
        on=row.rule,
        email=[a for a in (row.email or "").split(",") if a],
        webhook=_shown_url(row.webhook_url) if row.webhook_url else None,
        secret_env=row.secret_env,
        enabled=row.enabled,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _check_name(name: str) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME or has_control_characters(name) or "," in name:
        raise Invalid(
            f"an alert's name is 1 to {MAX_NAME} characters, without commas or control "
            f"characters (got {name!r})",
            field="alert_name",
            code="alert_name_invalid",
        )
    return name


def _renamed(exc: SegportError, field_name: str) -> SegportError:
    """The delivery package's error, naming the alert command's option: an export's
    ``email`` field is a column, an alert's is an address."""
    exc.field = field_name
    return exc


def _addresses(email: str | list[str]) -> tuple[str, ...]:
    parts = email if isinstance(email, list) else [email]
    found = tuple(a.strip() for part in parts for a in part.split(",") if a.strip())
    try:
        EmailTarget(found)
    except Invalid as exc:
        raise _renamed(exc, "alert_email") from None
    return found


def add_alert(
    ws: Workspace,
    actor: Actor,
    name: str,
    *,
    on: str,
    email: str | list[str] | None = None,
    webhook: str | None = None,
    secret_env: str | None = None,
) -> AlertView:
    """Add an alert named ``name`` raised by the run endings ``on`` (``failed,skipped``,
    ``rejected-over:5%``: docs/alerts.md): to the ``email`` addresses (comma-separated),
    or a POST to ``webhook`` signed with the secret in the environment variable
    ``secret_env``. Admins only; audited."""
    actor = authorize(ws, actor, Action.ALERTS_MANAGE)
    name = _check_name(name)
    rule = parse_rule(on)
    if (email is None) == (webhook is None):
        raise Invalid(
            "an alert goes to e-mail addresses or to a webhook: give one of the two",
            field="alert_target",
            code="alert_target_required",
        )
    recipients: tuple[str, ...] = ()
    if email is not None:
        if secret_env is not None:
            raise Invalid(
                "a secret signs a webhook's requests; an e-mail alert has none",
                field="secret_env",
            )
        recipients = _addresses(email)
    else:
        assert webhook is not None
        if secret_env is not None:
            check_variable_name(secret_env, field="secret_env")
        WebhookTarget(webhook.strip(), secret_env)  # checks the URL (no user or password)
    with ws.session() as session:
        taken = session.scalars(select(AlertRow.id).where(AlertRow.name == name)).first()
        if taken is not None:
            raise AlertExists(
                f"an alert named {name!r} exists: remove it first, or choose another name",
                field="alert_name",
                details={"alert": name},
            )
        row = AlertRow(
            name=name,
            kind=EMAIL if email is not None else WEBHOOK,
            email=",".join(recipients) or None,
            webhook_url=webhook.strip() if webhook is not None else None,
            secret_env=secret_env,
            rule=rule.spec,
            enabled=True,
            created_by=actor.name,
            created_at=utcnow(),
        )
        session.add(row)
        view = _view(row)
        audit.record(
            session,
            actor,
            "alerts.add",
            name,
            {
                "kind": view.kind,
                "on": view.on,
                "email": view.email or None,
                "webhook": view.webhook,
                "secret_env": view.secret_env,
            },
        )
        return view


def list_alerts(ws: Workspace, actor: Actor) -> list[AlertView]:
    """The workspace's alerts by name (anyone who sees exports)."""
    authorize(ws, actor, Action.EXPORTS_READ)
    with ws.session() as session:
        rows = session.scalars(select(AlertRow).order_by(AlertRow.name)).all()
        return [_view(row) for row in rows]


def _find(session: Session, name: str) -> AlertRow:
    row = session.scalars(select(AlertRow).where(AlertRow.name == name)).first()
    if row is None:
        known = session.scalars(select(AlertRow.name).order_by(AlertRow.name)).all()
        raise AlertNotFound(
            f"no alert named {name!r}; alerts: {', '.join(known) or 'none'}",
            field="alert_name",
        )
    return row


def remove_alert(ws: Workspace, actor: Actor, name: str) -> AlertView:
    """Remove the alert ``name``; what it was. Admins only; audited."""
    actor = authorize(ws, actor, Action.ALERTS_MANAGE)
    with ws.session() as session:
        row = _find(session, name)
        view = _view(row)
        session.delete(row)
        audit.record(session, actor, "alerts.remove", view.name, {"kind": view.kind})
        return view


def sample_run(alert_name: str, actor: Actor) -> dict[str, Any]:
    """The run record a test sends: a made-up failed run, marked as a test throughout."""
    now = datetime.now(UTC)
    return RunView(
        id=0,
        number=0,
        export_name="segport-alert-test",
        status="failed",
        reason="alert_test",
        trigger="alert_test",
        actor=actor.name,
        full=False,
        created_at=now,
        started_at=now,
        finished_at=now,
        heartbeat_at=None,
        claimed_by=None,
        cancel_requested_at=None,
        cancel_requested_by=None,
        message=f"a test of alert {alert_name!r} by {actor.name}: no run ended this way",
        members=0,
        sent=0,
        removed=0,
        rejected=0,
        summary=None,
    ).to_dict()


def test_alert(ws: Workspace, actor: Actor, name: str) -> AlertTestView:
    """Send the alert ``name`` now about a sample run (whatever its rule), and say what
    became of it: the same path, SMTP server and secrets a run's alert takes. Admins only
    (it sends messages); audited."""
    actor = authorize(ws, actor, Action.ALERTS_MANAGE)
    with ws.session() as session:
        row = _find(session, name)
        alert = alert_of(row)
        smtp_row = session.get(SmtpRow, SMTP_ROW_ID)
        smtp_fields = smtp_of(smtp_row) if smtp_row is not None else None
    record = sample_run(alert.name, actor)
    result: DeliveryResult
    try:
        smtp = smtp_fields() if smtp_fields is not None and alert.channel == EMAIL else None
    except SegportError as exc:  # the password's variable is not set here
        result = DeliveryResult(
            alert=alert.name, channel="email", status="failed", attempts=0, reason=exc.message
        )
    else:
        result = deliver(alert, record, smtp=smtp, quiet=True)  # the face shows it
    view = AlertTestView(**result.to_dict())
    with ws.session() as session:
        audit.record(
            session,
            actor,
            "alerts.test",
            alert.name,
            {"status": view.status, "attempts": view.attempts, "reason": view.reason},
        )
    return view


test_alert.__test__ = False  # type: ignore[attr-defined]  # not a test for pytest to collect


def _smtp_view(row: SmtpRow | None) -> SmtpView:
    if row is None:
        return SmtpView(configured=False)
    return SmtpView(
        configured=True,
        host=row.host,
        port=row.port,
        starttls=row.starttls,
        user=row.user,
        password_env=row.password_env,
        from_address=row.from_address,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def set_smtp(
    ws: Workspace,
    actor: Actor,
    *,
    host: str,
    from_address: str,
    port: int = 587,
    starttls: bool = True,
    user: str | None = None,
    password_env: str | None = None,
) -> SmtpView:
    """Set the SMTP server e-mail alerts go through (replacing the one set). The password
    is named by its environment variable (``password_env``), read when an alert is sent;
    it need not be set in this process. Admins only; audited."""
    from segport.alerts import SmtpSettings
    from segport.secret import Secret

    actor = authorize(ws, actor, Action.ALERTS_MANAGE)
    host = host.strip() if isinstance(host, str) else host
    if user is not None and (not user.strip() or has_control_characters(user)):
        raise Invalid(
            f"the SMTP user {user!r} is not a login name: give the user the server knows",
            field="smtp_user",
        )
    if password_env is not None:
        check_variable_name(password_env, field="smtp_password_env")
    # The checks a send makes, now: a stand-in for the password (its value is not needed
    # to know that a login without STARTTLS would cross the network in clear).
    SmtpSettings(
        host=host,
        from_address=from_address,
        port=port,
        starttls=starttls,
        user=user,
        password=Secret("-") if password_env is not None else None,
    )
    with ws.session() as session:
        row = session.get(SmtpRow, SMTP_ROW_ID)
        if row is None:
            row = SmtpRow(id=SMTP_ROW_ID)
            session.add(row)
        row.host, row.port, row.starttls = host, port, starttls
        row.user, row.password_env, row.from_address = user, password_env, from_address
        row.updated_by, row.updated_at = actor.name, utcnow()
        view = _smtp_view(row)
        audit.record(
            session,
            actor,
            "smtp.set",
            "smtp",
            {
                "host": host,
                "port": port,
                "starttls": starttls,
                "user": user,
                "password_env": password_env,
                "from_address": from_address,
            },
        )
        return view


def show_smtp(ws: Workspace, actor: Actor) -> SmtpView:
    """The workspace's SMTP server (anyone who sees exports): the password by name only."""
    authorize(ws, actor, Action.EXPORTS_READ)
    with ws.session() as session:
        return _smtp_view(session.get(SmtpRow, SMTP_ROW_ID))

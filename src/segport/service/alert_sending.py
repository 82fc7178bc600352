"""Sending the workspace's alerts when a run ends, without ever failing or holding the run.

Every ending of a run (successful, failed, skipped, canceled; a run recovered from a dead
worker; a queued run canceled) is written with ``export_configs.record_last_run`` in the
transaction that ends it, which calls :func:`after_run_ended`. That only notes the
export and the time; once the transaction commits (never before: a run whose ending
rolled back did not end), the ended run, the alerts and the SMTP settings are read, and
the alerts whose rule the run meets are sent by a background thread
(:func:`segport.alerts.deliver_matching`). Whatever goes wrong is logged on the
``segport.alerts`` logger and swallowed: a run ends as it ended.

A long-lived process (a worker) lets the threads finish; a command waits for them at
exit at most :data:`EXIT_WAIT` seconds, so a slow or unreachable webhook does not hold
the command line for a minute of retries (the alert is then logged as cut short).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from segport.alerts import (
    Alert,
    DeliveryResult,
    EmailTarget,
    SmtpSettings,
    WebhookTarget,
    deliver_matching,
    matches,
    parse_rule,
)
from segport.errors import SegportError
from segport.service.alert_model import EMAIL, SMTP_ROW_ID, AlertRow, SmtpRow
from segport.service.models import Export
from segport.service.run_model import UNFINISHED, Run, run_view

__all__ = ["EXIT_WAIT", "after_run_ended", "alert_of", "smtp_of", "wait_for_alerts"]

log = logging.getLogger("segport.alerts")

# Seconds a command waits at exit for alerts still being sent.
EXIT_WAIT = 15.0
# The first wait between a webhook's attempts (doubling each time: 1, 2, 4, 8 s).
WEBHOOK_BACKOFF = 1.0

_PENDING = "segport.alerts.ended"  # Session.info key: (export id, ended at) pairs
_threads: set[threading.Thread] = set()
_lock = threading.Lock()


def alert_of(row: AlertRow) -> Alert:
    """The stored alert as the delivery package takes it."""
    target: EmailTarget | WebhookTarget
    if row.kind == EMAIL:
        target = EmailTarget(tuple(a for a in (row.email or "").split(",") if a))
    else:
        assert row.webhook_url is not None
        target = WebhookTarget(row.webhook_url, row.secret_env, backoff_seconds=WEBHOOK_BACKOFF)
    return Alert(name=row.name, rule=parse_rule(row.rule), target=target)


def smtp_of(row: SmtpRow) -> Callable[[], SmtpSettings]:
    """What makes the SMTP settings from the stored row, reading the password from its
    variable when called (:class:`~segport.errors.Invalid` when it is unset)."""
    host, port, starttls = row.host, row.port, row.starttls
    user, password_env, from_address = row.user, row.password_env, row.from_address

    def settings() -> SmtpSettings:
        return SmtpSettings.from_environment(
            host=host,
            from_address=from_address,
            port=port,
            starttls=starttls,
            user=user,
            password_env=password_env,
        )

    return settings


def after_run_ended(session: Session, export_id: int, at: datetime) -> None:
    """A run of the export ``export_id`` ended at ``at`` in ``session``'s transaction:
    its alerts go once that commits. Never raises."""
    try:
        pending = session.info.setdefault(_PENDING, [])
        if not pending:
            event.listen(session, "after_commit", _committed, once=True)
            event.listen(session, "after_rollback", _rolled_back, once=True)
        pending.append((export_id, at))
    except Exception:
        log.warning("alerts about a run of export id %s not scheduled", export_id, exc_info=True)


def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _committed(session: Session) -> None:
    pending: list[tuple[int, datetime]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    try:
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        jobs = _jobs(engine, pending)
    except Exception:  # the database: the runs are recorded, their alerts are lost
        log.warning("alerts about ended runs could not be read", exc_info=True)
        return
    for alerts, record, smtp in jobs:
        thread = threading.Thread(
            target=_send, args=(alerts, record, smtp), name="segport-alerts", daemon=True
        )
        with _lock:
            _threads.add(thread)
        thread.start()


Job = tuple[list[Alert], dict[str, Any], Callable[[], SmtpSettings] | None]


def _jobs(engine: Engine, pending: list[tuple[int, datetime]]) -> list[Job]:
    """For each ended run, the alerts its record meets (none: nothing to send)."""
    jobs: list[Job] = []
    with Session(engine) as session:
        rows = session.scalars(
            select(AlertRow).where(AlertRow.enabled.is_(True)).order_by(AlertRow.name)
        ).all()
        if not rows:  # the common case: one query, no thread
            return jobs
        alerts = []
        for row in rows:
            try:
                alerts.append(alert_of(row))
            except SegportError as exc:  # stored before a check tightened
                log.warning("alert %r cannot be sent: %s", row.name, exc.message)
        smtp_row = session.get(SmtpRow, SMTP_ROW_ID)
        smtp = smtp_of(smtp_row) if smtp_row is not None else None
        for export_id, at in pending:
            found = session.execute(
                select(Run, Export.name)
                .join(Export, Export.id == Run.export_id)
                .where(Run.export_id == export_id, Run.finished_at == at)
                .where(Run.status.not_in(UNFINISHED))
                .order_by(Run.id.desc())
                .limit(1)
            ).first()
            if found is None:
                log.warning("the run of export id %s that ended at %s was not found", export_id, at)
                continue
            record = run_view(str(found[1]), found[0]).to_dict()
            due = [a for a in alerts if _meets(a, record)]
            if due:
                jobs.append((due, record, smtp))
    return jobs


def _meets(alert: Alert, record: dict[str, Any]) -> bool:
    try:
        return matches(alert.rule, record)
    except Exception:
        return False


def _send(
    alerts: list[Alert], record: dict[str, Any], smtp: Callable[[], SmtpSettings] | None
) -> None:
    try:
        settings: SmtpSettings | None = None
        emails = [a for a in alerts if a.channel == EMAIL]
        if emails and smtp is not None:
            try:
                settings = smtp()
            except SegportError as exc:  # the password's variable is not set here
                for alert in emails:
                    log.warning(
                        "alert %r about run %s not delivered by email: %s",
                        alert.name,
                        record.get("id"),
                        exc.message,
                    )
                alerts = [a for a in alerts if a.channel != EMAIL]
        results: list[DeliveryResult] = deliver_matching(alerts, record, smtp=settings)
        del results  # deliver logs each one
    except Exception:  # the last guard: a thread's error would only print a traceback
        log.warning("alerts about run %s failed", record.get("id"), exc_info=True)
    finally:
        with _lock:
            _threads.discard(threading.current_thread())


def wait_for_alerts(timeout: float | None = None) -> bool:
    """Wait for the alerts being sent, at most ``timeout`` seconds in all (None: until
    they are sent); whether none is left."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with _lock:
            left = list(_threads)
        if not left:
            return True
        for thread in left:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(remaining)
        if deadline is not None and time.monotonic() >= deadline:
            with _lock:
                return not _threads


def _at_exit() -> None:
    if not wait_for_alerts(EXIT_WAIT):
        with _lock:
            count = len(_threads)
        log.warning(
            "%d alert(s) still being sent after %.0f s were cut short as segport exited",
            count,
            EXIT_WAIT,
        )


atexit.register(_at_exit)

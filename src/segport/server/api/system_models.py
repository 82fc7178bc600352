"""Request and response bodies of the system resources: the system refresh's schedule,
the live workers, alerts and the SMTP server. Responses have the shapes of the services'
views as ``service.views.to_json`` gives them.

Secrets are named, never held: the SMTP password and a webhook's signing secret stay in
environment variables of the server (and the workers), and the bodies carry only those
variables' names (``password_env``, ``secret_env``). No body carries a password.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from segport.server.api.models import Page

# The schedule


class Firing(BaseModel):
    local: datetime = Field(description="On the schedule's clock, with its offset.")
    utc: datetime


class ScheduleOut(BaseModel):
    """The system refresh's schedule. ``configured`` is false until an admin first set
    it; ``enabled`` false when it is off (its days and times are kept)."""

    configured: bool
    enabled: bool
    daily: bool
    days: list[str] = Field(description="Weekdays it fires on (mon … sun).")
    times: list[str] = Field(description="Times of day, HH:MM on the schedule's clock.")
    timezone: str | None
    description: str
    next_firings: list[Firing] = Field(description="The next firings; none when off.")
    updated_by: str | None
    updated_at: datetime | None
    last_fired_at: datetime | None


class ScheduleIn(BaseModel):
    """Every day (``days`` absent or null) or on some weekdays, at one to four times of
    day, in an IANA time zone. The service checks them: 422 naming ``times``,
    ``timezone`` or ``days``."""

    times: list[str] = Field(
        max_length=20,
        description="One to four times of day, HH:MM on the 24-hour clock.",
        examples=[["06:00", "18:30"]],
    )
    timezone: str = Field(
        max_length=100, description="An IANA time zone, e.g. Europe/Amsterdam or UTC."
    )
    days: list[str] | None = Field(
        default=None,
        max_length=20,
        description="Only on these weekdays (mon, tue, wed, thu, fri, sat, sun); "
        "null or absent: every day.",
    )


# Workers


class WorkerOut(BaseModel):
    """A live worker: where it runs, since when, its last sign of life and its run."""

    id: int
    name: str = Field(description="host:pid, as a run's `claimed_by` names its executor.")
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime = Field(description="Its last sign of life.")
    current_run_id: int | None


class WorkerPage(Page):
    items: list[WorkerOut]


# Alerts


class AlertOut(BaseModel):
    """An alert: where it goes (``email`` addresses, or a ``webhook`` URL with its query
    string masked) and which run endings raise it (``on``)."""

    name: str
    kind: Literal["email", "webhook"]
    on: str
    email: list[str]
    webhook: str | None
    secret_env: str | None = Field(
        description="The environment variable holding the webhook's signing secret "
        "(its name; the secret is never stored)."
    )
    enabled: bool
    created_by: str | None
    created_at: datetime | None


class AlertPage(Page):
    items: list[AlertOut]


class NewAlert(BaseModel):
    """An alert to e-mail addresses or to a webhook (one of the two). The service checks
    every field: 422 naming ``alert_name``, ``on``, ``alert_email``, ``webhook``,
    ``secret_env`` or ``alert_target``; a name taken: 409 ``alert_exists``."""

    name: str = Field(max_length=200)
    on: str = Field(
        max_length=500,
        description="The run endings that raise it, comma-separated: failed, skipped, "
        "canceled, successful, rejected-over:N% or rejected-over:N.",
        examples=["failed,skipped,rejected-over:5%"],
    )
    email: list[str] | None = Field(
        default=None, max_length=100, description="Mail it to these addresses."
    )
    webhook: str | None = Field(
        default=None, max_length=2000, description="POST the run record to this http(s) URL."
    )
    secret_env: str | None = Field(
        default=None,
        max_length=200,
        description="Sign the webhook's requests with the secret in this environment "
        "variable of the server (its name is kept, never the secret).",
    )


class AlertTestOut(BaseModel):
    """What became of a test of an alert: ``delivered``, or ``failed`` with the
    ``reason``; ``detail`` is what answered (the SMTP server, the webhook)."""

    alert: str
    channel: Literal["email", "webhook"]
    status: Literal["delivered", "failed"]
    delivered: bool
    attempts: int
    reason: str | None
    detail: str | None


# SMTP


class SmtpOut(BaseModel):
    """The SMTP server e-mail alerts go through; ``configured`` false until an admin set
    it. The password is never stored nor shown: ``password_env`` names the server's
    environment variable it is read from when an alert is sent."""

    configured: bool
    host: str | None
    port: int | None
    starttls: bool | None
    user: str | None
    password_env: str | None
    from_address: str | None
    updated_by: str | None
    updated_at: datetime | None


class SmtpIn(BaseModel):
    """The SMTP server (replacing the one set). The service checks every field: 422
    naming ``smtp_host``, ``smtp_port``, ``smtp_from``, ``smtp_user``,
    ``smtp_password_env`` or ``smtp_starttls`` (a login in clear over the network)."""

    host: str = Field(max_length=255)
    port: int = Field(default=587, description="587: submission (STARTTLS); 25: a relay.")
    starttls: bool = Field(
        default=True, description="Upgrade the connection and check the certificate."
    )
    user: str | None = Field(default=None, max_length=200, description="Log in as this user.")
    password_env: str | None = Field(
        default=None,
        max_length=200,
        description="The environment variable of the server (and workers) holding the "
        "login's password, read when an alert is sent: its name is kept, never the "
        "password.",
    )
    from_address: str = Field(max_length=320, description="The sender's address.")

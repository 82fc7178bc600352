"""System: the refresh's schedule (with its edit form and next firings), Refresh now
(and what it requested), the live workers, the alerts (add, remove, send a test and see
what became of it), the SMTP server, and a chart of the recent runs' durations and
counts (``server/charts.py``, with a table of the same numbers).

Everyone who sees exports sees the page; the forms are an admin's, and a post by anyone
else is refused with the service's message. A refused form comes back with what was
typed and the service's message next to the field it names. No password is asked for:
the SMTP login's password stays in an environment variable whose name is kept.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Request, Response

from segport.errors import Invalid, SegportError
from segport.server.charts import run_points, runs_chart
from segport.server.pages.base import Form, PageRoute, Posted, ServerDep, SignedIn, render
from segport.server.pages.base import see_other as _see_other
from segport.server.problems import status_of
from segport.service import (
    Action,
    AlertTestView,
    RefreshView,
    SmtpView,
    SystemScheduleView,
    add_alert,
    list_alerts,
    list_all_runs,
    list_workers,
    remove_alert,
    run_refresh,
    set_smtp,
    set_system_schedule,
    show_smtp,
    show_system_schedule,
    test_alert,
    turn_off_system_schedule,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CHARTED_RUNS = 30
WEEKDAYS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
NOTICES = {  # fixed texts only: a query parameter never puts its own words on a page
    "schedule": "Schedule saved: the system refresh is on.",
    "off": "The system refresh is off. Its days and times are kept: save the form to turn "
    "it on again.",
    "alert": "Alert added. Send a test to check that it arrives.",
    "removed": "Alert removed.",
    "smtp": "SMTP server saved.",
}
# Which form a field belongs to: a refusal naming a field shows next to it, and one
# naming none (or another) at the top of the form that was posted.
FORMS = {
    "schedule": ("times", "timezone", "days"),
    "alert": ("alert_name", "on", "alert_target", "alert_email", "webhook", "secret_env"),
    "smtp": (
        "smtp_host",
        "smtp_port",
        "smtp_starttls",
        "smtp_user",
        "smtp_password_env",
        "smtp_from",
    ),
}
_SPLIT = re.compile(r"[\s,]+")


def _zones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z or z == "UTC")


ZONES = _zones()


def _schedule_values(schedule: SystemScheduleView) -> dict[str, Any]:
    """The schedule form's fields as the saved schedule fills them."""
    return {
        "frequency": "daily" if not schedule.configured or schedule.daily else "weekly",
        "days": list(schedule.days) if schedule.configured and not schedule.daily else [],
        "times": ", ".join(schedule.times),
        "timezone": schedule.timezone or "UTC",
    }


def _smtp_values(smtp: SmtpView) -> dict[str, Any]:
    return {
        "smtp_host": smtp.host or "",
        "smtp_port": str(smtp.port or 587),
        "smtp_starttls": True if smtp.starttls is None else smtp.starttls,
        "smtp_user": smtp.user or "",
        "smtp_password_env": smtp.password_env or "",
        "smtp_from": smtp.from_address or "",
    }


def _page(
    request: Request,
    who: SignedIn,
    srv: ServerDep,
    *,
    notice: str | None = None,
    error: SegportError | None = None,
    form: str | None = None,
    typed: dict[str, Any] | None = None,
    tested: AlertTestView | None = None,
    refreshed: RefreshView | None = None,
) -> Response:
    """The page; after a refused post, ``form`` is the one posted, shown again with what
    was ``typed`` and the ``error`` next to its field."""
    ws, actor = srv.ws, who.actor
    schedule = show_system_schedule(ws, actor)
    smtp = show_smtp(ws, actor)
    runs = list_all_runs(ws, actor, limit=CHARTED_RUNS)
    points = run_points(runs)
    values: dict[str, dict[str, Any]] = {
        "schedule": _schedule_values(schedule),
        "alert": {
            "alert_name": "",
            "on": "failed",
            "target": "email",
            "alert_email": "",
            "webhook": "",
            "secret_env": "",
        },
        "smtp": _smtp_values(smtp),
    }
    bad_field = None
    if form is not None and typed is not None:
        values[form] = typed
    if error is not None and form is not None and error.field in FORMS[form]:
        bad_field = error.field
    return render(
        request,
        "system.html",
        http_status=status_of(error) if error else 200,
        area="system",
        notice=notice,
        error=error,
        form=form,
        bad_field=bad_field,
        values=values,
        tested=tested,
        refreshed=refreshed,
        schedule=schedule,
        workers=list_workers(ws, actor),
        alerts=list_alerts(ws, actor),
        smtp=smtp,
        points=points,
        chart=runs_chart(points),
        weekdays=WEEKDAYS,
        zones=ZONES,
        is_admin=actor.role.value == "admin",
        may_refresh=actor.may(Action.EXPORTS_RUN),
    )


def _refused(
    request: Request,
    who: Posted,
    srv: ServerDep,
    exc: SegportError,
    form: str | None,
    typed: dict[str, Any] | None = None,
) -> Response:
    """A refused post: the error page when the user may not do it (the service's
    message), else the page with the form as it was typed."""
    if exc.kind == "forbidden":
        raise exc
    return _page(request, who, srv, error=exc, form=form, typed=typed)


def see_other(notice: str) -> Response:
    return _see_other(f"/system?notice={notice}")


@router.get("/system")
def system_page(request: Request, who: SignedIn, srv: ServerDep, notice: str = "") -> Response:
    return _page(request, who, srv, notice=NOTICES.get(notice))


@router.post("/system/schedule")
def schedule_post(request: Request, who: Posted, srv: ServerDep, form: Form) -> Response:
    """Set the schedule: every day, or on the weekdays ticked; the times typed
    (comma-separated) read in the time zone."""
    weekly = form.get("frequency") == "weekly"
    typed: dict[str, Any] = {
        "frequency": "weekly" if weekly else "daily",
        "days": [d for d in WEEKDAYS if form.get(f"day_{d}") == "yes"],
        "times": form.get("times", ""),
        "timezone": form.get("timezone", ""),
    }
    try:
        set_system_schedule(
            srv.ws,
            who.actor,
            times=[t for t in _SPLIT.split(typed["times"]) if t],
            timezone=typed["timezone"].strip(),
            days=typed["days"] if weekly else None,
        )
    except SegportError as exc:
        return _refused(request, who, srv, exc, "schedule", typed)
    return see_other("schedule")


@router.post("/system/schedule/off")
def schedule_off_post(request: Request, who: Posted, srv: ServerDep) -> Response:
    try:
        turn_off_system_schedule(srv.ws, who.actor)
    except SegportError as exc:
        return _refused(request, who, srv, exc, None)
    return see_other("off")


@router.post("/system/refresh")
def refresh_post(request: Request, who: Posted, srv: ServerDep) -> Response:
    """Run the system refresh now, and show what it counted and requested."""
    try:
        refreshed = run_refresh(srv.ws, who.actor)
    except SegportError as exc:
        return _refused(request, who, srv, exc, None)
    return _page(request, who, srv, refreshed=refreshed)


@router.post("/system/alerts")
def alert_post(request: Request, who: Posted, srv: ServerDep, form: Form) -> Response:
    """Add an alert: to the addresses typed (comma-separated) or to the webhook."""
    typed: dict[str, Any] = {
        "alert_name": form.get("alert_name", ""),
        "on": form.get("on", ""),
        "target": "webhook" if form.get("target") == "webhook" else "email",
        "alert_email": form.get("alert_email", ""),
        "webhook": form.get("webhook", ""),
        "secret_env": form.get("secret_env", ""),
    }
    by_mail = typed["target"] == "email"
    try:
        add_alert(
            srv.ws,
            who.actor,
            typed["alert_name"],
            on=typed["on"],
            email=typed["alert_email"] if by_mail else None,
            webhook=None if by_mail else typed["webhook"],
            secret_env=(typed["secret_env"].strip() or None) if not by_mail else None,
        )
    except SegportError as exc:
        return _refused(request, who, srv, exc, "alert", typed)
    return see_other("alert")


@router.post("/system/alerts/remove")
def alert_remove_post(request: Request, who: Posted, srv: ServerDep, form: Form) -> Response:
    try:
        remove_alert(srv.ws, who.actor, form.get("alert_name", ""))
    except SegportError as exc:
        return _refused(request, who, srv, exc, None)
    return see_other("removed")


@router.post("/system/alerts/test")
def alert_test_post(request: Request, who: Posted, srv: ServerDep, form: Form) -> Response:
    """Send the alert now about a made-up failed run, and show what became of it."""
    try:
        tested = test_alert(srv.ws, who.actor, form.get("alert_name", ""))
    except SegportError as exc:
        return _refused(request, who, srv, exc, None)
    return _page(request, who, srv, tested=tested)


@router.post("/system/smtp")
def smtp_post(request: Request, who: Posted, srv: ServerDep, form: Form) -> Response:
    typed: dict[str, Any] = {
        "smtp_host": form.get("smtp_host", ""),
        "smtp_port": form.get("smtp_port", "").strip() or "587",
        "smtp_starttls": form.get("smtp_starttls") == "yes",
        "smtp_user": form.get("smtp_user", ""),
        "smtp_password_env": form.get("smtp_password_env", ""),
        "smtp_from": form.get("smtp_from", ""),
    }
    try:
        if not typed["smtp_port"].isdigit() or len(typed["smtp_port"]) > 5:
            raise Invalid(
                f"the SMTP port {typed['smtp_port']!r} is not a port: 587 (STARTTLS) or 25",
                field="smtp_port",
            )
        set_smtp(
            srv.ws,
            who.actor,
            host=typed["smtp_host"],
            from_address=typed["smtp_from"].strip(),
            port=int(typed["smtp_port"]),
            starttls=typed["smtp_starttls"],
            user=typed["smtp_user"].strip() or None,
            password_env=typed["smtp_password_env"].strip() or None,
        )
    except SegportError as exc:
        return _refused(request, who, srv, exc, "smtp", typed)
    return see_other("smtp")

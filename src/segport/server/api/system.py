"""The system: the refresh's schedule (shown, set, turned off), the refresh run now, the
live workers, the
alerts raised when runs end (listed, added, removed, tested) and the SMTP server e-mail
alerts go through (shown, set).

Anyone who may see exports reads them; setting the schedule, managing alerts and setting
the SMTP server are an admin's (the services refuse others: 403 ``permission_denied``).
No body carries a password or a signing secret: both stay in environment variables
whose names the workspace keeps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, Field

from segport.server.api.models import Run
from segport.server.api.system_models import (
    AlertOut,
    AlertPage,
    AlertTestOut,
    NewAlert,
    ScheduleIn,
    ScheduleOut,
    SmtpIn,
    SmtpOut,
    WorkerOut,
    WorkerPage,
)
from segport.server.auth import ActorDep
from segport.server.context import Server, server
from segport.server.problems import problem_responses
from segport.service import (
    SystemScheduleView,
    add_alert,
    list_alerts,
    list_workers,
    remove_alert,
    run_refresh,
    set_smtp,
    set_system_schedule,
    show_smtp,
    show_system_schedule,
    test_alert,
    to_json,
    turn_off_system_schedule,
)

router = APIRouter(tags=["system"])
ServerDep = Annotated[Server, Depends(server)]
AlertName = Annotated[str, Path(min_length=1, max_length=200, description="The alert's name.")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]


def _schedule(view: SystemScheduleView) -> ScheduleOut:
    return ScheduleOut.model_validate(to_json(view))


@router.get(
    "/system/schedule",
    responses=problem_responses(401, 403, 422),
    summary="The system refresh's schedule and its next firings",
)
def get_schedule(
    who: ActorDep,
    srv: ServerDep,
    count: Annotated[int, Query(ge=1, le=100, description="How many next firings.")] = 5,
) -> ScheduleOut:
    return _schedule(show_system_schedule(srv.ws, who, count=count))


@router.put(
    "/system/schedule",
    responses=problem_responses(401, 403, 422),
    summary="Set the system refresh's schedule and turn it on (admins)",
)
def put_schedule(body: ScheduleIn, who: ActorDep, srv: ServerDep) -> ScheduleOut:
    """Every day or on some weekdays, at one to four times of day read in `timezone`.
    A bad value: 422 with the service's code and the field (`times`, `timezone`,
    `days`)."""
    view = set_system_schedule(
        srv.ws, who, times=body.times, timezone=body.timezone, days=body.days
    )
    return _schedule(view)


@router.delete(
    "/system/schedule",
    responses=problem_responses(401, 403, 422),
    summary="Turn the system refresh off (admins)",
)
def delete_schedule(who: ActorDep, srv: ServerDep) -> ScheduleOut:
    """Its days and times are kept (`enabled`: false); PUT turns it on again. Turning off
    a schedule that is off changes nothing."""
    return _schedule(turn_off_system_schedule(srv.ws, who))


class RefreshedSegment(BaseModel):
    """An active segment as the refresh counted it: its members, or why it failed (it
    keeps its last count)."""

    name: str
    member_count: int | None
    error: str | None = None


class RefreshedExport(BaseModel):
    """An export on the system schedule: the run the refresh recorded (`queued` for a
    worker, or `skipped` with its `reason`), or `busy`: the run already going on."""

    export_name: str
    run: Run | None
    busy: str | None = None


class RefreshOut(BaseModel):
    """What the refresh did: the active segments re-counted, the runs requested."""

    started_at: datetime
    fired_for: datetime | None = Field(description="The scheduled firing (null: by hand).")
    segments: list[RefreshedSegment]
    exports: list[RefreshedExport]


@router.post(
    "/system/refresh",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 403),
    summary="Run the system refresh now",
)
def post_refresh(who: ActorDep, srv: ServerDep) -> RefreshOut:
    """Re-counts every active segment, then requests a run of every export on the
    system schedule: `queued` for a worker to execute (the answer does not wait for
    them: follow them with `GET /runs/{id}`), or recorded `skipped` with its reason (no
    connection, an unusable one, an inactive or failed segment, over its profile limit).
    An export with a run queued or processing keeps it (`busy`). For who may run
    exports (admins, contributors)."""
    return RefreshOut.model_validate(to_json(run_refresh(srv.ws, who)))


@router.get(
    "/system/workers",
    responses=problem_responses(401, 403, 422),
    summary="The live workers, oldest first",
)
def get_workers(who: ActorDep, srv: ServerDep, limit: Limit = 50, offset: Offset = 0) -> WorkerPage:
    """Workers whose heartbeat is too old and whose process is gone are left out."""
    views = list_workers(srv.ws, who)
    items = [WorkerOut.model_validate({**v.to_dict(), "name": v.name}) for v in views]
    return WorkerPage(
        total=len(items), offset=offset, limit=limit, items=items[offset : offset + limit]
    )


@router.get(
    "/alerts",
    responses=problem_responses(401, 403, 422),
    summary="The alerts, by name",
)
def get_alerts(who: ActorDep, srv: ServerDep, limit: Limit = 50, offset: Offset = 0) -> AlertPage:
    views = list_alerts(srv.ws, who)
    items = [AlertOut.model_validate(to_json(v)) for v in views]
    return AlertPage(
        total=len(items), offset=offset, limit=limit, items=items[offset : offset + limit]
    )


@router.post(
    "/alerts",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
    summary="Add an alert (admins)",
)
def post_alert(body: NewAlert, who: ActorDep, srv: ServerDep) -> AlertOut:
    """To e-mail addresses (through the SMTP server `PUT /system/smtp` sets) or to a
    webhook (a POST of the run record, signed with HMAC-SHA256 when `secret_env` names
    the variable holding the secret). A name taken: 409 `alert_exists`."""
    view = add_alert(
        srv.ws,
        who,
        body.name,
        on=body.on,
        email=body.email,
        webhook=body.webhook,
        secret_env=body.secret_env,
    )
    return AlertOut.model_validate(to_json(view))


@router.delete(
    "/alerts/{name}",
    responses=problem_responses(401, 403, 404, 422),
    summary="Remove an alert (admins)",
)
def delete_alert(name: AlertName, who: ActorDep, srv: ServerDep) -> AlertOut:
    """What the alert was."""
    return AlertOut.model_validate(to_json(remove_alert(srv.ws, who, name)))


@router.post(
    "/alerts/{name}/test",
    responses=problem_responses(401, 403, 404, 422),
    summary="Send an alert now about a made-up failed run (admins)",
)
def post_alert_test(name: AlertName, who: ActorDep, srv: ServerDep) -> AlertTestOut:
    """Sent the way a run's alert is (the same SMTP server, webhook and secrets), its
    rule aside. 200 whatever became of it: `delivered` says, and `reason` why not."""
    view = test_alert(srv.ws, who, name)
    data = to_json(view)
    assert isinstance(data, dict)
    return AlertTestOut.model_validate({**data, "delivered": view.delivered})


@router.get(
    "/system/smtp",
    responses=problem_responses(401, 403, 422),
    summary="The SMTP server e-mail alerts go through",
)
def get_smtp(who: ActorDep, srv: ServerDep) -> SmtpOut:
    return SmtpOut.model_validate(to_json(show_smtp(srv.ws, who)))


@router.put(
    "/system/smtp",
    responses=problem_responses(401, 403, 422),
    summary="Set the SMTP server e-mail alerts go through (admins)",
)
def put_smtp(body: SmtpIn, who: ActorDep, srv: ServerDep) -> SmtpOut:
    """Replaces the one set. The login's password is named by `password_env` (read when
    an alert is sent; it need not be set yet) and never stored nor shown."""
    view = set_smtp(
        srv.ws,
        who,
        host=body.host,
        from_address=body.from_address,
        port=body.port,
        starttls=body.starttls,
        user=body.user,
        password_env=body.password_env,
    )
    return SmtpOut.model_validate(to_json(view))

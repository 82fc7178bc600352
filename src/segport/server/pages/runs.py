"""Runs: the history (filter by export and status), a run's page, its live part, Cancel,
and Retry (a new run of the export) on a run that did not succeed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from segport.errors import SegportError
from segport.server.pages.base import (
    PageRoute,
    Posted,
    ServerDep,
    SignedIn,
    render,
    see_other,
)
from segport.server.problems import status_of
from segport.server.run_files import run_file_download
from segport.service import (
    RUN_STATUSES,
    cancel_run,
    list_exports,
    page_runs,
    retry_run,
    show_export,
    show_run,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE = 20
LIVE = ("queued", "processing")  # a run in these may still change: its page polls
RETRIED = ("failed", "canceled", "skipped")  # a run that did not finish its work: Retry
NOTICES = {  # fixed texts only: a query parameter never puts its own words on a page
    "requested": "Run requested: a worker starts it as soon as one is free.",
    "cancel": "Cancel requested: a queued run ends at once, a processing one at its next chunk.",
    "retried": "Retry requested: this is the new run; a worker starts it as soon as one is free.",
}
RunId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/runs")
def runs_page(
    request: Request,
    who: SignedIn,
    srv: ServerDep,
    export: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    page = page_runs(
        srv.ws,
        who.actor,
        export_name=export or None,
        status=status or None,
        limit=PAGE,
        offset=offset,
    )
    return render(
        request,
        "runs.html",
        area="runs",
        page=page,
        export=export,
        status=status,
        statuses=RUN_STATUSES,
        export_names=[v.config.name for v in list_exports(srv.ws, who.actor)],
        previous=max(offset - PAGE, 0) if offset > 0 else None,
        next=offset + PAGE if offset + PAGE < page.total else None,
    )


def _run_context(who: SignedIn, srv: ServerDep, run_id: int) -> dict[str, Any]:
    detail = show_run(srv.ws, who.actor, run_id)
    run = detail.run
    live = run.status in LIVE
    # Cancel and Retry are offered to whoever may run the export (the service decides on
    # the POST).
    acts = live or run.status in RETRIED
    may_run = acts and "run" in show_export(srv.ws, who.actor, run.export_name).permissions
    return {
        "run": run,
        "files": detail.files,
        "live": live,
        "may_cancel": live and may_run,
        "may_retry": run.status in RETRIED and may_run,
    }


@router.get("/runs/{run_id}")
def run_page(
    request: Request, who: SignedIn, srv: ServerDep, run_id: RunId, notice: str = ""
) -> Response:
    return render(
        request,
        "run.html",
        area="runs",
        notice=NOTICES.get(notice),
        error=None,
        **_run_context(who, srv, run_id),
    )


@router.get("/runs/{run_id}/live")
def run_live(request: Request, who: SignedIn, srv: ServerDep, run_id: RunId) -> Response:
    """The run page's changing part, which htmx fetches every 2 s while the run is queued
    or processing; the fragment of an ended run polls no more."""
    return render(request, "_run_live.html", **_run_context(who, srv, run_id))


@router.get("/runs/{run_id}/files/{name}")
def run_file(
    who: SignedIn, srv: ServerDep, run_id: RunId, name: Annotated[str, Path(max_length=100)]
) -> Response:
    """A file the run left (rejected rows, change record), downloaded as a CSV."""
    return run_file_download(srv.ws, who.actor, run_id, name)


@router.post("/runs/{run_id}/cancel")
def cancel_post(request: Request, who: Posted, srv: ServerDep, run_id: RunId) -> Response:
    try:
        cancel_run(srv.ws, who.actor, run_id)
    except SegportError as exc:
        if exc.kind == "not_found":
            raise
        return render(
            request,
            "run.html",
            http_status=status_of(exc),
            area="runs",
            error=exc,
            **_run_context(who, srv, run_id),
        )
    return see_other(f"/runs/{run_id}?notice=cancel")


@router.post("/runs/{run_id}/retry")
def retry_post(request: Request, who: Posted, srv: ServerDep, run_id: RunId) -> Response:
    """A new run of the export, whose page it goes to; a refusal (a run of the export
    already going on, who may not run it) is shown on this run's page."""
    try:
        new = retry_run(srv.ws, who.actor, run_id)
    except SegportError as exc:
        if exc.kind == "not_found":
            raise
        return render(
            request,
            "run.html",
            http_status=status_of(exc),
            area="runs",
            error=exc,
            **_run_context(who, srv, run_id),
        )
    return see_other(f"/runs/{new.id}?notice=retried")

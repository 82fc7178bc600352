"""Data > Exports: the list (search and sort), one export, and its Run button."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

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
from segport.service import (
    Action,
    ExportView,
    list_all_runs,
    list_exports,
    request_run,
    show_export,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LAST_RUNS = 5  # shown on an export's page; the Runs page has the rest
SORTS = {"name": "name (A–Z)", "-name": "name (Z–A)", "-last_run": "last run (newest)",
         "last_run": "last run (oldest)"}  # fmt: skip
_NEVER = datetime.min.replace(tzinfo=UTC)
NOTICES = {  # fixed texts only: a query parameter never puts its own words on a page
    "saved": "Export saved. It is not run: Run it, or let its schedule run it.",
    "edited": "Saved. The changes apply from the next run.",
    "duplicated": "Copy saved (not run).",
    "detached": "Detached: the export keeps its settings and does not run until given a "
    "connection (Edit).",
    "removed": "Export removed.",
}


def _sorted(views: list[ExportView], sort: str) -> list[ExportView]:
    if sort.lstrip("-") == "last_run":
        # never run sorts as the oldest
        return sorted(
            views, key=lambda v: (v.last_run_at or _NEVER, v.config.name), reverse=sort[0] == "-"
        )
    return sorted(views, key=lambda v: v.config.name.casefold(), reverse=sort == "-name")


@router.get("/exports")
def exports_page(
    request: Request,
    who: SignedIn,
    srv: ServerDep,
    q: Annotated[str, Query(max_length=200)] = "",
    sort: str = "name",
    notice: str = "",
) -> Response:
    """Every export with the platform's columns; ``q`` finds names containing it (any
    case), ``sort`` orders by name or last run (``-`` first: descending)."""
    sort = sort if sort in SORTS else "name"
    views = list_exports(srv.ws, who.actor)
    total = len(views)
    if q.strip():
        wanted = q.strip().casefold()
        views = [v for v in views if wanted in v.config.name.casefold()]
    return render(
        request,
        "exports.html",
        area="exports",
        exports=_sorted(views, sort),
        total=total,
        q=q,
        sort=sort,
        sorts=SORTS,
        notice=NOTICES.get(notice),
        may_write=who.actor.may(Action.EXPORTS_WRITE),
        may_run=who.actor.may(Action.EXPORTS_RUN),
    )


def export_page_with(
    request: Request,
    who: SignedIn,
    srv: ServerDep,
    name: str,
    *,
    error: SegportError | None = None,
    notice: str | None = None,
) -> Response:
    view = show_export(srv.ws, who.actor, name)
    runs = list_all_runs(srv.ws, who.actor, export_name=name, limit=LAST_RUNS)
    return render(
        request,
        "export.html",
        http_status=status_of(error) if error else 200,
        area="exports",
        export=view,
        config=view.config,
        runs=runs,
        error=error,
        notice=notice,
    )


# :path: an export name may hold a "/" (sent as %2F, which the server decodes first)
@router.get("/exports/{name:path}")
def export_page(
    request: Request, who: SignedIn, srv: ServerDep, name: str, notice: str = ""
) -> Response:
    return export_page_with(request, who, srv, name, notice=NOTICES.get(notice))


@router.post("/exports/{name:path}/run")
def run_export_post(request: Request, who: Posted, srv: ServerDep, name: str) -> Response:
    """Queue a run (``request_run``) and show it; a refusal (role, a run in progress) is
    shown on the export's page with the service's message."""
    try:
        run = request_run(srv.ws, who.actor, name)
    except SegportError as exc:
        if exc.kind == "not_found":
            raise
        return export_page_with(request, who, srv, name, error=exc)
    return see_other(f"/runs/{run.id}?notice=requested")

"""An export's actions besides Run and Edit: Duplicate (asks for the new name), Detach,
Remove (with a confirmation step), Dry run (what a run would add, update, remove and
reject, as a page), and Run all on the exports list. Each calls one service, which checks
the role; the buttons are only shown to those the export's permissions allow."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from segport.errors import Invalid, SegportError
from segport.server.pages.base import (
    Form,
    PageRoute,
    Posted,
    ServerDep,
    SignedIn,
    render,
    see_other,
)
from segport.server.pages.export_forms import link
from segport.server.pages.exports import export_page_with
from segport.server.problems import status_of
from segport.service import (
    ExportView,
    detach_export,
    duplicate_export,
    list_brevo_lists,
    remove_export,
    request_all_runs,
    run_export,
    show_export,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _duplicate_page(
    request: Request,
    who: SignedIn,
    srv: ServerDep,
    name: str,
    *,
    values: dict[str, str] | None = None,
    error: SegportError | None = None,
) -> Response:
    view = show_export(srv.ws, who.actor, name)
    lists: list[Any] | None = None
    brevo_error = None
    if view.config.connection and "edit" in view.permissions:
        try:
            lists = list_brevo_lists(srv.ws, who.actor, view.config.connection)
        except SegportError as exc:
            brevo_error = exc.message
    typed = values or {}
    return render(
        request,
        "export_duplicate.html",
        http_status=status_of(error) if error else 200,
        area="exports",
        export=view,
        config=view.config,
        lists=lists,
        brevo_error=brevo_error,
        error=error,
        new_name=typed.get("new_name", f"{view.config.name} (copy)"),
        list_id=typed.get("list_id", str(view.config.list_id)),
        share_list=typed.get("share_list") == "yes",
    )


@router.get("/exports/{name:path}/duplicate")
def duplicate_page(request: Request, who: SignedIn, srv: ServerDep, name: str) -> Response:
    return _duplicate_page(request, who, srv, name)


@router.post("/exports/{name:path}/duplicate")
def duplicate_post(
    request: Request, who: Posted, srv: ServerDep, form: Form, name: str
) -> Response:
    """The copy goes onto the list picked (the same one only when shared knowingly)."""
    try:
        list_text = form.get("list_id", "").strip()
        try:
            list_id = int(list_text) if list_text else None
        except ValueError:
            raise Invalid(
                "the Brevo list ID: give a whole number", code="list_id_invalid", field="list_id"
            ) from None
        copy = duplicate_export(
            srv.ws,
            who.actor,
            name,
            form.get("new_name", ""),
            list_id=list_id,
            share_list=form.get("share_list") == "yes",
        )
    except SegportError as exc:
        if exc.kind in ("forbidden", "not_found"):
            raise
        return _duplicate_page(request, who, srv, name, values=form, error=exc)
    return see_other(link(copy.config.name) + "?notice=duplicated")


@router.post("/exports/{name:path}/detach")
def detach_post(request: Request, who: Posted, srv: ServerDep, name: str) -> Response:
    detach_export(srv.ws, who.actor, name)
    return see_other(link(name) + "?notice=detached")


def _remove_page(request: Request, view: ExportView, error: SegportError | None = None) -> Response:
    return render(
        request,
        "export_remove.html",
        http_status=status_of(error) if error else 200,
        area="exports",
        export=view,
        config=view.config,
        error=error,
    )


@router.get("/exports/{name:path}/remove")
def remove_page(request: Request, who: SignedIn, srv: ServerDep, name: str) -> Response:
    """The confirmation step: what removing does, and the button that does it."""
    return _remove_page(request, show_export(srv.ws, who.actor, name))


@router.post("/exports/{name:path}/remove")
def remove_post(request: Request, who: Posted, srv: ServerDep, form: Form, name: str) -> Response:
    if form.get("confirm") != "yes":
        return _remove_page(request, show_export(srv.ws, who.actor, name))
    remove_export(srv.ws, who.actor, name)
    return see_other("/exports?notice=removed")


@router.post("/exports/{name:path}/dry-run")
def dry_run_post(request: Request, who: Posted, srv: ServerDep, name: str) -> Response:
    """A dry run sends nothing and records nothing: its answer is shown, not kept."""
    try:
        summary = run_export(srv.ws, who.actor, name, dry_run=True)
    except SegportError as exc:
        if exc.kind in ("forbidden", "not_found"):
            raise
        return export_page_with(request, who, srv, name, error=exc)  # a run in progress
    not_sent, without = summary.effects()
    return render(
        request,
        "export_dry_run.html",
        area="exports",
        name=name,
        s=summary,
        not_sent=not_sent,
        without=without,
    )


@router.post("/exports/run-all")
def run_all_post(request: Request, who: Posted, srv: ServerDep) -> Response:
    """Run all: a run of every export whose schedule is on, for the workers."""
    requested = request_all_runs(srv.ws, who.actor)
    return render(request, "export_run_all.html", area="exports", requested=requested)

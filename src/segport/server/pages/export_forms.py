"""Data > Exports > Add export and Edit: one form, saved by one service call each
(``add_export``, ``edit_export``); saving never runs the export.

The form works without JavaScript: the connection is picked first (``?connection=``,
or "Use this connection" on the form, which shows that account's lists again), and
"Add attribute" is a submit button that shows the form again with one more row. Both
keep what was typed. htmx only refreshes the warning shown when the picked segments hold
more members than the export's profile limit (a run over the limit is skipped).

A refusal shows the service's message next to the field it names (``SegportError.field``)
with the form as it was posted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Response

from segport.errors import SegportError
from segport.server.pages.base import (
    Form,
    PageRoute,
    Posted,
    ServerDep,
    SignedIn,
    item_path,
    render,
    see_other,
)
from segport.server.pages.export_form_state import DEFAULT_LIMIT, MAX_ATTRIBUTE_ROWS, ExportForm
from segport.server.problems import status_of
from segport.service import (
    Actor,
    ExportView,
    SegmentInfo,
    Workspace,
    add_export,
    describe_source,
    edit_export,
    list_brevo_attributes,
    list_brevo_lists,
    list_segments,
    show_export,
    usable_connections,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Attributes set from their own fields, never offered as "Add attribute" rows.
DEDICATED = {"EMAIL", "SMS"}
MODES = {
    "add": "Add and update contacts",
    "mirror": "Mirror: also remove those who left the segments",
}
EMPTY_VALUES = {
    "clear": "Clear: a value emptied in the profiles is emptied in Brevo",
    "keep": "Keep: Brevo keeps its value",
}
SCHEDULES = {
    "system": "With every system refresh",
    "manual": "Only when run by hand",
    "cron": "On its own schedule (cron)",
}
# Where the form shows a refusal naming each field; another field (or none) goes on top.
FIELD_PLACES = {
    "name": "name",
    "connection": "connection",
    "list_id": "list",
    "list_name": "list",
    "new_list": "list",
    "folder_id": "list",
    "segment": "segments",
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "phone": "phone",
    "phone_region": "phone",
    "phone_country_column": "phone",
    "attribute": "attributes",
    "mode": "mode",
    "empty_values": "empty_values",
    "schedule": "schedule",
    "cron": "schedule",
    "timezone": "schedule",
    "profile_limit": "profile_limit",
}


@dataclass
class Choices:
    """What the form offers, read from the services (a Brevo account that cannot be
    read leaves a typed list ID and attribute names instead of pick lists)."""

    connections: list[str]
    lists: list[Any] | None = None
    attributes: list[str] | None = None
    brevo_error: str | None = None
    columns: list[str] = field(default_factory=list)
    segments: list[SegmentInfo] = field(default_factory=list)


def _choices(ws: Workspace, actor: Actor, connection: str, connections: list[str]) -> Choices:
    found = Choices(connections)
    if connection:
        try:
            found.lists = list_brevo_lists(ws, actor, connection)
            found.attributes = [
                a.name
                for a in list_brevo_attributes(ws, actor, connection)
                if a.category == "normal" and a.name.upper() not in DEDICATED
            ]
        except SegportError as exc:
            found.lists = found.attributes = None
            found.brevo_error = exc.message
    try:
        found.columns = sorted(describe_source(ws, actor).columns)
    except SegportError:
        found.columns = []  # no profiles yet: the service says so on Save
    found.segments = _segments(ws, actor)
    return found


def _segments(ws: Workspace, actor: Actor) -> list[SegmentInfo]:
    """The segments with their last member counts; counted now when one never was."""
    segments = list_segments(ws, actor)
    if any(s.member_count is None for s in segments):
        segments = list_segments(ws, actor, refresh=True)
    return segments


def selected_members(segments: list[SegmentInfo], picked: list[str]) -> tuple[int, bool]:
    """Members of the picked segments as last counted (a profile in two counts twice:
    an upper bound), and whether every picked segment has been counted."""
    counts = {s.name: s.member_count for s in segments}
    total = sum(counts.get(name) or 0 for name in picked)
    return total, all(counts.get(name) is not None for name in picked)


def _limit_context(segments: list[SegmentInfo], form: ExportForm) -> dict[str, Any]:
    total, counted = selected_members(segments, form.segments)
    try:
        limit = int(form.profile_limit.replace(",", "").replace("_", ""))
    except ValueError:
        limit = DEFAULT_LIMIT
    return {"selected": total, "counted": counted, "limit": limit, "over": total > limit}


def link(name: str) -> str:
    return item_path("exports", name)


def _form_page(
    request: Request,
    srv: ServerDep,
    who: SignedIn,
    form: ExportForm,
    *,
    editing: ExportView | None = None,
    error: SegportError | None = None,
    http_status: int | None = None,
) -> Response:
    connections = [c.name for c in usable_connections(srv.ws, who.actor)]
    choices = _choices(srv.ws, who.actor, form.connection, connections)
    place = FIELD_PLACES.get(error.field or "") if error else None
    status = http_status if http_status is not None else (status_of(error) if error else 200)
    return render(
        request,
        "export_form.html",
        http_status=status,
        area="exports",
        form=form,
        editing=editing,
        action=link(editing.config.name) + "/edit" if editing else "/exports/new",
        choices=choices,
        error=error,
        place=place,
        modes=MODES,
        empty_value_rules=EMPTY_VALUES,
        schedules=SCHEDULES,
        max_rows=MAX_ATTRIBUTE_ROWS,
        **_limit_context(choices.segments, form),
    )


@router.get("/exports/new")
def new_export_page(
    request: Request, who: SignedIn, srv: ServerDep, connection: str = ""
) -> Response:
    """Step one picks the connection (skipped when only one may be used); step two is
    the form on that connection's Brevo account."""
    usable = [c.name for c in usable_connections(srv.ws, who.actor)]  # viewers: refused
    if connection not in usable:
        connection = usable[0] if len(usable) == 1 else ""
    if not connection:
        return render(request, "export_connection.html", area="exports", connections=usable)
    return _form_page(request, srv, who, ExportForm(connection=connection, attributes=[("", "")]))


def _acted(form: dict[str, str], rows: ExportForm) -> str | None:
    """The form's other buttons: show it again (one more attribute row, or another
    connection's lists) rather than save."""
    action = form.get("action", "save")
    if action == "add_attribute":
        if len(rows.attributes) < MAX_ATTRIBUTE_ROWS:
            rows.attributes.append(("", ""))
        return action
    if action == "connection":
        rows.list_id = ""
        return action
    return None


@router.post("/exports/new")
def new_export_post(request: Request, who: Posted, srv: ServerDep, form: Form) -> Response:
    typed = ExportForm.posted(form)
    if _acted(form, typed):
        return _form_page(request, srv, who, typed)
    try:
        view = add_export(
            srv.ws,
            who.actor,
            typed.config(),
            new_list=typed.new_list_choice(),
        )
    except SegportError as exc:
        if exc.kind == "forbidden":
            raise
        return _form_page(request, srv, who, typed, error=exc)
    return see_other(link(view.config.name) + "?notice=saved")


@router.get("/exports/form/limit")
def limit_warning(request: Request, who: SignedIn, srv: ServerDep) -> Response:
    """The warning about the picked segments' members and the profile limit, for htmx
    to swap in when a segment is ticked (the query holds the segment fields)."""
    typed = ExportForm.posted(dict(request.query_params))
    context = _limit_context(_segments(srv.ws, who.actor), typed)
    return render(request, "_export_limit.html", **context)


@router.get("/exports/{name:path}/edit")
def edit_export_page(
    request: Request, who: SignedIn, srv: ServerDep, name: str, connection: str = ""
) -> Response:
    view = show_export(srv.ws, who.actor, name)
    form = ExportForm.of(view)
    if connection:
        form.connection, form.list_id = connection, ""
    if not form.attributes:
        form.attributes = [("", "")]
    return _form_page(request, srv, who, form, editing=view)


@router.post("/exports/{name:path}/edit")
def edit_export_post(
    request: Request, who: Posted, srv: ServerDep, form: Form, name: str
) -> Response:
    view = show_export(srv.ws, who.actor, name)
    typed = ExportForm.posted(form)
    if _acted(form, typed):
        return _form_page(request, srv, who, typed, editing=view)
    try:
        edited = edit_export(srv.ws, who.actor, name, changes=typed.edit(view))
    except SegportError as exc:
        if exc.kind in ("forbidden", "not_found"):
            raise
        return _form_page(request, srv, who, typed, editing=view, error=exc)
    return see_other(link(edited.config.name) + "?notice=edited")

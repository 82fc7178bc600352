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

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

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
from segport.server.problems import status_of
from segport.service import (
    CLEAR,
    Actor,
    Clear,
    ExportConfig,
    ExportEdit,
    ExportMapping,
    ExportView,
    NewList,
    SegmentInfo,
    Workspace,
    add_export,
    describe_source,
    edit_export,
    list_brevo_attributes,
    list_brevo_lists,
    list_segments,
    parse_attributes,
    show_export,
    usable_connections,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DEFAULT_LIMIT = 1_000_000  # the service's default profile limit (ExportConfig)
MAX_ATTRIBUTE_ROWS = 10  # a posted form holds at most 50 fields (pages.base)
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
_ROW = re.compile(r"^attr-(\d{1,2})$")
_SEGMENT = re.compile(r"^segment-(\d{1,4})$")


@dataclass
class ExportForm:
    """What the form holds, as typed (strings): posted, or read from an export."""

    connection: str = ""
    name: str = ""
    list_choice: str = "existing"  # existing | new (Add only)
    list_id: str = ""
    new_list: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    attributes: list[tuple[str, str]] = field(default_factory=list)  # (attribute, column)
    segments: list[str] = field(default_factory=list)
    mode: str = "add"
    empty_values: str = "clear"
    schedule: str = "system"
    cron: str = ""
    timezone: str = ""
    profile_limit: str = str(DEFAULT_LIMIT)

    @classmethod
    def posted(cls, form: dict[str, str]) -> ExportForm:
        rows: dict[int, tuple[str, str]] = {}
        for key, value in form.items():
            found = _ROW.match(key)
            if found:
                i = int(found.group(1))
                rows[i] = (value.strip(), form.get(f"col-{i}", "").strip())
        picked = {int(m.group(1)): v.strip() for k, v in form.items() if (m := _SEGMENT.match(k))}
        segments = [picked[i] for i in sorted(picked) if picked[i]]
        return cls(
            connection=form.get("connection", "").strip(),
            name=form.get("name", ""),
            list_choice="new" if form.get("list_choice") == "new" else "existing",
            list_id=form.get("list_id", "").strip(),
            new_list=form.get("new_list", ""),
            email=form.get("email", "").strip(),
            first_name=form.get("first_name", "").strip(),
            last_name=form.get("last_name", "").strip(),
            phone=form.get("phone", "").strip(),
            attributes=[rows[i] for i in sorted(rows)][:MAX_ATTRIBUTE_ROWS],
            segments=list(dict.fromkeys(segments)),
            mode=form.get("mode", "add"),
            empty_values=form.get("empty_values", "clear"),
            schedule=form.get("schedule", "system"),
            cron=form.get("cron", ""),
            timezone=form.get("timezone", ""),
            profile_limit=form.get("profile_limit", "").strip(),
        )

    @classmethod
    def of(cls, view: ExportView) -> ExportForm:
        c = view.config
        m = c.mapping
        return cls(
            connection=c.connection or "",
            name=c.name,
            list_id=str(c.list_id),
            email=m.email,
            first_name=m.first_name or "",
            last_name=m.last_name or "",
            phone=m.phone or "",
            attributes=list(m.attributes.items()),
            segments=list(c.segments),
            mode=c.mode,
            empty_values=c.empty_values,
            schedule=c.schedule,
            cron=c.cron or "",
            timezone=c.timezone or "",
            profile_limit=str(c.profile_limit),
        )

    def attribute_mapping(self) -> dict[str, str]:
        """The filled rows as the service reads ``ATTR=COLUMN`` (a half-filled row is
        refused by it, naming the row)."""
        pairs = [f"{a}={c}" for a, c in self.attributes if a or c]
        return parse_attributes(pairs)

    def number(self, value: str, name: str, what: str) -> int:
        try:
            return int(value.replace(",", "").replace("_", "").strip())
        except ValueError:
            raise Invalid(
                f"{what}: give a whole number", code=f"{name}_invalid", field=name
            ) from None

    def limit(self) -> int:
        return self.number(self.profile_limit, "profile_limit", "the profile limit")

    def own_schedule(self) -> tuple[str | None, str | None]:
        """The cron expression and zone, for an export on its own schedule only."""
        if self.schedule.strip().lower() != "cron":
            return None, None
        return self.cron.strip() or None, self.timezone.strip() or None

    def config(self) -> ExportConfig:
        """The export the form describes (Add); checked by the service."""
        list_id = 0
        if self.list_choice == "existing":
            if not self.list_id:
                raise Invalid(
                    "pick the Brevo list the export fills, or create a new one",
                    code="list_missing",
                    field="list_id",
                )
            list_id = self.number(self.list_id, "list_id", "the Brevo list ID")
        cron, timezone = self.own_schedule()
        return ExportConfig(
            name=self.name,
            connection=self.connection or None,
            list_id=list_id,
            segments=tuple(self.segments),
            mapping=ExportMapping(
                email=self.email,
                first_name=self.first_name or None,
                last_name=self.last_name or None,
                phone=self.phone or None,
                attributes=self.attribute_mapping(),
            ),
            mode=self.mode,
            profile_limit=self.limit(),
            schedule=self.schedule,
            cron=cron,
            timezone=timezone,
            empty_values=self.empty_values,
        )

    def new_list_choice(self) -> NewList | None:
        if self.list_choice != "new":
            return None
        if not self.new_list.strip():
            raise Invalid(
                "give the name of the Brevo list to create, or pick an existing list",
                code="new_list_missing",
                field="new_list",
            )
        return NewList(self.new_list.strip())

    def edit(self, current: ExportView) -> ExportEdit:
        """Every setting of the form, as an edit of ``current`` (its attribute rows
        replace the current ones)."""
        if not self.list_id:
            raise Invalid(
                "pick the Brevo list the export fills", code="list_missing", field="list_id"
            )
        cron, timezone = self.own_schedule()
        return ExportEdit(
            name=self.name,
            connection=self.connection or None,
            list_id=self.number(self.list_id, "list_id", "the Brevo list ID"),
            segments=tuple(self.segments),
            email=self.email,
            first_name=_clearable(self.first_name),
            last_name=_clearable(self.last_name),
            phone=_clearable(self.phone),
            remove_attributes=tuple(current.config.mapping.attributes),
            add_attributes=self.attribute_mapping(),
            mode=self.mode,
            profile_limit=self.limit(),
            schedule=self.schedule,
            cron=cron,
            timezone=timezone,
            empty_values=self.empty_values,
        )


def _clearable(value: str) -> str | Clear:
    return value or CLEAR


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
    return "/exports/" + quote(name, safe="")


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

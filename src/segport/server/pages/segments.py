"""Segments: the list with members and state, one segment (its definition, members and a
preview of a few profiles), the rule builder for a new segment or an edit, activate and
deactivate, count now, and delete with a confirmation step.

The builder is one form that works without JavaScript: "Add condition", "Add group" and
"Remove" are submit buttons that post the form and get it back with the change; "Save"
saves. With htmx, the form posts itself to ``/segments/draft`` as it is typed in and the
answer (the member count and a preview, or what is wrong) replaces the live count.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response

from segport.errors import Invalid, SegportError
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
from segport.server.problems import status_of
from segport.service import (
    FormCondition,
    FormGroup,
    RuleForm,
    count_segment,
    delete_segment,
    list_segments,
    preview_segment,
    save_segment,
    segment_builder,
    set_state,
    show_segment,
    try_segment,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
NOTICES = {  # fixed texts only: a query parameter never puts its own words on a page
    "created": "Segment saved. Its members are counted at the next refresh, or now with Count.",
    "saved": "Segment saved.",
    "active": "Segment activated.",
    "inactive": "Segment deactivated.",
    "counted": "Members counted.",
    "deleted": "Segment deleted.",
    "refreshed": "Every segment's members counted.",
}
MODES = {
    "conditions": "Conditions",
    "expression": "Expression",
    "combination": "Combination of segments",
}
MAX_CONDITIONS = 10  # a page's form holds at most 50 fields (pages.base)
PREVIEW = 5
_KEY = re.compile(r"g(\d+)\.(?:match|c(\d+)\.(attribute|operator|value))")


def _link(name: str) -> str:
    return item_path("segments", name)


@router.get("/segments")
def segments_page(request: Request, who: SignedIn, srv: ServerDep, notice: str = "") -> Response:
    return render(
        request,
        "segments.html",
        area="segments",
        notice=NOTICES.get(notice),
        segments=list_segments(srv.ws, who.actor),
    )


@router.post("/segments/refresh")
def refresh_post(request: Request, who: Posted, srv: ServerDep) -> Response:
    """Count every segment's members now."""
    list_segments(srv.ws, who.actor, refresh=True)
    return see_other("/segments?notice=refreshed")


# The builder's form


def rule_form(form: dict[str, str]) -> RuleForm:
    """The conditions of a posted builder form (``g<i>.match``, ``g<i>.c<j>.<part>``), in
    the order of their numbers; a group without conditions gets an empty one."""
    groups: dict[int, dict[str, Any]] = {}
    for key, value in form.items():
        found = _KEY.fullmatch(key)
        if found is None:
            continue
        g = int(found.group(1))
        group = groups.setdefault(g, {"match": "all", "conditions": {}})
        if found.group(2) is None:
            group["match"] = value
        else:
            group["conditions"].setdefault(int(found.group(2)), {})[found.group(3)] = value
    if not groups:
        return RuleForm(match=form.get("match", "all"))
    built = []
    for g in sorted(groups):
        conds = groups[g]["conditions"]
        made = tuple(
            FormCondition(
                attribute=conds[c].get("attribute", ""),
                operator=conds[c].get("operator", "equals"),
                value=conds[c].get("value", ""),
            )
            for c in sorted(conds)
        )
        built.append(FormGroup(groups[g]["match"], made or (FormCondition(),)))
    return RuleForm(match=form.get("match", "all"), groups=tuple(built))


def _changed(rule: RuleForm, action: str) -> RuleForm:
    """The form after an Add condition / Add group / Remove button."""
    groups = list(rule.groups)
    count = sum(len(g.conditions) for g in groups)
    verb, _, where = action.partition(":")
    if verb in ("add_condition", "add_group") and count >= MAX_CONDITIONS:
        raise Invalid(
            f"a rule built here has at most {MAX_CONDITIONS} conditions; for more, write it "
            "as an expression",
            code="too_many_conditions",
            field="conditions",
        )
    if verb == "add_group":
        groups.append(FormGroup())
    elif verb == "add_condition" and where.isdigit() and int(where) < len(groups):
        g = groups[int(where)]
        groups[int(where)] = FormGroup(g.match, (*g.conditions, FormCondition()))
    elif verb == "remove":
        g_text, _, c_text = where.partition(".")
        if g_text.isdigit() and c_text.isdigit() and int(g_text) < len(groups):
            g = groups[int(g_text)]
            left = tuple(c for i, c in enumerate(g.conditions) if i != int(c_text))
            if left:
                groups[int(g_text)] = FormGroup(g.match, left)
            else:
                del groups[int(g_text)]
    return RuleForm(rule.match, tuple(groups) or (FormGroup(),))


def _definition(form: dict[str, str]) -> dict[str, Any]:
    """The definition the form chose: its conditions, its expression or its combination."""
    mode = form.get("mode", "conditions")
    if mode == "expression":
        return {"where": form.get("where", "")}
    if mode == "combination":
        return {"combine": form.get("combine", "")}
    return {"form": rule_form(form)}


def _builder_page(
    request: Request,
    who: SignedIn,
    srv: ServerDep,
    *,
    original: str | None,
    form: dict[str, str] | None = None,
    rule: RuleForm | None = None,
    error: SegportError | None = None,
    draft: Any = None,
) -> Response:
    builder = segment_builder(srv.ws, who.actor, original)
    seg = builder.segment
    if form is None:  # the form as first shown: empty, or the segment as it is
        mode = "conditions"
        values = {"name": "", "description": "", "where": "", "combine": ""}
        if seg is not None:
            values = {
                "name": seg.name,
                "description": seg.description or "",
                "where": seg.expression if seg.kind == "rule" else "",
                "combine": seg.expression if seg.kind == "combination" else "",
            }
            if seg.kind == "combination":
                mode = "combination"
            elif builder.form is None:
                mode = "expression"  # the builder cannot hold this rule: its text can
        rule = builder.form or RuleForm()
    else:
        mode = form.get("mode", "conditions")
        mode = mode if mode in MODES else "conditions"
        values = {k: form.get(k, "") for k in ("name", "description", "where", "combine")}
    assert rule is not None
    fields = {"name", "description", "where", "combine", "conditions"}
    for g, group in enumerate(rule.groups):
        for c, _cond in enumerate(group.conditions):
            fields |= {f"g{g}.c{c}.attribute", f"g{g}.c{c}.operator", f"g{g}.c{c}.value"}
    return render(
        request,
        "segment_form.html",
        http_status=status_of(error) if error else 200,
        area="segments",
        builder=builder,
        segment=seg,
        action=_link(original) + "/edit" if original else "/segments/new",
        values=values,
        mode=mode,
        modes=MODES,
        rule=rule,
        types={a.name: a.type for a in builder.attributes},
        error=error,
        # a refusal shows next to the input it names; one naming no input, above the form
        error_at=error.field if error and error.field in fields else None,
        draft=draft,
        draft_error=None,  # a refusal of the count is shown at its field
        max_conditions=MAX_CONDITIONS,
    )


def _builder_post(
    request: Request, who: Posted, srv: ServerDep, form: dict[str, str], original: str | None
) -> Response:
    action = form.get("action", "save")
    definition = _definition(form)
    rule = definition.get("form") or rule_form(form)
    if action in ("add_group", "count") or action.startswith(("add_condition:", "remove:")):
        draft = error = None
        try:
            if action == "count":  # the live count, for a browser without JavaScript
                draft = try_segment(
                    srv.ws,
                    who.actor,
                    name=form.get("name") or None,
                    limit=PREVIEW,
                    **definition,
                )
            else:
                rule = _changed(rule, action)
        except SegportError as exc:
            if exc.kind == "forbidden":
                raise
            error = exc
        page = _builder_page(
            request, who, srv, original=original, form=form, rule=rule, error=error, draft=draft
        )
        return page
    try:
        info = save_segment(
            srv.ws,
            who.actor,
            form.get("name", ""),
            original=original,
            description=form.get("description", ""),
            **definition,
        )
    except SegportError as exc:
        if exc.kind == "forbidden" or (exc.kind == "not_found" and exc.field is None and original):
            raise  # not allowed, or the segment being edited is gone: the error page
        return _builder_page(request, who, srv, original=original, form=form, rule=rule, error=exc)
    notice = "saved" if original else "created"
    return see_other(_link(info.name) + f"?notice={notice}")


@router.get("/segments/new")
def new_segment_page(request: Request, who: SignedIn, srv: ServerDep) -> Response:
    """The builder, empty (viewers are refused: the service says who writes segments)."""
    return _builder_page(request, who, srv, original=None)


@router.post("/segments/new")
def new_segment_post(request: Request, who: Posted, srv: ServerDep, form: Form) -> Response:
    return _builder_post(request, who, srv, form, None)


@router.post("/segments/draft")
def draft_fragment(request: Request, who: Posted, srv: ServerDep, form: Form) -> Response:
    """The live count: the member count and a preview of the form's definition, or what is
    wrong with it; always 200 (htmx swaps only a success in)."""
    draft = error = None
    try:
        draft = try_segment(
            srv.ws,
            who.actor,
            name=form.get("name", "").strip() or None,
            limit=PREVIEW,
            **_definition(form),
        )
    except SegportError as exc:
        error = exc
    return render(request, "_segment_draft.html", draft=draft, draft_error=error)


# One segment


def _segment_page(
    request: Request,
    who: SignedIn,
    srv: ServerDep,
    name: str,
    *,
    notice: str | None = None,
    error: SegportError | None = None,
    confirm: bool = False,
) -> Response:
    info = show_segment(srv.ws, who.actor, name)
    preview = preview_error = None
    try:
        preview = preview_segment(srv.ws, who.actor, name, limit=PREVIEW)
    except SegportError as exc:  # no profiles loaded, a rule the profiles no longer fit
        if exc.kind == "forbidden":
            raise
        preview_error = exc
    return render(
        request,
        "segment.html",
        http_status=status_of(error) if error else 200,
        area="segments",
        notice=notice,
        error=error,
        segment=info,
        link=_link(info.name),
        preview=preview,
        preview_error=preview_error,
        confirm=confirm,
    )


def _refused(
    request: Request, who: SignedIn, srv: ServerDep, name: str, exc: SegportError
) -> Response:
    """A refusal of an action on a segment, shown on its page (a missing segment or a
    forbidden action gets the error page)."""
    if exc.kind in ("not_found", "forbidden"):
        raise exc
    return _segment_page(request, who, srv, name, error=exc)


@router.get("/segments/{name}")
def segment_page(
    request: Request, who: SignedIn, srv: ServerDep, name: str, notice: str = ""
) -> Response:
    return _segment_page(request, who, srv, name, notice=NOTICES.get(notice))


@router.get("/segments/{name}/edit")
def edit_segment_page(request: Request, who: SignedIn, srv: ServerDep, name: str) -> Response:
    return _builder_page(request, who, srv, original=name)


@router.post("/segments/{name}/edit")
def edit_segment_post(
    request: Request, who: Posted, srv: ServerDep, form: Form, name: str
) -> Response:
    return _builder_post(request, who, srv, form, name)


@router.post("/segments/{name}/state")
def state_post(request: Request, who: Posted, srv: ServerDep, form: Form, name: str) -> Response:
    active = form.get("state") == "active"
    try:
        set_state(srv.ws, who.actor, name, active)
    except SegportError as exc:
        return _refused(request, who, srv, name, exc)
    return see_other(_link(name) + ("?notice=active" if active else "?notice=inactive"))


@router.post("/segments/{name}/count")
def count_post(request: Request, who: Posted, srv: ServerDep, name: str) -> Response:
    try:
        count_segment(srv.ws, who.actor, name)
    except SegportError as exc:
        return _refused(request, who, srv, name, exc)
    return see_other(_link(name) + "?notice=counted")


@router.post("/segments/{name}/delete")
def delete_post(request: Request, who: Posted, srv: ServerDep, form: Form, name: str) -> Response:
    """Two steps: the first post asks to confirm, the second (``confirm=yes``) deletes."""
    try:
        if form.get("confirm") != "yes":
            show_segment(srv.ws, who.actor, name)
            return _segment_page(request, who, srv, name, confirm=True)
        delete_segment(srv.ws, who.actor, name)
    except SegportError as exc:
        return _refused(request, who, srv, name, exc)
    return see_other("/segments?notice=deleted")

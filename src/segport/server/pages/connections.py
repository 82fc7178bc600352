"""Settings > Connections: the list, Add connection (Brevo), one connection with its
edit, check now (the saved key with Brevo), rotate key, take over and remove (with a
confirmation step).

The API key is only ever read from a posted form and handed to the service: no page
renders it, not even the form it was typed in when the service refused it (the form
comes back empty and the admin types it again).
"""

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
    item_path,
    render,
    see_other,
)
from segport.server.problems import status_of
from segport.service import (
    PRIVACY_STATEMENT,
    add_connection,
    check_connection,
    edit_connection,
    list_connections,
    remove_connection,
    show_connection,
    take_over,
    visible_connections,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
NOTICES = {  # fixed texts only: a query parameter never puts its own words on a page
    "added": "Connected: Brevo accepted the API key. You are the connection's export user.",
    "edited": "Saved.",
    "key": "New API key saved: Brevo accepted it.",
    "checked": "Checked just now: Brevo accepted the saved API key; the account is below.",
    "taken": "You are now the connection's export user: its exports run as you.",
    "removed": "Connection removed.",
}
# The exports on a connection being removed: what the admin chose to do with them.
ON_REMOVE = {
    "detach": "detach them: they keep their settings and do not run until given a connection",
    "remove": "remove them with the connection",
}
SHARED = {"admins": False, "contributors": True}  # the "who can use it" choice
# A refused edit's field (as the service names it) -> the form's input it goes next to.
EDIT_FIELDS = {"name": "new_name", "rate": "rate", "base_url": "base_url", "verify": "base_url"}
ADMIN_PERMISSIONS = "view, edit, rotate key, take over, remove"
CONTRIBUTOR_PERMISSIONS = "use in exports"


def _link(name: str) -> str:
    return item_path("connections", name)


@router.get("/connections")
def connections_page(request: Request, who: SignedIn, srv: ServerDep, notice: str = "") -> Response:
    """Admins see every connection in full; contributors the names and types of those
    shared with them; viewers are refused (the service's message)."""
    listing = visible_connections(srv.ws, who.actor)
    return render(
        request,
        "connections.html",
        area="settings",
        notice=NOTICES.get(notice),
        listing=listing,
        admin_permissions=ADMIN_PERMISSIONS,
        contributor_permissions=CONTRIBUTOR_PERMISSIONS,
    )


def _new_page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    error: SegportError | None = None,
) -> Response:
    values = form or {}
    return render(
        request,
        "connection_new.html",
        http_status=status_of(error) if error else 200,
        area="settings",
        error=error,
        privacy=PRIVACY_STATEMENT,
        # what the admin typed, shown again after a refusal; never the API key
        name=values.get("name", ""),
        shared=values.get("shared") == "contributors",
        agreed=values.get("agree") == "yes",
        base_url=values.get("base_url", ""),
    )


@router.get("/connections/new")
def new_connection_page(request: Request, who: SignedIn, srv: ServerDep) -> Response:
    # Only those who manage connections get the form: the service says who that is.
    list_connections(srv.ws, who.actor)
    return _new_page(request)


@router.post("/connections/new")
def new_connection_post(request: Request, who: Posted, srv: ServerDep, form: Form) -> Response:
    """Connect: the service checks the key with Brevo before saving anything."""
    try:
        view = add_connection(
            srv.ws,
            who.actor,
            form.get("name", ""),
            "brevo",
            form.get("api_key", ""),
            agree_privacy=form.get("agree") == "yes",
            base_url=form.get("base_url", "").strip() or None,
            share_with_contributors=form.get("shared") == "contributors",
        )
    except SegportError as exc:
        if exc.kind == "forbidden":
            raise
        return _new_page(request, form=form, error=exc)
    return see_other(_link(view.name) + "?notice=added")


def _connection_page(
    request: Request,
    who: SignedIn,
    srv: ServerDep,
    name: str,
    *,
    notice: str | None = None,
    error: SegportError | None = None,
    **extra: Any,
) -> Response:
    view = show_connection(srv.ws, who.actor, name)
    extra.setdefault("confirm", None)
    # The edit form: as saved, or as typed when the service refused it (its message then
    # goes next to the field it names).
    typed = extra.pop("typed", None) or {}
    extra["edit"] = {
        "new_name": typed.get("new_name", view.name),
        "contributors": typed["shared"] == "contributors"
        if typed.get("shared") in SHARED
        else view.shared_with_contributors,
        "rate": typed.get("rate", f"{view.requests_per_second:g}"),
        "base_url": typed.get("base_url", view.base_url),
    }
    extra["bad_field"] = EDIT_FIELDS.get(error.field or "") if error is not None and typed else None
    return render(
        request,
        "connection.html",
        http_status=status_of(error) if error else 200,
        area="settings",
        notice=notice,
        error=error,
        conn=view,
        link=_link(view.name),
        on_remove=ON_REMOVE,
        **extra,
    )


def _refused(
    request: Request, who: SignedIn, srv: ServerDep, name: str, exc: SegportError
) -> Response:
    """A refusal of an action on a connection, shown on its page (a missing connection
    or a forbidden action gets the error page)."""
    if exc.kind in ("not_found", "forbidden"):
        raise exc
    return _connection_page(request, who, srv, name, error=exc)


def _rate(typed: str) -> float | None:
    """The requests per second typed (None: left empty, unchanged)."""
    if not typed:
        return None
    try:
        return float(typed)
    except ValueError:
        raise Invalid(
            f"the rate {typed!r} is not a number: give the requests per second, e.g. 10",
            code="rate_invalid",
            field="rate",
        ) from None


@router.post("/connections/{name:path}/edit")
def edit_post(request: Request, who: Posted, srv: ServerDep, form: Form, name: str) -> Response:
    """Display name, who can use it, the rate and the API URL. The URL shown is without
    a proxy's password: posted back as shown, it is left as it is."""
    typed = {
        "new_name": form.get("new_name", "").strip(),
        "shared": form.get("shared", ""),
        "rate": form.get("rate", "").strip(),
        "base_url": form.get("base_url", "").strip(),
    }
    # posted back as the page showed it (without a proxy's password): left as it is
    unchanged = ("", form.get("base_url_shown", ""))
    try:
        view = edit_connection(
            srv.ws,
            who.actor,
            name,
            new_name=typed["new_name"] or None,
            # a form without the choice leaves the sharing as it is
            share_with_contributors=SHARED.get(typed["shared"]),
            requests_per_second=_rate(typed["rate"]),
            base_url=typed["base_url"] if typed["base_url"] not in unchanged else None,
        )
    except SegportError as exc:
        if exc.kind in ("not_found", "forbidden"):
            raise
        return _connection_page(request, who, srv, name, error=exc, typed=typed)
    return see_other(_link(view.name) + "?notice=edited")


@router.post("/connections/{name:path}/key")
def key_post(request: Request, who: Posted, srv: ServerDep, form: Form, name: str) -> Response:
    """Rotate the key: the new one is checked with Brevo before it replaces the old."""
    try:
        edit_connection(srv.ws, who.actor, name, api_key=form.get("api_key", ""))
    except SegportError as exc:
        return _refused(request, who, srv, name, exc)
    return see_other(_link(name) + "?notice=key")


@router.post("/connections/{name:path}/check")
def check_post(request: Request, who: Posted, srv: ServerDep, name: str) -> Response:
    """Check the saved key with Brevo now: the refreshed account, or Brevo's message."""
    try:
        check_connection(srv.ws, who.actor, name)
    except SegportError as exc:
        return _refused(request, who, srv, name, exc)
    return see_other(_link(name) + "?notice=checked")


@router.post("/connections/{name:path}/take-over")
def take_over_post(request: Request, who: Posted, srv: ServerDep, name: str) -> Response:
    try:
        take_over(srv.ws, who.actor, name)
    except SegportError as exc:
        return _refused(request, who, srv, name, exc)
    return see_other(_link(name) + "?notice=taken")


@router.post("/connections/{name:path}/remove")
def remove_post(request: Request, who: Posted, srv: ServerDep, form: Form, name: str) -> Response:
    """Two steps: the first post (the choice for its exports) shows what will happen and
    asks to confirm; the second (``confirm=yes``) removes."""
    choice = form.get("exports", "")
    try:
        view = show_connection(srv.ws, who.actor, name)
        if view.exports and choice not in ON_REMOVE:
            raise Invalid(
                "choose what happens to the connection's exports: detach them or remove "
                "them with it",
                code="detach_or_remove",
                field="exports",
            )
        if form.get("confirm") != "yes":
            return _connection_page(
                request, who, srv, name, confirm={"choice": choice if view.exports else ""}
            )
        remove_connection(
            srv.ws,
            who.actor,
            name,
            detach_exports=choice == "detach",
            remove_exports=choice == "remove",
        )
    except SegportError as exc:
        return _refused(request, who, srv, name, exc)
    return see_other("/connections?notice=removed")


# :path: a connection name may hold a "/" (sent as %2F, which the server decodes first)
@router.get("/connections/{name:path}")
def connection_page(
    request: Request, who: SignedIn, srv: ServerDep, name: str, notice: str = ""
) -> Response:
    return _connection_page(request, who, srv, name, notice=NOTICES.get(notice))

"""The front door: ``/`` (to the exports or the sign-in page), signing in and out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from segport.errors import Invalid, SegportError
from segport.secret import Secret
from segport.server import csrf
from segport.server.pages.base import (
    Form,
    PageRoute,
    Posted,
    ServerDep,
    SignInNeeded,
    local_path,
    render,
    see_other,
    signed_in,
)
from segport.server.problems import status_of
from segport.service import end_web_session, sign_in

router = APIRouter(route_class=PageRoute, include_in_schema=False)
HOME = "/exports"


@router.get("/")
def home(request: Request, srv: ServerDep) -> RedirectResponse:
    try:
        signed_in(request, srv)
    except SignInNeeded:
        return RedirectResponse("/sign-in")
    return RedirectResponse(HOME)


@router.get("/sign-in")
def sign_in_page(
    request: Request, srv: ServerDep, next: str | None = None, signed_out: str | None = None
) -> Response:
    try:
        signed_in(request, srv)
    except SignInNeeded:
        notice = "You are signed out." if signed_out else None
        return render(
            request,
            "sign_in.html",
            name="",
            next=local_path(next, HOME),
            error=None,
            notice=notice,
        )
    return see_other(local_path(next, HOME))


@router.post("/sign-in")
def sign_in_post(request: Request, srv: ServerDep, form: Form) -> Response:
    """As ``POST /api/v1/session``: the site check (no token yet), the sign-in limit, the
    password; then the cookie and back to where the visitor was going."""
    name = form.get("name", "").strip()
    target = local_path(form.get("next"), HOME)
    address = request.client.host if request.client else "unknown"
    try:
        csrf.check_origin(request)  # a page of another site must not sign a browser in
        if not name or not form.get("password"):
            raise Invalid("enter your user name and password", code="sign_in_incomplete")
        srv.limiter.check(name, address)
        try:
            new = sign_in(
                srv.ws,
                name,
                Secret(form["password"], scrub=False),
                lifetime=srv.settings.session_lifetime,
            )
        except SegportError as exc:
            if exc.code == "bad_credentials":
                srv.limiter.failed(name, address)
            raise
    except SegportError as exc:
        status = status_of(exc)
        headers = {"Retry-After": str(exc.details["retry_after"])} if status == 429 else None
        return render(
            request,
            "sign_in.html",
            http_status=status,
            http_headers=headers,
            name=name,
            next=target,
            error=exc,
        )
    srv.limiter.succeeded(name)
    previous = srv.cookie.session_id(request)
    if previous is not None:  # a new id at every sign-in (no session fixation)
        end_web_session(srv.ws, previous)
    answer = see_other(target)
    srv.cookie.set(answer, new.session_id)
    return answer


@router.post("/sign-out")
def sign_out(who: Posted, srv: ServerDep) -> Response:
    assert who.session_id is not None
    end_web_session(srv.ws, who.session_id)
    answer = see_other("/sign-in?signed_out=1")
    srv.cookie.clear(answer)
    return answer

"""What every page shares: the templates, who is signed in, posted forms, rendering.

A page is a face like the CLI: it names the acting user (the session cookie), calls one
service and renders the answer. Refusals are the services' :class:`SegportError`; a page
route (:class:`PageRoute`) renders them as an error page with the status
``problems.status_of`` gives, and sends a visitor who is not signed in to the sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from segport.errors import Invalid, SegportError
from segport.server import csrf
from segport.server.auth import Caller
from segport.server.context import Server, server
from segport.server.problems import status_of
from segport.service import web_session

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"
MAX_FORM_BYTES = 64 * 1024  # the pages' forms are a few fields
# an export's form: a row per attribute and a box per segment (a workspace may have many)
MAX_FORM_FIELDS = 1000
FORM_TYPE = "application/x-www-form-urlencoded"


def _when(value: datetime | None) -> str:
    """A time as pages show it: UTC, to the second."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


# Autoescape on for every template (every value a page shows is data: names, messages).
_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = _when
_env.filters["seconds"] = _seconds
_env.filters["segment"] = lambda value: quote(str(value), safe="")  # one URL path segment
templates = Jinja2Templates(env=_env)


class SignInNeeded(Exception):
    """The visitor is not signed in (or the session ended): the sign-in page, then back."""


def signed_in(request: Request, srv: Annotated[Server, Depends(server)]) -> Caller:
    """The signed-in user (the session cookie), kept on ``request.state`` for the layout."""
    session_id = srv.cookie.session_id(request)
    if session_id is None:
        raise SignInNeeded
    try:
        view = web_session(srv.ws, session_id)
    except SegportError as exc:
        if exc.code == "session_invalid":
            raise SignInNeeded from exc
        raise
    who = Caller(view.actor, session_id, view.csrf_token)
    request.state.caller = who
    return who


async def form_fields(request: Request) -> dict[str, str]:
    """A posted form's fields (``application/x-www-form-urlencoded``, what a plain form
    and htmx send), capped in bytes and fields. The one file upload (Profiles) is
    ``multipart/form-data``, streamed by ``server.uploads`` instead."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise Invalid("the form is too large", code="form_invalid")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and kind != FORM_TYPE:
        raise Invalid(f"a page's form is posted as {FORM_TYPE}", code="form_invalid")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise Invalid("the form could not be read", code="form_invalid") from exc
    return dict(pairs)


Form = Annotated[dict[str, str], Depends(form_fields)]


def posted(request: Request, who: Annotated[Caller, Depends(signed_in)], form: Form) -> Caller:
    """The signed-in user of a page's form post, after the CSRF checks (same site, and
    the session's token as the ``csrf_token`` field or the ``X-CSRF-Token`` header)."""
    assert who.csrf_token is not None  # a session always has one
    csrf.protect(request, who.csrf_token, form.get(csrf.FIELD))
    return who


SignedIn = Annotated[Caller, Depends(signed_in)]
Posted = Annotated[Caller, Depends(posted)]
ServerDep = Annotated[Server, Depends(server)]


def render(
    request: Request,
    template: str,
    *,
    http_status: int = 200,
    http_headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    who: Caller | None = getattr(request.state, "caller", None)
    context.setdefault("user", who.actor if who else None)
    context.setdefault("csrf_token", who.csrf_token if who else None)
    context.setdefault("area", None)
    context.setdefault("notice", None)
    # Pages show personal data and a CSRF token: never kept by a cache.
    answer_headers = {"Cache-Control": "no-store", **(http_headers or {})}
    return templates.TemplateResponse(
        request, template, context, status_code=http_status, headers=answer_headers
    )


def item_path(area: str, name: str) -> str:
    """The page of one named thing: ``/exports/<name>``, the name as one path segment
    (a "/" in it sent as %2F), as the templates' ``segment`` filter writes it."""
    return f"/{area}/" + quote(name, safe="")


def see_other(url: str) -> RedirectResponse:
    """After a form post: the browser GETs ``url`` (303)."""
    return RedirectResponse(url, status_code=303)


def local_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this server (where to go after signing in), else
    ``default``: never another site (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


def error_page(request: Request, exc: SegportError) -> HTMLResponse:
    status = status_of(exc)
    headers = None
    if status == 429:
        headers = {"Retry-After": str(exc.details.get("retry_after", 60))}
    return render(request, "error.html", http_status=status, http_headers=headers, error=exc)


class PageRoute(APIRoute):
    """A page's route: a service's refusal becomes an error page (not a JSON problem),
    and a visitor not signed in goes to the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInNeeded:
                back = request.url.path if request.method == "GET" else "/"
                if request.url.query and request.method == "GET":
                    back += "?" + request.url.query
                target = f"/sign-in?next={quote(back, safe='/')}"
                if request.headers.get("hx-request"):
                    # htmx would swap the sign-in page into a fragment: go there instead
                    return Response(status_code=204, headers={"HX-Redirect": target})
                return see_other(target)
            except SegportError as exc:
                return error_page(request, exc)

        return route

"""Profiles: where they are, their columns and types, the row count and last load, the
first few rows; for admins, a form that uploads a file and loads it, then shows what could
not be read (line, column, reason).

The upload is ``multipart/form-data`` (``server.uploads``): the file is streamed to a
private temporary file with a size cap, never held in memory, and removed after the load.
Its CSRF token is the form's ``csrf_token`` field, checked before anything is loaded.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from segport.errors import Invalid, SegportError
from segport.server import csrf
from segport.server.api.profile_models import ProfileLoadOut
from segport.server.api.profiles import load_out
from segport.server.pages.base import PageRoute, ServerDep, SignedIn, render
from segport.server.problems import status_of
from segport.server.uploads import SUFFIXES, form_to_files, private_folder, shown_name
from segport.service import load_profiles, profiles_overview

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ROWS = 10  # profiles the page shows
SHOWN_PROBLEMS = 20  # problems of a load the page lists (all are counted)
ACCEPT = ",".join((*SUFFIXES, ".gz"))
CHECKED = "yes"


def _page(
    request: Request,
    who: SignedIn,
    srv: ServerDep,
    *,
    form: dict[str, str] | None = None,
    load: ProfileLoadOut | None = None,
    error: SegportError | None = None,
) -> Response:
    overview = profiles_overview(srv.ws, who.actor, ROWS)
    source = overview.source
    values: dict[str, Any] = {
        "table": source.table if source else "customers",
        "id_column": source.id_column if source else "customer_id",
        "encoding": "",
        "replace": source is not None,
        "strict": False,
        "allow_schema_change": False,
    }
    if form is not None:  # what was typed, shown again after a refusal
        values.update({k: form.get(k, "") for k in ("table", "id_column", "encoding")})
        values.update({k: form.get(k) == CHECKED for k in ("replace", "strict")})
        values["allow_schema_change"] = form.get("allow_schema_change") == CHECKED
    return render(
        request,
        "profiles.html",
        http_status=status_of(error) if error else 200,
        area="profiles",
        overview=overview,
        source=source,
        rows=overview.rows,
        load=load,
        error=error,
        values=values,
        accept=ACCEPT,
        shown_problems=SHOWN_PROBLEMS,
    )


@router.get("/profiles")
def profiles_page(request: Request, who: SignedIn, srv: ServerDep) -> Response:
    return _page(request, who, srv)


@router.post("/profiles/load")
async def load_post(request: Request, who: SignedIn, srv: ServerDep) -> Response:
    """Load the uploaded file (admins: the service refuses others), then the page with
    what was loaded and what could not be read."""
    assert who.csrf_token is not None  # a session always has one
    csrf.check_origin(request)  # before reading the body: another site's post goes no further
    form: dict[str, str] = {}
    try:
        with private_folder() as folder:
            upload = await form_to_files(request, folder)
            form = upload.fields
            csrf.check_token(request, who.csrf_token, form.get(csrf.FIELD))
            if upload.file is None or upload.size == 0:
                raise Invalid(
                    "choose a file of profiles to load", code="file_required", field="file"
                )
            path, shown = upload.file, shown_name(upload.filename, upload.file.name)
            report = await run_in_threadpool(
                lambda: load_profiles(
                    srv.ws,
                    who.actor,
                    path,
                    form.get("table", "").strip() or "customers",
                    form.get("id_column", "").strip() or "customer_id",
                    form.get("replace") == CHECKED,
                    form.get("encoding", "").strip() or None,
                    strict=form.get("strict") == CHECKED,
                    allow_schema_change=form.get("allow_schema_change") == CHECKED,
                    shown_as=shown,
                )
            )
    except SegportError as exc:
        if exc.kind == "forbidden":
            raise  # a refused role or a failed CSRF check: the error page
        return _page(request, who, srv, form=form, error=exc)
    return _page(request, who, srv, load=load_out(report, shown, SHOWN_PROBLEMS))

"""Exports: listed, shown, added, edited, duplicated, detached, scheduled and removed; a
run requested, a dry run, and Run all (``POST /runs``).

Each route calls one service (which checks roles and writes the audit). A request body's
fields are named as the services name the field at fault; where a service names a field
otherwise (``segment`` for one of ``segments``), the problem's ``field`` is the body's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status

from segport.errors import SegportError
from segport.server.api.export_models import (
    DryRun,
    DuplicateIn,
    ExportPatch,
    NewExport,
    RequestedRun,
    RunsRequested,
    ScheduleIn,
)
from segport.server.api.models import Export, ExportPage, Run, RunRequest
from segport.server.auth import ActorDep
from segport.server.context import Server, server
from segport.server.problems import problem_responses
from segport.service import (
    CLEAR,
    Clear,
    ExportConfig,
    ExportEdit,
    ExportMapping,
    NewList,
    add_export,
    detach_export,
    duplicate_export,
    edit_export,
    list_exports,
    parse_attributes,
    remove_export,
    request_all_runs,
    request_run,
    run_export,
    schedule_export,
    show_export,
    to_json,
)

router = APIRouter(prefix="/exports", tags=["exports"])
# Run all: a request for runs of every export, so under /runs (runs.py reads them).
runs_router = APIRouter(prefix="/runs", tags=["runs"])
ServerDep = Annotated[Server, Depends(server)]
Name = Annotated[str, Path(min_length=1, max_length=200, description="The export's name.")]
Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, description="Skip this many items first.")]
EXPORTS_PATH = "/api/v1/exports"  # where an export is (the Location of one made)
# Brevo refused or could not be reached: 502 (kind unavailable), with Brevo's word.
BREVO = 502
CREATED: dict[int | str, dict[str, Any]] = {
    201: {
        "headers": {
            "Location": {"description": "The new export's URL.", "schema": {"type": "string"}}
        }
    }
}
# The services' names of a field -> the body's.
LISTS = {"segment": "segments", "attribute": "attributes", "remove_attribute": "attributes"}


@contextmanager
def body_fields(renames: Mapping[str, str]) -> Iterator[None]:
    """A service's refusal names the body's field."""
    try:
        yield
    except SegportError as exc:
        if exc.field is not None and exc.field in renames:
            exc.field = renames[exc.field]
        raise


def _export(view: Any) -> Export:
    return Export.model_validate(to_json(view))


def _created(response: Response, view: Any) -> Export:
    response.headers["Location"] = f"{EXPORTS_PATH}/{quote(view.config.name, safe='')}"
    return _export(view)


@router.get("", responses=problem_responses(401, 403, 422), summary="List the exports")
def get_exports(who: ActorDep, srv: ServerDep, limit: Limit = 50, offset: Offset = 0) -> ExportPage:
    """Every export by name, with its last run, next firing and what you may do with it."""
    views = list_exports(srv.ws, who)
    return ExportPage(
        total=len(views),
        offset=offset,
        limit=limit,
        items=[Export.model_validate(to_json(v)) for v in views[offset : offset + limit]],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={**CREATED, **problem_responses(401, 403, 404, 422, BREVO)},
    summary="Add an export",
)
def post_export(body: NewExport, who: ActorDep, srv: ServerDep, response: Response) -> Export:
    """Checked in full (segments, profile columns, the Brevo list and attributes) and saved;
    not run. Brevo is changed (`new_list`, `create_attributes`) only once every check
    passed. Viewers: 403; contributors only on connections shared with contributors (403
    `connection_not_shared`); an unknown connection: 404 `connection_not_found`; a name
    taken or bad settings: 422 with the field."""
    with body_fields({**LISTS, "folder_id": "new_list.folder_id"}):
        mapping = ExportMapping(
            email=body.email,
            first_name=body.first_name,
            last_name=body.last_name,
            phone=body.phone,
            attributes=parse_attributes([f"{a}={c}" for a, c in body.attributes.items()]),
        )
        config = ExportConfig(
            name=body.name,
            connection=body.connection,
            list_id=body.list_id or 0,
            segments=tuple(body.segments),
            mapping=mapping,
            mode=body.mode,
            phone_region=body.phone_region,
            phone_country_column=body.phone_country_column,
            profile_limit=body.profile_limit,
            schedule=body.schedule or ("cron" if body.cron is not None else "system"),
            cron=body.cron,
            timezone=body.timezone,
            empty_values=body.empty_values,
            share_list=body.share_list,
        )
        new_list = body.new_list
        view = add_export(
            srv.ws,
            who,
            config,
            list_name=body.list_name,
            new_list=NewList(new_list.name, new_list.folder_id) if new_list else None,
            create_attributes=body.create_attributes,
        )
    return _created(response, view)


@router.get("/{name}", responses=problem_responses(401, 403, 404, 422), summary="One export")
def get_export(name: Name, who: ActorDep, srv: ServerDep) -> Export:
    return Export.model_validate(to_json(show_export(srv.ws, who, name)))


def _clearable(body: ExportPatch, field: str) -> str | Clear | None:
    """Left out: unchanged (None); null: emptied (CLEAR)."""
    if field not in body.model_fields_set:
        return None
    value: str | None = getattr(body, field)
    return CLEAR if value is None else value


def _edit(body: ExportPatch) -> ExportEdit:
    attributes = body.attributes or {}
    return ExportEdit(
        name=body.name,
        connection=body.connection,
        list_id=body.list_id,
        segments=tuple(body.segments) if body.segments is not None else None,
        email=body.email,
        first_name=_clearable(body, "first_name"),
        last_name=_clearable(body, "last_name"),
        phone=_clearable(body, "phone"),
        add_attributes={a: c for a, c in attributes.items() if c is not None},
        remove_attributes=tuple(a for a, c in attributes.items() if c is None),
        mode=body.mode,
        phone_region=_clearable(body, "phone_region"),
        phone_country_column=_clearable(body, "phone_country_column"),
        profile_limit=body.profile_limit,
        schedule=body.schedule,
        cron=body.cron,
        timezone=body.timezone,
        empty_values=body.empty_values,
        share_list=body.share_list,
    )


@router.patch(
    "/{name}",
    responses=problem_responses(401, 403, 404, 409, 422, BREVO),
    summary="Change an export's settings",
)
def patch_export(name: Name, body: ExportPatch, who: ActorDep, srv: ServerDep) -> Export:
    """The result is checked like a new export and saved only onto the settings it was
    made from (409 `export_changed` when someone changed them meanwhile). Nothing to
    change: 422. The answer says what the next run does differently (`next_run_note`)."""
    with body_fields(LISTS):
        view = edit_export(srv.ws, who, name, changes=_edit(body), list_name=body.list_name)
    return _export(view)


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
    summary="Remove an export",
)
def delete_export(name: Name, who: ActorDep, srv: ServerDep) -> Response:
    """Its settings, state and schedule go; the contacts it sent stay in Brevo."""
    remove_export(srv.ws, who, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{name}/duplicate",
    status_code=status.HTTP_201_CREATED,
    responses={**CREATED, **problem_responses(401, 403, 404, 422, BREVO)},
    summary="Copy an export under a new name",
)
def post_duplicate(
    name: Name, body: DuplicateIn, who: ActorDep, srv: ServerDep, response: Response
) -> Export:
    """The copy has the settings and no run history. On the same list it must share it
    knowingly (`share_list`), else 422 `list_shared`; `list_id` or `list_name` put it on
    another list."""
    with body_fields(LISTS):
        view = duplicate_export(
            srv.ws,
            who,
            name,
            body.name,
            list_id=body.list_id,
            list_name=body.list_name,
            share_list=body.share_list,
        )
    return _created(response, view)


@router.post(
    "/{name}/detach",
    responses=problem_responses(401, 403, 404, 422),
    summary="Drop an export's connection",
)
def post_detach(name: Name, who: ActorDep, srv: ServerDep) -> Export:
    """It keeps its settings and does not run (its runs are skipped) until given a
    connection (`PATCH` with `connection`)."""
    return _export(detach_export(srv.ws, who, name))


@router.put(
    "/{name}/schedule",
    responses=problem_responses(401, 403, 404, 422),
    summary="Set when an export runs by itself",
)
def put_schedule(name: Name, body: ScheduleIn, who: ActorDep, srv: ServerDep) -> Export:
    """`cron` (an expression read in an IANA zone, both required), `system` (with the
    system refresh) or `manual` (only on demand). The answer shows the next firing."""
    view = schedule_export(srv.ws, who, name, body.schedule, cron=body.cron, timezone=body.timezone)
    return _export(view)


@router.post(
    "/{name}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Request a run of the export",
)
def post_run(
    name: Name,
    who: ActorDep,
    srv: ServerDep,
    body: Annotated[RunRequest | None, Body()] = None,
) -> Run:
    """Queues a run for a worker (the server's own unless started with `--no-worker`);
    409 `run_in_progress` while one is queued or processing."""
    options = body or RunRequest()
    view = request_run(
        srv.ws,
        who,
        name,
        full=options.full,
        allow_mass_removal=options.allow_mass_removal,
    )
    return Run.model_validate(to_json(view))


@router.post(
    "/{name}/dry-run",
    responses=problem_responses(401, 403, 404, 409, 422, BREVO),
    summary="What a run of the export would do",
)
def post_dry_run(
    name: Name,
    who: ActorDep,
    srv: ServerDep,
    body: Annotated[RunRequest | None, Body()] = None,
) -> DryRun:
    """Reads the segments and the export's state and says what would be added, updated,
    removed and rejected; sends nothing and records nothing. 409 while a run holds the
    export's state (`state_busy`) or the state is lost or damaged."""
    options = body or RunRequest()
    summary = run_export(
        srv.ws,
        who,
        name,
        full=options.full,
        dry_run=True,
        allow_mass_removal=options.allow_mass_removal,
    )
    return DryRun.model_validate(summary.to_dict())


@runs_router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 403),
    summary="Run all: request a run of every export whose schedule is on",
)
def post_run_all(who: ActorDep, srv: ServerDep) -> RunsRequested:
    """Every export not on the manual schedule gets a queued run for a worker, by name;
    one that has a run queued or processing already is listed as `busy`."""
    requested = request_all_runs(srv.ws, who)
    items = [
        RequestedRun(
            export_name=r.export_name,
            run=Run.model_validate(to_json(r.run)) if r.run is not None else None,
            busy=r.busy,
            busy_run_id=r.busy_run_id,
        )
        for r in requested
    ]
    return RunsRequested(
        requested=sum(1 for r in items if r.run is not None),
        busy=sum(1 for r in items if r.run is None),
        items=items,
    )

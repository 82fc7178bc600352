"""Exports: the list, one export, and requesting a run of one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, status

from segport.server.api.models import Export, ExportPage, Run, RunRequest
from segport.server.auth import ActorDep
from segport.server.context import Server, server
from segport.server.problems import problem_responses
from segport.service import list_exports, request_run, show_export, to_json

router = APIRouter(prefix="/exports", tags=["exports"])
ServerDep = Annotated[Server, Depends(server)]
Name = Annotated[str, Path(min_length=1, max_length=200, description="The export's name.")]
Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, description="Skip this many items first.")]


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


@router.get("/{name}", responses=problem_responses(401, 403, 404, 422), summary="One export")
def get_export(name: Name, who: ActorDep, srv: ServerDep) -> Export:
    return Export.model_validate(to_json(show_export(srv.ws, who, name)))


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

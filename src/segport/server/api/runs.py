"""Runs: the history (filtered, paged), one run with its files, canceling one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import FileResponse

from segport.server.api.models import Run, RunDetail, RunPage, RunStatus
from segport.server.auth import ActorDep
from segport.server.context import Server, server
from segport.server.problems import problem_responses
from segport.server.run_files import CSV_RESPONSE, run_file_download
from segport.service import cancel_run, page_runs, retry_run, show_run, to_json

router = APIRouter(prefix="/runs", tags=["runs"])
ServerDep = Annotated[Server, Depends(server)]
RunId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The run's id.")]


@router.get("", responses=problem_responses(401, 403, 404, 422), summary="The runs, newest first")
def get_runs(
    who: ActorDep,
    srv: ServerDep,
    export: Annotated[str | None, Query(max_length=200, description="Only this export's.")] = None,
    status: Annotated[RunStatus | None, Query(description="Only runs with this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> RunPage:
    page = page_runs(srv.ws, who, export_name=export, status=status, limit=limit, offset=offset)
    return RunPage(
        total=page.total,
        offset=page.offset,
        limit=page.limit,
        items=[Run.model_validate(to_json(r)) for r in page.runs],
    )


@router.get("/{run_id}", responses=problem_responses(401, 403, 404, 422), summary="One run")
def get_run(run_id: RunId, who: ActorDep, srv: ServerDep) -> RunDetail:
    """The run's record and the files it left (rejected rows, change record)."""
    return RunDetail.model_validate(to_json(show_run(srv.ws, who, run_id)))


@router.post(
    "/{run_id}/cancel",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Cancel a run",
)
def post_cancel(run_id: RunId, who: ActorDep, srv: ServerDep) -> Run:
    """A queued run is canceled at once; a processing one at its next safe point
    (`cancel_requested_at` set). 409 `run_already_ended` for a run that ended."""
    return Run.model_validate(to_json(cancel_run(srv.ws, who, run_id)))


@router.get(
    "/{run_id}/files/{name}",
    responses={**CSV_RESPONSE, **problem_responses(401, 403, 404, 422)},
    response_class=FileResponse,
    summary="Download a file a run left",
)
def get_run_file(
    run_id: RunId,
    name: Annotated[
        str, Path(max_length=100, description="A file the run lists, e.g. `rejected.csv`.")
    ],
    who: ActorDep,
    srv: ServerDep,
) -> FileResponse:
    """One of the files `GET /runs/{run_id}` lists (`rejected.csv`, `changes.csv`) as a
    CSV attachment; 404 `run_file_not_found` for any other name."""
    return run_file_download(srv.ws, who, run_id, name)


@router.post(
    "/{run_id}/retry",
    status_code=202,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Run a run's export again",
)
def post_retry(run_id: RunId, who: ActorDep, srv: ServerDep) -> Run:
    """A new `queued` run of the run's export (trigger `retry`, `full` as the run was;
    the mass removal permission is not carried over: request a run for it) for a worker
    to execute; any ended run may be retried, a successful one too. 409
    `run_in_progress` while the export has a run queued or processing; 403 for who may
    not run the export."""
    return Run.model_validate(to_json(retry_run(srv.ws, who, run_id)))

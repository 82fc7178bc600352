"""Profiles: where they are (columns and types, row count, last load), the first few,
(admins) a file loaded into the store, and (admins) the workspace pointed at a table of
a PostgreSQL database instead (nothing copied; its URL's password never answered nor
logged: the URL arrives as a secret and the service keeps only its redacted form for
showing).

The file is the request's raw body, its format named by the ``Content-Type``
(``server.uploads``): streamed to a private temporary file with a size cap, loaded by the
service as `segport profiles load` loads a file (the same checks: segments and exports
keep their columns unless ``allow_schema_change``), then removed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, SecretStr
from starlette.concurrency import run_in_threadpool

from segport.server.api.profile_models import (
    LoadProblem,
    ProfileLoadOut,
    ProfileRows,
    ProfileSourceOut,
)
from segport.server.auth import ActorDep
from segport.server.context import Server, server
from segport.server.problems import problem_responses
from segport.server.uploads import (
    SUFFIX_OF_TYPE,
    body_suffix,
    body_to_file,
    private_folder,
    shown_name,
)
from segport.service import describe_source, load_profiles, page_profiles, to_json, use_table

router = APIRouter(prefix="/profiles", tags=["profiles"])
ServerDep = Annotated[Server, Depends(server)]
LISTED = 100  # problems an answer lists (all are counted)
_BINARY = {"schema": {"type": "string", "format": "binary"}}


def load_out(report: Any, shown_as: str, listed: int = LISTED) -> ProfileLoadOut:
    """A load's report (what ``load_profiles`` answers: ``profiles.loading.LoadReport``,
    which a face does not import) as the API answers it; the pages show the same."""
    p = report.problems
    problems = [
        LoadProblem(kind="rejected_row", row=r.line, field=None, message=r.reason, text=r.text)
        for r in p.rejected[:listed]
    ]
    problems += [
        LoadProblem(kind="bad_value", row=c.line, field=c.column, message=c.reason)
        for c in p.bad_cells[:listed]
    ]
    problems += [
        LoadProblem(
            kind="bad_bytes",
            row=b.line,
            field=None,
            message=f"byte {b.column} (0x{b.byte:02x}) is not valid UTF-8",
            text=b.text,
        )
        for b in p.bad_bytes[:listed]
    ]
    problems.sort(key=lambda q: (q.row is None, q.row or 0))
    return ProfileLoadOut(
        file=shown_as,
        format=report.format,  # csv | parquet | jsonl
        table=report.table,
        id_column=report.id_column,
        rows=report.rows,
        encoding=report.encoding,
        columns=report.columns,
        seconds=report.seconds,
        into=report.into,
        rejected_rows=p.rejected_total,
        bad_values=p.bad_cells_total,
        bad_lines=p.bad_bytes_total,
        problems=problems[:listed],
    )


@router.get("", responses=problem_responses(401, 403, 404), summary="Where the profiles are")
def get_profiles(who: ActorDep, srv: ServerDep) -> ProfileSourceOut:
    """The store, the table and its id column, the columns with their types, the row
    count and the last load. 404 `profiles_not_loaded` before the first load."""
    return ProfileSourceOut.model_validate(to_json(describe_source(srv.ws, who)))


@router.get("/rows", responses=problem_responses(401, 403, 404, 422), summary="The profiles, by id")
def get_rows(
    who: ActorDep,
    srv: ServerDep,
    limit: Annotated[int, Query(ge=1, le=500, description="How many, by id.")] = 10,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1, description="Skip this many first.")] = 0,
) -> ProfileRows:
    """A page of the profiles in id order, every column; `total` is the row count of the
    last load. 404 `profiles_not_loaded` before the first load."""
    page = page_profiles(srv.ws, who, limit, offset)
    data: dict[str, Any] = to_json(page)  # type: ignore[assignment]
    return ProfileRows(
        total=data["total"],
        offset=offset,
        limit=limit,
        columns=data["columns"],
        items=data["rows"],
    )


@router.post(
    "/loads",
    responses=problem_responses(401, 403, 409, 422),
    summary="Load a file of profiles (admins)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The file, as it is: CSV (or TSV), JSON Lines or Parquet, named by "
            "the Content-Type; `Content-Encoding: gzip` for a compressed CSV or JSON Lines.",
            "content": {kind: _BINARY for kind in SUFFIX_OF_TYPE},
        }
    },
)
async def post_load(
    request: Request,
    who: ActorDep,
    srv: ServerDep,
    table: Annotated[str, Query(min_length=1, max_length=63)] = "customers",
    id_column: Annotated[
        str, Query(min_length=1, max_length=200, description="The column naming a profile.")
    ] = "customer_id",
    replace: Annotated[bool, Query(description="Replace the table if it exists.")] = False,
    encoding: Annotated[
        str | None, Query(max_length=40, description="CSV / JSON Lines text (default: detected).")
    ] = None,
    strict: Annotated[
        bool, Query(description="Refuse the file if any value, row or byte cannot be read.")
    ] = False,
    allow_schema_change: Annotated[
        bool,
        Query(description="Load even if a column a segment or export uses goes or changes type."),
    ] = False,
    name: Annotated[
        str | None, Query(max_length=200, description="The file's name, as the source shows it.")
    ] = None,
) -> ProfileLoadOut:
    """The body is written to a private temporary file as it arrives (at most 1 GiB: 422
    `upload_too_large`), loaded like `segport profiles load`, then removed. The profiles
    go where the last load went. 422 for a file that cannot be loaded, a bad id column or
    (`strict`) any problem; 409 `schema_change_refused` when a column a segment or export
    uses would go or change type. Otherwise the rows and values that could not be read
    are in `problems`, with their line and column."""
    suffix = body_suffix(
        request.headers.get("content-type"), request.headers.get("content-encoding")
    )
    shown = shown_name(name, f"upload{suffix}")
    with private_folder() as folder:
        path = await body_to_file(request, folder, "upload" + suffix)
        report = await run_in_threadpool(
            lambda: load_profiles(
                srv.ws,
                who,
                path,
                table,
                id_column,
                replace,
                encoding,
                strict=strict,
                allow_schema_change=allow_schema_change,
                shown_as=shown,
            )
        )
    return load_out(report, shown)


class ProfileSourceIn(BaseModel):
    """A table of a PostgreSQL database to use as the profiles, in place (`segport
    profiles use`). The service checks it: 422 naming ``url``, ``table`` or
    ``id_column`` (no such table or column, ids missing or repeated, the database out of
    reach: ``profiles_unreachable``); 409 ``schema_change_refused`` when a column a
    segment or export uses is missing or has another type."""

    url: SecretStr = Field(
        min_length=1,
        max_length=2000,
        json_schema_extra={"format": "password", "writeOnly": True},
        description="postgresql://USER:PASSWORD@HOST:PORT/DATABASE: kept by the workspace, "
        "never answered (sources show it without its password).",
    )
    table: str = Field(min_length=1, max_length=200, description="TABLE or SCHEMA.TABLE.")
    id_column: str = Field(min_length=1, max_length=200, description="Its unique profile id.")
    allow_schema_change: bool = Field(
        default=False,
        description="Use it even if a column a segment or export uses is missing or has "
        "another type.",
    )


@router.put(
    "/source",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Use a table of a PostgreSQL database as the profiles (admins)",
)
def put_source(body: ProfileSourceIn, who: ActorDep, srv: ServerDep) -> ProfileSourceOut:
    """Nothing is copied: segments and exports read the table where it is. Answers the
    source as `GET /profiles` does (its `location` without the password)."""
    info = use_table(
        srv.ws,
        who,
        body.url.get_secret_value(),
        body.table,
        body.id_column,
        allow_schema_change=body.allow_schema_change,
    )
    return ProfileSourceOut.model_validate(to_json(info))

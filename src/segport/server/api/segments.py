"""Segments: the list with members and state, one segment, create, change (definition,
description, name), activate/deactivate, delete, count and preview its members; and a
definition counted and previewed without saving it (the rule builder's live count)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from segport.server.api.segment_models import (
    Draft,
    DraftOut,
    NewSegment,
    SegmentChange,
    SegmentCount,
    SegmentDeleted,
    SegmentOut,
    SegmentPage,
    SegmentPreview,
    SegmentState,
)
from segport.server.auth import ActorDep
from segport.server.context import Server, server
from segport.server.problems import problem_responses
from segport.service import (
    count_segment,
    create_segment,
    delete_segment,
    edit_segment,
    list_segments,
    preview_segment,
    set_state,
    show_segment,
    to_json,
    try_segment,
)

router = APIRouter(prefix="/segments", tags=["segments"])
ServerDep = Annotated[Server, Depends(server)]
Name = Annotated[str, Path(min_length=1, max_length=100, description="The segment's name.")]
Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Skip this many items first.")]
# 404: the segment (or one a combination names) is not there, or no profiles are loaded.
READ = (401, 403, 404, 422)


@router.get("", responses=problem_responses(*READ), summary="List the segments")
def get_segments(
    who: ActorDep,
    srv: ServerDep,
    limit: Limit = 50,
    offset: Offset = 0,
    refresh: Annotated[
        bool, Query(description="Count every segment's members now (else the last count).")
    ] = False,
) -> SegmentPage:
    """Every segment by name, with its state and its members at the last evaluation."""
    infos = list_segments(srv.ws, who, refresh=refresh)
    return SegmentPage(
        total=len(infos),
        offset=offset,
        limit=limit,
        items=[SegmentOut.model_validate(to_json(i)) for i in infos[offset : offset + limit]],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(*READ),
    summary="Create a segment (contributors and admins)",
)
def post_segment(body: NewSegment, who: ActorDep, srv: ServerDep) -> SegmentOut:
    """Give exactly one of `where`, `rule` and `combine` (422 `rule_required`, field
    `rule`). The definition is checked on the profile table before it is saved: an unknown
    attribute or a type mismatch is 422 `rule_invalid` naming the field it came from; a
    combination naming no segment is 404 `segment_not_found`. A name taken: 422
    `segment_exists`, field `name`."""
    info = create_segment(
        srv.ws,
        who,
        body.name,
        where=body.where,
        combine=body.combine,
        document=body.rule,
        description=body.description,
    )
    return SegmentOut.model_validate(to_json(info))


@router.post(
    "/count",
    responses=problem_responses(*READ),
    summary="Count and preview a definition without saving it",
)
def post_draft_count(body: Draft, who: ActorDep, srv: ServerDep) -> DraftOut:
    """The checks of creating it (the same refusals, with their fields), then its members
    counted and the first `limit` of them by id. Nothing is saved."""
    draft = try_segment(
        srv.ws,
        who,
        name=body.name,
        where=body.where,
        combine=body.combine,
        document=body.rule,
        limit=body.limit,
    )
    return DraftOut.model_validate(to_json(draft))


@router.get("/{name}", responses=problem_responses(*READ), summary="One segment")
def get_segment(name: Name, who: ActorDep, srv: ServerDep) -> SegmentOut:
    """With the combinations and the exports that use it."""
    return SegmentOut.model_validate(to_json(show_segment(srv.ws, who, name)))


@router.patch(
    "/{name}",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Change a segment: definition, description, name (contributors and admins)",
)
def patch_segment(name: Name, body: SegmentChange, who: ActorDep, srv: ServerDep) -> SegmentOut:
    """A new definition is checked like a new segment's, with every combination using it.
    Renaming a segment an export uses: 409 `segment_in_use` (the combinations using it
    follow the new name). Nothing given: 422 `nothing_to_change`."""
    info = edit_segment(
        srv.ws,
        who,
        name,
        new_name=body.new_name,
        where=body.where,
        combine=body.combine,
        document=body.rule,
        description=body.description,
    )
    return SegmentOut.model_validate(to_json(info))


@router.put(
    "/{name}/state",
    responses=problem_responses(*READ),
    summary="Activate or deactivate a segment (contributors and admins)",
)
def put_state(name: Name, body: SegmentState, who: ActorDep, srv: ServerDep) -> SegmentOut:
    info = set_state(srv.ws, who, name, active=body.state == "active")
    return SegmentOut.model_validate(to_json(info))


@router.delete(
    "/{name}",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Delete a segment (contributors and admins)",
)
def delete_one(name: Name, who: ActorDep, srv: ServerDep) -> SegmentDeleted:
    """Refused while an export or a combination uses it: 409 `segment_in_use`, with
    `details.exports` or `details.combinations`."""
    delete_segment(srv.ws, who, name)
    return SegmentDeleted(name=name)


@router.get(
    "/{name}/count",
    responses=problem_responses(*READ),
    summary="Count a segment's members now",
)
def get_count(name: Name, who: ActorDep, srv: ServerDep) -> SegmentCount:
    """The count is kept as the segment's last evaluation (`member_count`)."""
    return SegmentCount(name=name, member_count=count_segment(srv.ws, who, name))


@router.get(
    "/{name}/preview",
    responses=problem_responses(*READ),
    summary="A segment's first members",
)
def get_preview(
    name: Name,
    who: ActorDep,
    srv: ServerDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many members.")] = 10,
    columns: Annotated[
        list[str] | None,
        Query(max_length=50, description="The attributes to show (default: all)."),
    ] = None,
) -> SegmentPreview:
    """The first `limit` members by id; an unknown attribute in `columns` is 422
    `profiles_invalid`."""
    rows = preview_segment(srv.ws, who, name, limit=limit, columns=columns or None)
    return SegmentPreview.model_validate({"name": name, **to_json(rows)})  # type: ignore[dict-item]

"""What a connection's Brevo account holds, for the export form: its lists, folders and
contact attributes, and creating a list or an attribute there.

Whoever may put exports on the connection may (admins: any; contributors: the ones shared
with contributors, else 403 `connection_not_shared`; viewers: 403). Brevo is asked each
time; its refusals are 502 (kind `unavailable`) with Brevo's word.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from segport.server.api.export_models import (
    BrevoAttribute,
    BrevoAttributePage,
    BrevoFolder,
    BrevoFolderPage,
    BrevoList,
    BrevoListPage,
    FolderId,
    NewBrevoAttribute,
    NewBrevoList,
)
from segport.server.api.exports import body_fields
from segport.server.auth import ActorDep
from segport.server.context import Server, server
from segport.server.problems import problem_responses
from segport.service import (
    create_brevo_attribute,
    create_brevo_list,
    list_brevo_attributes,
    list_brevo_folders,
    list_brevo_lists,
    to_json,
)

router = APIRouter(prefix="/connections/{name}/brevo", tags=["brevo"])
ServerDep = Annotated[Server, Depends(server)]
Name = Annotated[str, Path(min_length=1, max_length=200, description="The connection's name.")]
Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Skip this many items first.")]
BREVO = 502
READ = problem_responses(401, 403, 404, 422, BREVO)


@router.get("/lists", responses=READ, summary="The account's lists")
def get_lists(
    name: Name,
    who: ActorDep,
    srv: ServerDep,
    folder_id: Annotated[FolderId | None, Query(description="Only this folder's.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> BrevoListPage:
    """By id, with Brevo's count of contacts."""
    lists = list_brevo_lists(srv.ws, who, name, folder_id=folder_id)
    return BrevoListPage(
        total=len(lists),
        offset=offset,
        limit=limit,
        items=[BrevoList.model_validate(to_json(x)) for x in lists[offset : offset + limit]],
    )


@router.post(
    "/lists",
    status_code=status.HTTP_201_CREATED,
    responses=READ,
    summary="Create a list in the account",
)
def post_list(name: Name, body: NewBrevoList, who: ActorDep, srv: ServerDep) -> BrevoList:
    """Refused (422 `brevo_list_exists`) when the account has a list of that name: Brevo
    would make a second one. Audited."""
    view = create_brevo_list(srv.ws, who, name, body.name, folder_id=body.folder_id)
    return BrevoList.model_validate(to_json(view))


@router.get("/folders", responses=READ, summary="The account's contact folders")
def get_folders(
    name: Name, who: ActorDep, srv: ServerDep, limit: Limit = 50, offset: Offset = 0
) -> BrevoFolderPage:
    folders = list_brevo_folders(srv.ws, who, name)
    return BrevoFolderPage(
        total=len(folders),
        offset=offset,
        limit=limit,
        items=[BrevoFolder.model_validate(to_json(f)) for f in folders[offset : offset + limit]],
    )


@router.get("/attributes", responses=READ, summary="The account's contact attributes")
def get_attributes(
    name: Name, who: ActorDep, srv: ServerDep, limit: Limit = 200, offset: Offset = 0
) -> BrevoAttributePage:
    """By category, then name: what data matching may map."""
    attributes = list_brevo_attributes(srv.ws, who, name)
    return BrevoAttributePage(
        total=len(attributes),
        offset=offset,
        limit=limit,
        items=[
            BrevoAttribute.model_validate(to_json(a)) for a in attributes[offset : offset + limit]
        ],
    )


@router.post(
    "/attributes",
    status_code=status.HTTP_201_CREATED,
    responses=READ,
    summary="Create a contact attribute in the account",
)
def post_attribute(
    name: Name, body: NewBrevoAttribute, who: ActorDep, srv: ServerDep
) -> BrevoAttribute:
    """A normal attribute of `type`; 422 `brevo_attribute_exists` when the account has
    one of that name. Audited."""
    with body_fields({"attribute_type": "type"}):
        view = create_brevo_attribute(srv.ws, who, name, body.name, body.type)
    return BrevoAttribute.model_validate(to_json(view))

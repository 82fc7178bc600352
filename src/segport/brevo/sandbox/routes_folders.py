"""Routes: contact folders (list, create, read, rename, delete) and the lists in a folder."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segport.brevo.sandbox.errors import json_response, not_found
from segport.brevo.sandbox.params import (
    body_str,
    ctx,
    json_body,
    path_int,
    query_int,
    query_sort,
)
from segport.brevo.sandbox.records import Folder
from segport.brevo.sandbox.state import AccountState

FOLDER_NOT_FOUND = "Folder ID does not exist"


def require_folder(state: AccountState, folder_id: int) -> Folder:
    """The folder, or Brevo's 404 (callers hold the lock)."""
    folder = state.folders.get(folder_id)
    if folder is None:
        raise not_found(FOLDER_NOT_FOUND)
    return folder


def _folder_json(state: AccountState, folder: Folder) -> dict[str, object]:
    members: set[int] = set()
    for lst in state.lists.values():
        if lst.folder_id == folder.id:
            members |= lst.members
    return folder.to_api(len(members))


async def get_folders(request: Request) -> Response:
    limit = query_int(request, "limit", 10, 0, 50)
    offset = query_int(request, "offset", 0)
    sort = query_sort(request)
    state = ctx(request).state
    with state.lock:
        folders = sorted(state.folders.values(), key=lambda f: f.id, reverse=sort == "desc")
        out = [_folder_json(state, f) for f in folders[offset : offset + limit]]
        return json_response({"folders": out, "count": len(folders)})


async def create_folder(request: Request) -> Response:
    body, _ = await json_body(request)
    name = body_str(body, "name")
    assert name is not None
    state = ctx(request).state
    with state.lock:
        folder = Folder(state.new_id("folder"), name)
        state.folders[folder.id] = folder
    return json_response({"id": folder.id}, 201)


async def get_folder(request: Request) -> Response:
    folder_id = path_int(request, "folderId")
    state = ctx(request).state
    with state.lock:
        return json_response(_folder_json(state, require_folder(state, folder_id)))


async def update_folder(request: Request) -> Response:
    folder_id = path_int(request, "folderId")
    body, _ = await json_body(request)
    name = body_str(body, "name")
    assert name is not None
    state = ctx(request).state
    with state.lock:
        require_folder(state, folder_id).name = name
    return Response(status_code=204)


async def delete_folder(request: Request) -> Response:
    """Deletes the folder and every list in it (SPEC: "Delete a folder (and all its lists)").

    Contacts stay, as when a list is deleted; they only lose those lists.
    """
    folder_id = path_int(request, "folderId")
    state = ctx(request).state
    with state.lock:
        require_folder(state, folder_id)
        for list_id in [lid for lid, lst in state.lists.items() if lst.folder_id == folder_id]:
            del state.lists[list_id]
        del state.folders[folder_id]
    return Response(status_code=204)


async def get_folder_lists(request: Request) -> Response:
    folder_id = path_int(request, "folderId")
    state = ctx(request).state
    with state.lock:
        return lists_page(request, state, folder_id)


def lists_page(request: Request, state: AccountState, folder_id: int | None = None) -> Response:
    """One page of the account's lists (of folder ``folder_id``), as Brevo pages them:
    ``limit`` ≤ 50 (default 10), ``offset``, ``sort`` by id. Callers hold the lock."""
    limit = query_int(request, "limit", 10, 0, 50)
    offset = query_int(request, "offset", 0)
    sort = query_sort(request)
    if folder_id is not None:
        require_folder(state, folder_id)
    lists = sorted(
        (x for x in state.lists.values() if folder_id is None or x.folder_id == folder_id),
        key=lambda x: x.id,
        reverse=sort == "desc",
    )
    items = [x.to_api() for x in lists[offset : offset + limit]]
    return json_response({"lists": items, "count": len(lists)})


routes = [
    Route("/v3/contacts/folders", get_folders, methods=["GET"]),
    Route("/v3/contacts/folders", create_folder, methods=["POST"]),
    Route("/v3/contacts/folders/{folderId}", get_folder, methods=["GET"]),
    Route("/v3/contacts/folders/{folderId}", update_folder, methods=["PUT"]),
    Route("/v3/contacts/folders/{folderId}", delete_folder, methods=["DELETE"]),
    Route("/v3/contacts/folders/{folderId}/lists", get_folder_lists, methods=["GET"]),
]

"""Routes: lists, and list membership (read, add, remove)."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segport.brevo.sandbox.errors import bad_request, json_response
from segport.brevo.sandbox.params import (
    body_int,
    body_str,
    ctx,
    json_body,
    path_int,
    query_int,
    query_sort,
    query_time,
)
from segport.brevo.sandbox.records import ContactList
from segport.brevo.sandbox.routes_folders import lists_page, require_folder
from segport.brevo.sandbox.state import AccountState
from segport.brevo.sandbox.values import normalize_email

MAX_MEMBERS_PER_CALL = 150


async def get_lists(request: Request) -> Response:
    state = ctx(request).state
    with state.lock:
        return lists_page(request, state)


async def create_list(request: Request) -> Response:
    body, _ = await json_body(request)
    name = body_str(body, "name")
    folder_id = body_int(body, "folderId")
    assert folder_id is not None  # (required: body_int raised otherwise)
    state = ctx(request).state
    with state.lock:
        require_folder(state, folder_id)  # Brevo: 404 document_not_found
        list_id = state.create_list(name or "", folder_id)
    return json_response({"id": list_id}, 201)


async def get_list(request: Request) -> Response:
    list_id = path_int(request, "listId")
    state = ctx(request).state
    with state.lock:
        return json_response(state.require_list(list_id).to_api(extended=True))


async def update_list(request: Request) -> Response:
    list_id = path_int(request, "listId")
    body, _ = await json_body(request)
    name = body_str(body, "name", required=False)
    folder_id = body_int(body, "folderId", required=False)
    if name is None and folder_id is None:
        raise bad_request("Give name or folderId to update the list", "missing_parameter")
    state = ctx(request).state
    with state.lock:
        lst = state.require_list(list_id)
        if folder_id is not None:
            require_folder(state, folder_id)
            lst.folder_id = folder_id
        if name is not None:
            lst.name = name
    return Response(status_code=204)


async def delete_list(request: Request) -> Response:
    """Deletes the list, never its contacts (as Brevo does)."""
    list_id = path_int(request, "listId")
    state = ctx(request).state
    with state.lock:
        state.require_list(list_id)
        del state.lists[list_id]
    return Response(status_code=204)


async def get_list_contacts(request: Request) -> Response:
    list_id = path_int(request, "listId")
    limit = query_int(request, "limit", 50, 0, 500)
    offset = query_int(request, "offset", 0)
    sort = query_sort(request)
    since = query_time(request, "modifiedSince")
    state = ctx(request).state
    with state.lock:
        lst = state.require_list(list_id)
        ids = lst.sorted_members()
        if since is not None:
            ids = [i for i in ids if state.contacts[i].modified > since]
        total = len(ids)
        if sort == "desc":
            chosen = ids[::-1][offset : offset + limit] if offset < total else []
        else:
            chosen = ids[offset : offset + limit]
        contacts = [state.contact_json(state.contacts[i]) for i in chosen]
        return json_response({"contacts": contacts, "count": total})


def _members_request(body: dict[str, Any], allow_all: bool) -> tuple[str, list[Any]]:
    keys = [k for k in ("emails", "ids", "extIds") if k in body]
    if allow_all and body.get("all") is True:
        if keys:
            raise bad_request("Give either all or one of emails, ids, extIds, not both")
        return "all", []
    choices = "emails, ids, extIds" + (" or all" if allow_all else "")
    if len(keys) > 1:
        # PY5 types the body as one of these; the 2024 spec says the others are "ignored"
        raise bad_request(f"Give only one of {choices}, got {', '.join(keys)}")
    if not keys:
        raise bad_request(f"Give one of {choices}", "missing_parameter")
    key = keys[0]
    values = body[key]
    if not isinstance(values, list) or not values:
        raise bad_request(f"{key} should be a non-empty array")
    if len(values) > MAX_MEMBERS_PER_CALL:
        raise bad_request(
            f"{key}: at most {MAX_MEMBERS_PER_CALL} items per call, got {len(values)}; "
            "use /contacts/import to add contacts in bulk",
            "out_of_range",
        )
    want = int if key == "ids" else str
    if not all(isinstance(v, want) and not isinstance(v, bool) for v in values):
        raise bad_request(f"{key} should be an array of {'integers' if want is int else 'strings'}")
    return key, values


def _resolve(state: AccountState, key: str, value: Any) -> int | None:
    if key == "ids":
        return value if value in state.contacts else None
    if key == "emails":
        email = normalize_email(value)
        c = state.by_email.get(email) if email else None
        return c.id if c is not None else None
    return state.by_ext_id.get(value)


def _change(state: AccountState, lst: ContactList, key: str, values: list[Any], add: bool) -> Any:
    success: list[Any] = []
    failure: list[Any] = []
    now = time.time()
    for value in values:
        cid = _resolve(state, key, value)
        if cid is None or (cid in lst.members) == add:
            failure.append(value)
            continue
        if add:
            lst.members.add(cid)
        else:
            lst.members.discard(cid)
        state.contacts[cid].modified = now
        success.append(value)
    if success:
        lst.touch()
    return success, failure


async def add_to_list(request: Request) -> Response:
    list_id = path_int(request, "listId")
    body, _ = await json_body(request)
    key, values = _members_request(body, allow_all=False)
    state = ctx(request).state
    with state.lock:
        lst = state.require_list(list_id)
        success, failure = _change(state, lst, key, values, add=True)
    if not success:
        raise bad_request("Contact already in list and/or does not exist")
    return json_response({"contacts": {"success": success, "failure": failure}}, 201)


async def remove_from_list(request: Request) -> Response:
    list_id = path_int(request, "listId")
    body, _ = await json_body(request)
    key, values = _members_request(body, allow_all=True)
    state = ctx(request).state
    with state.lock:
        lst = state.require_list(list_id)
        if key == "all":
            total = len(lst.members)
            lst.members.clear()
            lst.touch()
            proc = state.new_process("REMOVE_LIST_CONTACTS", "completed")
            return json_response({"contacts": {"total": total, "processId": proc.id}}, 201)
        success, failure = _change(state, lst, key, values, add=False)
    if not success:
        raise bad_request("Contact already removed from list and/or does not exist")
    return json_response({"contacts": {"success": success, "failure": failure}}, 201)


routes = [
    Route("/v3/contacts/lists", get_lists, methods=["GET"]),
    Route("/v3/contacts/lists", create_list, methods=["POST"]),
    Route("/v3/contacts/lists/{listId}", get_list, methods=["GET"]),
    Route("/v3/contacts/lists/{listId}", update_list, methods=["PUT"]),
    Route("/v3/contacts/lists/{listId}", delete_list, methods=["DELETE"]),
    Route("/v3/contacts/lists/{listId}/contacts", get_list_contacts, methods=["GET"]),
    Route("/v3/contacts/lists/{listId}/contacts/add", add_to_list, methods=["POST"]),
    Route("/v3/contacts/lists/{listId}/contacts/remove", remove_from_list, methods=["POST"]),
]

"""Routes: contacts (list, create, read, update, delete) and the bulk import."""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segport.brevo.sandbox import routes_batch
from segport.brevo.sandbox.contact_updates import apply_update, check_update, read_update
from segport.brevo.sandbox.errors import ApiProblem, bad_request, json_response, not_found
from segport.brevo.sandbox.identifiers import Method, resolve
from segport.brevo.sandbox.imports import prepare_import
from segport.brevo.sandbox.params import (
    body_bool,
    body_int_list,
    ctx,
    json_body,
    query_int,
    query_sort,
    query_time,
)
from segport.brevo.sandbox.records import Contact
from segport.brevo.sandbox.state import AccountState
from segport.brevo.sandbox.values import is_empty, normalize_email, normalize_sms

# "You can pass a maximum of 20 IDs" (PY5 get_contacts; the 2024 spec has no ids filter)
MAX_IDS_FILTER = 20
_FILTER_RE = re.compile(r'equals\(\s*([A-Za-z0-9_-]+)\s*,\s*"?(.*?)"?\s*\)')


async def import_contacts(request: Request) -> Response:
    body, size = await json_body(request)
    context = ctx(request)
    assert context.worker is not None, "the server starts its import worker before serving"
    job = prepare_import(context.state, body, size)
    context.worker.submit(job)
    return json_response({"processId": job.process_id}, 202)


def _query_ids(request: Request, name: str) -> list[int] | None:
    raw = request.query_params.getlist(name)
    if not raw:
        return None
    out: list[int] = []
    for part in ",".join(raw).split(","):
        if not part.strip().isdigit():
            raise bad_request(f"{name} should be integers separated by commas, got {part!r}")
        out.append(int(part))
    return out


async def get_contacts(request: Request) -> Response:
    limit = query_int(request, "limit", 50, 0, 1000)
    offset = query_int(request, "offset", 0)
    sort = query_sort(request)
    modified_since = query_time(request, "modifiedSince")
    created_since = query_time(request, "createdSince")
    list_ids = _query_ids(request, "listIds")
    ids = _query_ids(request, "ids")
    segment_id = (
        query_int(request, "segmentId", 0, 1) if request.query_params.get("segmentId") else None
    )
    if segment_id is not None and list_ids is not None:
        # "Either listIds or segmentId can be passed" (spec, getContacts)
        raise bad_request("Give either listIds or segmentId, not both")
    if ids is not None and len(ids) > MAX_IDS_FILTER:
        raise bad_request(
            f"ids: at most {MAX_IDS_FILTER} contact ids per call, got {len(ids)}", "out_of_range"
        )
    raw_filter = request.query_params.get("filter")
    flt: tuple[str, str] | None = None
    if raw_filter:
        m = _FILTER_RE.fullmatch(raw_filter.strip())
        if m is None:
            raise bad_request('filter should look like equals(FIRSTNAME,"Antoine")')
        flt = (m[1].upper(), m[2])
    state = ctx(request).state
    with state.lock:
        if segment_id is not None:
            raise not_found(f"segmentId: segment {segment_id} does not exist")
        members: set[int] | None = None
        for lid in list_ids or []:
            lst = state.require_list(lid)
            members = lst.members if members is None else members | lst.members
        chosen: list[Contact] = []
        for c in state.contacts.values():
            if members is not None and c.id not in members:
                continue
            if ids is not None and c.id not in ids:
                continue
            if modified_since is not None and c.modified <= modified_since:
                continue
            if created_since is not None and c.created <= created_since:
                continue
            if flt is not None and str(c.attrs.get(flt[0], "")).lower() != flt[1].lower():
                continue
            chosen.append(c)
        if sort == "desc":
            chosen.reverse()
        page = [state.contact_json(c) for c in chosen[offset : offset + limit]]
        return json_response({"contacts": page, "count": len(chosen)})


def _check_lists(state: AccountState, list_ids: list[int] | None, field: str) -> None:
    for lid in list_ids or []:
        if lid not in state.lists:
            raise bad_request(f"{field}: list {lid} does not exist")


def _check_ext_id(state: AccountState, contact: Contact | None, ext_id: Any, verb: str) -> None:
    if ext_id is None:
        return
    if not isinstance(ext_id, str):
        raise bad_request("ext_id should be a string")
    owner = state.by_ext_id.get(ext_id)
    if owner is not None and (contact is None or owner != contact.id):
        raise ApiProblem(
            400,
            "duplicate_parameter",
            f"Unable to {verb} contact, ext_id is already associated with another Contact",
            {"duplicate_identifiers": ["ext_id"]},
        )


def _take_sms(state: AccountState, contact: Contact | None, raw: Any, verb: str) -> str | None:
    sms = normalize_sms(str(raw))
    if sms is None:
        raise bad_request(f"Invalid phone number {raw!r}: give the country code, e.g. +33612345678")
    owner = state.by_sms.get(sms)
    if owner is not None and (contact is None or owner != contact.id):
        raise ApiProblem(
            400,
            "duplicate_parameter",
            f"Unable to {verb} contact, SMS is already associated with another Contact",
            {"duplicate_identifiers": ["SMS"]},
        )
    return sms


async def create_contact(request: Request) -> Response:
    body, _ = await json_body(request)
    attrs = body.get("attributes") or {}
    if not isinstance(attrs, dict):
        raise bad_request("attributes should be an object")
    attrs = {str(k).upper(): v for k, v in attrs.items()}
    raw_email = body.get("email")
    ext_id = body.get("ext_id")
    update_enabled = body_bool(body, "updateEnabled")
    list_ids = body_int_list(body, "listIds")
    email_bl = body.get("emailBlacklisted")
    sms_bl = body.get("smsBlacklisted")
    for name, flag in (("emailBlacklisted", email_bl), ("smsBlacklisted", sms_bl)):
        if flag is not None and not isinstance(flag, bool):
            raise bad_request(f"{name} should be a boolean")
    raw_sms = attrs.pop("SMS", None)
    if is_empty(raw_email) and is_empty(raw_sms) and is_empty(ext_id):
        raise bad_request(
            "Please provide Email or SMS attribute value to create user", "missing_parameter"
        )
    email = None
    if not is_empty(raw_email) and (
        not isinstance(raw_email, str) or (email := normalize_email(raw_email)) is None
    ):
        raise bad_request(f"email: {raw_email!r} is not a valid email address")
    state = ctx(request).state
    with state.lock:
        _check_lists(state, list_ids, "listIds")
        existing = state.by_email.get(email) if email else None
        if existing is None and is_empty(raw_email) and not is_empty(raw_sms):
            sms_key = normalize_sms(str(raw_sms))
            owner = state.by_sms.get(sms_key) if sms_key else None
            existing = state.contacts.get(owner) if owner is not None else None
        if existing is not None and not update_enabled:
            raise ApiProblem(
                400,
                "duplicate_parameter",
                "Unable to create contact, email is already associated with another Contact",
                {"duplicate_identifiers": ["email" if email else "SMS"]},
            )
        verb = "update" if existing is not None else "create"
        sms = _take_sms(state, existing, raw_sms, verb) if not is_empty(raw_sms) else None
        _check_ext_id(state, existing, ext_id or None, verb)
        now = time.time()
        contact = existing or Contact(state.new_id("contact"), email, {}, now)
        if existing is None:
            state.add_contact(contact)
        contact.modified = now
        if sms is not None:
            state.set_sms(contact, sms)
        if isinstance(ext_id, str) and ext_id:
            state.set_ext_id(contact, ext_id)
        state.apply_attributes(contact, attrs, erase_empty=False)
        if email_bl is not None:
            contact.email_blacklisted = email_bl
        if sms_bl is not None:
            contact.sms_blacklisted = sms_bl
        state.add_to_lists(contact.id, list_ids or [])
    if existing is not None:
        return Response(status_code=204)
    return json_response({"id": contact.id}, 201)


def _find(request: Request, state: AccountState, method: Method) -> Contact:
    return resolve(
        state,
        request.path_params["identifier"],
        request.query_params.get("identifierType"),
        method,
    )


async def get_contact(request: Request) -> Response:
    state = ctx(request).state
    with state.lock:
        out = state.contact_json(_find(request, state, "GET"))
    out["statistics"] = {}
    return json_response(out)


async def update_contact(request: Request) -> Response:
    body, _ = await json_body(request)
    update = read_update(body)
    state = ctx(request).state
    with state.lock:
        contact = _find(request, state, "PUT")
        apply_update(state, check_update(state, contact, update))
    return Response(status_code=204)


async def delete_contact(request: Request) -> Response:
    state = ctx(request).state
    with state.lock:
        state.remove_contact(_find(request, state, "DELETE"))
    return Response(status_code=204)


routes = [
    Route("/v3/contacts/import", import_contacts, methods=["POST"]),
    Route("/v3/contacts", get_contacts, methods=["GET"]),
    Route("/v3/contacts", create_contact, methods=["POST"]),
    *routes_batch.routes,  # (before /contacts/{identifier})
    Route("/v3/contacts/{identifier}", get_contact, methods=["GET"]),
    Route("/v3/contacts/{identifier}", update_contact, methods=["PUT"]),
    Route("/v3/contacts/{identifier}", delete_contact, methods=["DELETE"]),
]

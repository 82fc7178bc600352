"""Route: POST /contacts/batch (updateBatchContacts), several updates in one call.

Each item names its contact by exactly one of `email`, `id` or `sms` (spec
`updateBatchContacts_contacts`) and carries the fields of PUT /contacts/{identifier}.
All-or-nothing, as Brevo is: an unknown contact makes the whole batch answer 404
`No contact found for indexes …` and nothing changes (api-notes §7, brevo-php#7); any
other bad item is a 400 naming it, and nothing changes either.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segport.brevo.sandbox.contact_updates import (
    CheckedUpdate,
    apply_update,
    check_update,
    read_update,
)
from segport.brevo.sandbox.errors import bad_request, not_found
from segport.brevo.sandbox.identifiers import lookup
from segport.brevo.sandbox.params import ctx, json_body
from segport.brevo.sandbox.records import Contact
from segport.brevo.sandbox.state import AccountState

_KEYS = ("email", "id", "sms")


def _identifier(item: dict[str, Any], where: str) -> tuple[str, str]:
    """(identifierType, value) of a batch item; 400 unless exactly one of email/id/sms."""
    given = [k for k in _KEYS if item.get(k) is not None]
    if len(given) != 1:
        raise bad_request(
            f"{where}: give exactly one of email, id or sms to name the contact, "
            f"got {', '.join(given) or 'none'}",
            "missing_parameter" if not given else "invalid_parameter",
        )
    key = given[0]
    value = item[key]
    if key == "id":
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise bad_request(f"{where}.id should be a positive integer (a contact id)")
        return "contact_id", str(value)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{where}.{key} should be a non-empty string")
    return ("email_id" if key == "email" else "phone_id"), value.strip()


def _items(body: dict[str, Any]) -> list[dict[str, Any]]:
    items = body.get("contacts")
    if items is None:
        raise bad_request(
            "contacts is missing: give an array of contacts to update", "missing_parameter"
        )
    if not isinstance(items, list) or not items:
        raise bad_request("contacts should be a non-empty array of contacts to update")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise bad_request(f"contacts[{i}] should be an object")
    return items


def _check_all(state: AccountState, items: list[dict[str, Any]]) -> list[CheckedUpdate]:
    found: list[tuple[Contact, int]] = []
    missing: list[int] = []
    for i, item in enumerate(items):
        kind, value = _identifier(item, f"contacts[{i}]")
        contact = lookup(state, value, kind)
        if contact is None:
            missing.append(i)
        else:
            found.append((contact, i))
    if missing:
        raise not_found(f"No contact found for indexes {','.join(map(str, missing))}")
    claimed: dict[str, int] = {}
    checked = []
    for contact, i in found:
        update = read_update(items[i], f"contacts[{i}].")
        checked.append(check_update(state, contact, update, claimed))
    return checked


async def update_batch_contacts(request: Request) -> Response:
    body, _ = await json_body(request)
    items = _items(body)
    for i, item in enumerate(items):
        read_update(item, f"contacts[{i}].")  # field types first: a 400 before any lookup
    state = ctx(request).state
    with state.lock:
        checked = _check_all(state, items)
        now = time.time()
        for one in checked:
            apply_update(state, one, now)
    return Response(status_code=204)


routes = [Route("/v3/contacts/batch", update_batch_contacts, methods=["POST"])]

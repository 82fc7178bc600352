"""Which contact `/contacts/{identifier}` names: Brevo's identifierType rules, strictly.

Brevo (PY5 docstrings, developers.brevo.com get-contact-info / update-contact /
delete-contact) looks an identifier up in one of two ways:

- with `?identifierType=` (email_id, phone_id, contact_id, ext_id, whatsapp_id,
  landline_number_id): by that identifier only;
- without it: GET accepts an email, a contact id or an SMS number; PUT and DELETE accept
  an email or a contact id only.

So code that forgets `identifierType=ext_id` fails in production; the sandbox makes it
fail the same way instead of finding the contact anyway.
"""

from __future__ import annotations

from typing import Literal

from segport.brevo.sandbox.errors import bad_request, not_found
from segport.brevo.sandbox.records import Contact
from segport.brevo.sandbox.state import AccountState
from segport.brevo.sandbox.values import normalize_sms

IDENTIFIER_TYPES = (
    "email_id",
    "phone_id",
    "contact_id",
    "ext_id",
    "whatsapp_id",
    "landline_number_id",
)
Method = Literal["GET", "PUT", "DELETE"]

NOT_FOUND = "Contact does not exist"


def _infer(ident: str, method: Method) -> str | None:
    """The identifierType Brevo assumes when none is given, or None when it assumes none."""
    if "@" in ident:
        return "email_id"
    if ident.isdigit():
        return "contact_id"
    if method == "GET" and normalize_sms(ident) is not None:
        return "phone_id"
    return None


def _by_phone(state: AccountState, ident: str, attr: str) -> Contact | None:
    number = normalize_sms(ident)
    if number is None:
        return None
    if attr == "SMS":
        cid = state.by_sms.get(number)
        return state.contacts.get(cid) if cid is not None else None
    # WHATSAPP and LANDLINE_NUMBER are plain attributes (no index): compare as numbers
    for contact in state.contacts.values():
        value = contact.attrs.get(attr)
        if isinstance(value, str) and normalize_sms(value) == number:
            return contact
    return None


def lookup(state: AccountState, ident: str, kind: str) -> Contact | None:
    """The contact an identifier of a given type names (callers hold the lock)."""
    if kind == "email_id":
        found = state.by_email.get(ident.lower())
        return found
    if kind == "contact_id":
        return state.contacts.get(int(ident)) if ident.isdigit() else None
    if kind == "ext_id":
        cid = state.by_ext_id.get(ident)
        return state.contacts.get(cid) if cid is not None else None
    attr = {"phone_id": "SMS", "whatsapp_id": "WHATSAPP", "landline_number_id": "LANDLINE_NUMBER"}
    return _by_phone(state, ident, attr[kind])


def resolve(
    state: AccountState, identifier: str, identifier_type: str | None, method: Method
) -> Contact:
    """The contact `/contacts/{identifier}` names, or a Brevo-shaped 400/404."""
    ident = identifier.strip()
    if identifier_type is not None and identifier_type not in IDENTIFIER_TYPES:
        raise bad_request(
            f"identifierType: expected one of {', '.join(IDENTIFIER_TYPES)}, "
            f"got {identifier_type!r}"
        )
    kind = identifier_type or _infer(ident, method)
    if kind is None:
        # Brevo's exact answer here is not documented; it finds no contact.
        accepted = (
            "an email, a contact id or an SMS number"
            if method == "GET"
            else ("an email or a contact id")
        )
        raise not_found(
            f"{NOT_FOUND}: without identifierType, {method} /contacts/{{identifier}} takes "
            f"{accepted}; pass identifierType (e.g. ext_id) to use another identifier"
        )
    contact = lookup(state, ident, kind)
    if contact is None and identifier_type is None and kind == "contact_id" and method == "GET":
        # GET also takes an SMS number, which is digits too (stored without `+`)
        contact = lookup(state, ident, "phone_id")
    if contact is None:
        raise not_found(NOT_FOUND)
    return contact

"""Updating an existing contact: the rules PUT /contacts/{identifier} and POST
/contacts/batch share (read the fields, check them against the account, apply them).

Checking and applying are separate so that a batch can check every contact before it
changes any (Brevo's batch is all-or-nothing).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from segport.brevo.sandbox.errors import ApiProblem, bad_request
from segport.brevo.sandbox.records import Contact
from segport.brevo.sandbox.state import AccountState
from segport.brevo.sandbox.values import is_empty, normalize_email, normalize_sms


@dataclass
class ContactUpdate:
    """The fields of one update, read and type-checked (not yet checked against the account)."""

    attributes: dict[str, Any] = field(default_factory=dict)
    ext_id: str | None = None
    email_blacklisted: bool | None = None
    sms_blacklisted: bool | None = None
    list_ids: list[int] = field(default_factory=list)
    unlink_list_ids: list[int] = field(default_factory=list)
    where: str = ""  # prefix naming the item in messages, e.g. "contacts[2]."


@dataclass
class CheckedUpdate:
    """An update checked against the account: the new email/SMS it sets, if any."""

    contact: Contact
    update: ContactUpdate
    new_email: str | None
    new_sms: str | None


def _int_list(body: dict[str, Any], name: str, where: str) -> list[int]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        raise bad_request(f"{where}{name} should be an array of integers (list ids)")
    return value


def read_update(body: dict[str, Any], where: str = "") -> ContactUpdate:
    """The update fields of a PUT body or of one batch item; 400 naming a bad field."""
    attrs = body.get("attributes")
    if attrs is None:
        attrs = {}
    if not isinstance(attrs, dict):
        raise bad_request(f"{where}attributes should be an object of attribute names to values")
    out = ContactUpdate(attributes={str(k).upper(): v for k, v in attrs.items()}, where=where)
    for name in ("emailBlacklisted", "smsBlacklisted"):
        flag = body.get(name)
        if flag is not None and not isinstance(flag, bool):
            raise bad_request(f"{where}{name} should be a boolean (true or false)")
    out.email_blacklisted = body.get("emailBlacklisted")
    out.sms_blacklisted = body.get("smsBlacklisted")
    ext_id = body.get("ext_id")
    if ext_id is not None and not isinstance(ext_id, str):
        raise bad_request(f"{where}ext_id should be a string")
    out.ext_id = ext_id or None
    out.list_ids = _int_list(body, "listIds", where)
    out.unlink_list_ids = _int_list(body, "unlinkListIds", where)
    return out


def _duplicate(what: str, key: str) -> ApiProblem:
    return ApiProblem(
        400,
        "duplicate_parameter",
        f"Unable to update contact, {what} is already associated with another Contact",
        {"duplicate_identifiers": [key]},
    )


def check_update(
    state: AccountState,
    contact: Contact,
    update: ContactUpdate,
    claimed: dict[str, int] | None = None,
) -> CheckedUpdate:
    """Check an update against the account (lists, duplicates); raises, changes nothing.

    `claimed` (a batch's) maps the emails, SMS numbers and ext_ids earlier items set to
    their contact, so two items of one batch cannot take the same identifier.
    """
    where = update.where
    claimed = claimed if claimed is not None else {}
    for name, ids in (("listIds", update.list_ids), ("unlinkListIds", update.unlink_list_ids)):
        for lid in ids:
            if lid not in state.lists:
                raise bad_request(f"{where}{name}: list {lid} does not exist")
    new_email = None
    raw = update.attributes.get("EMAIL")
    if not is_empty(raw):
        new_email = normalize_email(raw) if isinstance(raw, str) else None
        if new_email is None:
            raise bad_request(f"{where}attributes.EMAIL: {raw!r} is not a valid email address")
        holder = state.by_email.get(new_email)
        owner = claimed.get("email:" + new_email, holder.id if holder else None)
        if owner is not None and owner != contact.id:
            raise _duplicate("email", "email")
    new_sms = None
    raw_sms = update.attributes.get("SMS")
    if not is_empty(raw_sms):
        new_sms = normalize_sms(str(raw_sms))
        if new_sms is None:
            raise bad_request(
                f"{where}attributes.SMS: invalid phone number {raw_sms!r}; "
                "give the country code, e.g. +33612345678"
            )
        owner = claimed.get("sms:" + new_sms, state.by_sms.get(new_sms))
        if owner is not None and owner != contact.id:
            raise _duplicate("SMS", "SMS")
    if update.ext_id is not None:
        owner = claimed.get("ext:" + update.ext_id, state.by_ext_id.get(update.ext_id))
        if owner is not None and owner != contact.id:
            raise _duplicate("ext_id", "ext_id")
    for key in (
        "email:" + (new_email or ""),
        "sms:" + (new_sms or ""),
        "ext:" + (update.ext_id or ""),
    ):
        if not key.endswith(":"):
            claimed[key] = contact.id
    return CheckedUpdate(contact, update, new_email, new_sms)


def apply_update(state: AccountState, checked: CheckedUpdate, now: float | None = None) -> None:
    """Apply a checked update (callers hold the lock)."""
    contact, update = checked.contact, checked.update
    email_changed = checked.new_email is not None and checked.new_email != contact.email
    if checked.new_email is not None:
        state.set_email(contact, checked.new_email)
    if checked.new_sms is not None:
        state.set_sms(contact, checked.new_sms)
    if update.ext_id is not None:
        state.set_ext_id(contact, update.ext_id)
    attrs = {k: v for k, v in update.attributes.items() if k != "SMS"}
    state.apply_attributes(contact, attrs, erase_empty=True)
    if email_changed and update.email_blacklisted is None:
        # "If a blocklisted contact's email address is updated, it is going to remove that
        # blocklisting from the contact and they will be resubscribed" (Brevo, updateContact)
        contact.email_blacklisted = False
    if update.email_blacklisted is not None:
        contact.email_blacklisted = update.email_blacklisted
    if update.sms_blacklisted is not None:
        contact.sms_blacklisted = update.sms_blacklisted
    state.add_to_lists(contact.id, update.list_ids)
    for lid in update.unlink_list_ids:
        lst = state.lists[lid]
        if contact.id in lst.members:
            lst.members.discard(contact.id)
            lst.touch()
    contact.modified = now if now is not None else time.time()

"""The in-memory Brevo account a sandbox serves, with thread-safe helpers.

Routes and the import worker change it under `lock`; tests use the public helpers
(`list_member_emails`, `get_contact`, `create_list`, `upsert_contact`, `wait_idle`, ...).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from segport.brevo.sandbox.errors import ApiProblem, bad_request, not_found
from segport.brevo.sandbox.records import (
    Attribute,
    Contact,
    ContactList,
    Folder,
    Process,
    default_attributes,
)
from segport.brevo.sandbox.values import is_empty, normalize_email, normalize_sms


def _hashed_dict() -> dict[Any, Any]:
    """An empty dict for an index with string keys that may hold millions of them.

    CPython stores no hashes in a dict whose keys have only ever been str, so every slot a
    lookup probes costs a read of that key object, far away in memory; a dict that has
    once held another key stores hashes for good. At a million emails, lookups that find
    nothing (every new contact of an import) take about half the time, lookups that find
    one about three quarters. Behaviour is the same.
    """
    index: dict[Any, Any] = {0: None}
    del index[0]
    return index


class AccountState:
    def __init__(self, locale: str = "en") -> None:
        self.lock = threading.RLock()
        self.locale = locale
        self.attributes: dict[str, Attribute] = {a.name: a for a in default_attributes(locale)}
        self.folders: dict[int, Folder] = {}
        self.lists: dict[int, ContactList] = {}
        self.contacts: dict[int, Contact] = {}
        self.by_email: dict[str, Contact] = _hashed_dict()
        self.by_sms: dict[str, int] = _hashed_dict()
        self.by_ext_id: dict[str, int] = _hashed_dict()
        self.processes: dict[int, Process] = {}
        self.next_ids = {"folder": 1, "list": 1, "contact": 1, "process": 1}
        self._idle = threading.Condition(self.lock)
        self._pending_imports = 0

    # --- ids and lookups (callers hold the lock) ----------------------------------
    def new_id(self, kind: str) -> int:
        value = self.next_ids[kind]
        self.next_ids[kind] = value + 1
        return value

    def require_list(self, list_id: int) -> ContactList:
        lst = self.lists.get(list_id)
        if lst is None:
            raise not_found("List ID does not exist")
        return lst

    def list_ids_of(self, contact_id: int) -> list[int]:
        return [lid for lid, lst in self.lists.items() if contact_id in lst.members]

    def contact_json(self, contact: Contact) -> dict[str, Any]:
        return contact.to_api(self.list_ids_of(contact.id))

    def find_contact(self, identifier: str, identifier_type: str | None = None) -> Contact | None:
        """Resolve `/contacts/{identifier}` the way Brevo does (email, id, SMS or ext_id)."""
        ident = identifier.strip()
        kind = identifier_type
        if kind is None:
            if "@" in ident:
                kind = "email_id"
            elif ident.isdigit():
                c = self.contacts.get(int(ident))
                if c is not None:
                    return c
                kind = "phone_id"
            elif ident.startswith("+"):
                kind = "phone_id"
            else:
                kind = "ext_id"
        if kind == "email_id":
            return self.by_email.get(ident.lower())
        if kind == "contact_id":
            return self.contacts.get(int(ident)) if ident.isdigit() else None
        if kind == "phone_id":
            sms = normalize_sms(ident)
            cid = self.by_sms.get(sms) if sms else None
            return self.contacts.get(cid) if cid is not None else None
        if kind == "ext_id":
            cid = self.by_ext_id.get(ident)
            return self.contacts.get(cid) if cid is not None else None
        if kind in ("whatsapp_id", "landline_number_id"):
            attr = "WHATSAPP" if kind == "whatsapp_id" else "LANDLINE_NUMBER"
            return next((c for c in self.contacts.values() if c.attrs.get(attr) == ident), None)
        raise bad_request(
            "identifierType: expected one of email_id, contact_id, ext_id, phone_id, "
            f"whatsapp_id, landline_number_id, got {identifier_type!r}"
        )

    # --- contact changes (callers hold the lock) ----------------------------------
    def set_sms(self, contact: Contact, sms: str | None) -> None:
        old = contact.attrs.get("SMS")
        if old == sms:
            return
        if old is not None:
            self.by_sms.pop(old, None)
            del contact.attrs["SMS"]
        if sms is not None:
            contact.attrs["SMS"] = sms
            self.by_sms[sms] = contact.id

    def set_email(self, contact: Contact, email: str | None) -> None:
        if contact.email is not None:
            self.by_email.pop(contact.email, None)
        contact.email = email
        if email is not None:
            self.by_email[email] = contact

    def set_ext_id(self, contact: Contact, ext_id: str | None) -> None:
        if contact.ext_id is not None:
            self.by_ext_id.pop(contact.ext_id, None)
        contact.ext_id = ext_id
        if ext_id is not None:
            self.by_ext_id[ext_id] = contact.id

    def add_contact(self, contact: Contact) -> None:
        self.contacts[contact.id] = contact
        if contact.email is not None:
            self.by_email[contact.email] = contact
        sms = contact.attrs.get("SMS")
        if sms is not None:
            self.by_sms[sms] = contact.id
        if contact.ext_id is not None:
            self.by_ext_id[contact.ext_id] = contact.id

    def remove_contact(self, contact: Contact) -> None:
        self.set_email(contact, None)
        self.set_sms(contact, None)
        self.set_ext_id(contact, None)
        for lst in self.lists.values():
            if contact.id in lst.members:
                lst.members.discard(contact.id)
                lst.touch()
        del self.contacts[contact.id]

    def apply_attributes(self, contact: Contact, values: dict[str, Any], erase_empty: bool) -> None:
        """Set known attributes, coerced by type; unknown names and misfit values are ignored.

        SMS must be validated and de-duplicated by the caller first.
        """
        for name, value in values.items():
            key = name.upper()
            if key in ("SMS", "EMAIL", "EXT_ID"):
                continue
            attr = self.attributes.get(key)
            if attr is None:
                continue
            if is_empty(value):
                if erase_empty:
                    contact.attrs.pop(key, None)
                continue
            coerce = attr.coercer()
            if coerce is None:
                continue
            try:
                contact.attrs[key] = coerce(value)
            except (ValueError, TypeError):
                continue

    def add_to_lists(self, contact_id: int, list_ids: list[int] | tuple[int, ...]) -> None:
        for lid in list_ids:
            lst = self.lists[lid]
            if contact_id not in lst.members:
                lst.members.add(contact_id)
                lst.touch()

    # --- processes ----------------------------------------------------------------
    def new_process(self, name: str, status: str = "queued") -> Process:
        proc = Process(self.new_id("process"), name, status, time.time())
        self.processes[proc.id] = proc
        return proc

    def import_queued(self) -> None:
        with self.lock:
            self._pending_imports += 1

    def import_done(self) -> None:
        with self.lock:
            self._pending_imports -= 1
            self._idle.notify_all()

    # --- public, thread-safe helpers (tests and the demo use these) --------------
    def wait_idle(self, timeout: float = 30) -> None:
        """Block until every queued import is processed; TimeoutError otherwise."""
        with self.lock:
            if not self._idle.wait_for(lambda: self._pending_imports == 0, timeout):
                raise TimeoutError(f"sandbox imports still pending after {timeout} s")

    def contact_count(self) -> int:
        with self.lock:
            return len(self.contacts)

    def list_member_emails(self, list_id: int) -> set[str]:
        with self.lock:
            lst = self.require_list(list_id)
            out = set()
            for cid in lst.members:
                email = self.contacts[cid].email
                if email is not None:
                    out.add(email)
            return out

    def get_contact(self, email_or_id: str | int) -> dict[str, Any] | None:
        with self.lock:
            if isinstance(email_or_id, int):
                c = self.contacts.get(email_or_id)
            else:
                c = self.find_contact(email_or_id)
            return self.contact_json(c) if c is not None else None

    def create_folder(self, name: str) -> int:
        with self.lock:
            folder = Folder(self.new_id("folder"), name)
            self.folders[folder.id] = folder
            return folder.id

    def create_list(self, name: str, folder_id: int | None = None) -> int:
        with self.lock:
            if folder_id is None:
                folder_id = next(iter(self.folders), None) or self.create_folder("Sandbox")
            elif folder_id not in self.folders:
                raise bad_request("folderId: Folder ID does not exist")
            lst = ContactList(self.new_id("list"), name, folder_id, time.time())
            self.lists[lst.id] = lst
            return lst.id

    def upsert_contact(
        self,
        email: str,
        attributes: dict[str, Any] | None = None,
        list_ids: tuple[int, ...] | list[int] = (),
        email_blacklisted: bool = False,
        sms_blacklisted: bool = False,
    ) -> int:
        """Create or update a contact directly (test setup), with Brevo's value rules."""
        with self.lock:
            norm = normalize_email(email)
            if norm is None:
                raise bad_request(f"email: {email!r} is not a valid email address")
            for lid in list_ids:
                self.require_list(lid)
            now = time.time()
            contact = self.by_email.get(norm)
            if contact is None:
                contact = Contact(self.new_id("contact"), norm, {}, now)
                self.add_contact(contact)
            contact.modified = now
            attrs = dict(attributes or {})
            raw_sms = attrs.pop("SMS", None)
            if raw_sms is not None and not is_empty(raw_sms):
                sms = normalize_sms(str(raw_sms))
                if sms is None:
                    raise ApiProblem(400, "invalid_parameter", "Invalid phone number")
                owner = self.by_sms.get(sms)
                if owner is not None and owner != contact.id:
                    raise ApiProblem(
                        400,
                        "duplicate_parameter",
                        "Unable to update contact, SMS is already associated with another Contact",
                        {"duplicate_identifiers": ["SMS"]},
                    )
                self.set_sms(contact, sms)
            self.apply_attributes(contact, attrs, erase_empty=False)
            contact.email_blacklisted = email_blacklisted
            contact.sms_blacklisted = sms_blacklisted
            self.add_to_lists(contact.id, list_ids)
            return contact.id

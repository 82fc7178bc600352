"""Applying an import's rows to the account: identity rules, attributes, per-row reports.

Written for speed (an import may carry a million rows, and an export waits for them):
`resolve` is the reference for Brevo's rules and takes every row that needs a report or
an unusual case; the bulk of a file (new or updated contacts with a valid email and, if
any, a free number) is checked a whole column at a time (import_columns) and applied by
one tight loop (RowImporter._apply). tests/integration/sandbox/test_import_paths.py
checks that both ways give the same account and reports.
"""

from __future__ import annotations

import contextlib
import csv
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from segport.brevo.sandbox.import_columns import (
    Columns,
    attr_dicts,
    check_columns,
    raw_rows,
    read_table,
)
from segport.brevo.sandbox.records import Contact
from segport.brevo.sandbox.state import AccountState
from segport.brevo.sandbox.values import (
    EMAIL_RE,
    Coercer,
    normalize_email,
    normalize_sms,
    text_value,
)

SLICE = 5000  # rows applied per hold of the account lock
_ABSENT = object()
IDENTIFIERS = ("EMAIL", "SMS", "EXT_ID", "CONTACT_ID")


@dataclass
class ImportJob:
    process_id: int
    list_ids: list[int]
    file_body: str | None = None
    json_body: list[dict[str, Any]] | None = None
    update_existing: bool = True
    empty_attributes: bool = False
    email_blacklist: bool = False
    sms_blacklist: bool = False
    reports: dict[str, list[str]] = field(default_factory=dict)


class RowImporter:
    """Applies one job's rows; remembers identifiers seen in this file for duplicates."""

    # False sends every row through `resolve` (the tests compare both ways)
    fast_loop = True

    def __init__(self, state: AccountState, job: ImportJob) -> None:
        self.state = state
        self.job = job
        # identifier -> first row that had it; rows of the fast loop are not recorded here
        # (see first_row)
        self.seen_emails: dict[str, int] = {}
        self.seen_sms: dict[str, int] = {}
        self.columns: Columns | None = None  # a fileBody's, once parsed
        self.now = time.time()
        self.members: list[int] = []
        self.rows = 0  # in the file, known once the first step has parsed it
        # attribute name -> coercer, or None for text (kept as given); unknown names absent
        self.coercers: dict[str, Coercer | None] = {}
        for name, attr in state.attributes.items():
            coerce = attr.coercer()
            if name not in IDENTIFIERS and coerce is not None:
                self.coercers[name] = None if coerce is text_value else coerce

    def report(self, kind: str, line: str) -> None:
        self.job.reports.setdefault(kind, []).append(line)

    def first_row(self, kind: str, value: str, n: int) -> int | None:
        """The earlier row of this file that used `value` (kind "email" or "sms"), if any."""
        first = (self.seen_emails if kind == "email" else self.seen_sms).get(value)
        if first is None and self.columns is not None:
            first = self.columns.fast_row(kind, value, n)
        return first

    def resolve(self, n: int, raw_email: str, raw_sms: str | None, raw_ext: str) -> Contact | None:
        """The contact a row updates (created if new), or None when the row is skipped.

        `raw_sms` is None when the file has no SMS column (then SMS is never erased).
        """
        st, job = self.state, self.job
        email: str | None = None
        if raw_email and not raw_email.isspace():
            email = normalize_email(raw_email)
            if email is None:
                self.report("invalid_emails", f"{n};{_q(raw_email)};invalid email address")
                return None
            first = self.first_row("email", email, n)
            if first is not None:
                self.report("duplicate_email_id", f"{n};{_q(email)};duplicate of row {first}")
                return None
            self.seen_emails[email] = n
        sms: str | None = None
        has_sms = False
        if raw_sms and not raw_sms.isspace():
            has_sms = True
            sms = normalize_sms(raw_sms)
            if sms is None:
                self.report(
                    "duplicate_phone_id",
                    f"{n};{_q(email or '')};{_q(raw_sms)};invalid phone number "
                    "(a country code is required, e.g. +33612345678)",
                )
        ext = raw_ext.strip() or None if raw_ext else None
        contact: Contact | None = None
        if email is not None:
            contact = st.by_email.get(email)
        elif sms is not None or ext is not None:
            cid = st.by_sms.get(sms) if sms is not None else None
            if cid is None and ext is not None:
                cid = st.by_ext_id.get(ext)
            contact = st.contacts.get(cid) if cid is not None else None
        else:
            if not has_sms:
                self.report("invalid_emails", f"{n};;no email, SMS or EXT_ID in this row")
            return None  # (an invalid SMS alone was reported above)
        if sms is not None:
            first = self.first_row("sms", sms, n)
            owner = st.by_sms.get(sms)
            if first is not None:
                self.report(
                    "duplicate_phone_id", f"{n};{_q(email or '')};{sms};duplicate of row {first}"
                )
                if email is None:
                    return None  # the number was this row's only identifier
                sms = None
            elif owner is not None and (contact is None or owner != contact.id):
                self.report(
                    "duplicate_phone_id",
                    f"{n};{_q(email or '')};{sms};already the SMS of contact {owner}",
                )
                sms = None
            else:
                self.seen_sms[sms] = n
        if contact is None:
            if email is None and sms is None and ext is None:
                return None
            contact = Contact(st.new_id("contact"), email, {}, self.now)
            st.add_contact(contact)
            if ext is not None and ext not in st.by_ext_id:
                st.set_ext_id(contact, ext)
        elif not job.update_existing:
            self.members.append(contact.id)
            return None
        else:
            contact.modified = self.now
            if ext is not None and contact.ext_id != ext and ext not in st.by_ext_id:
                st.set_ext_id(contact, ext)
        if sms is not None:
            st.set_sms(contact, sms)
        elif job.empty_attributes and raw_sms is not None and not has_sms:
            st.set_sms(contact, None)
        if job.email_blacklist:
            contact.email_blacklisted = True
        if job.sms_blacklist:
            contact.sms_blacklisted = True
        self.members.append(contact.id)
        return contact

    def set_value(self, attrs: dict[str, Any], key: str, value: Any) -> None:
        if key not in self.coercers:
            return  # attributes the account does not have are ignored
        if value is None or (isinstance(value, str) and (not value or value.isspace())):
            if self.job.empty_attributes:
                attrs.pop(key, None)
            return
        coerce = self.coercers[key]
        if coerce is None:
            attrs[key] = value if isinstance(value, str) else text_value(value)
            return
        # a value that does not fit the type is ignored, as Brevo does
        with contextlib.suppress(ValueError, TypeError):
            attrs[key] = coerce(value)

    def _add_new(self, n: int, email: str, attrs: dict[str, Any], sms: str | None) -> None:
        """Register a contact the fast paths proved new: unseen email, unused SMS or none."""
        self.seen_emails[email] = n
        if sms is not None:
            self.seen_sms[sms] = n
            attrs["SMS"] = sms
        job = self.job
        contact = Contact(
            self.state.new_id("contact"),
            email,
            attrs,
            self.now,
            job.email_blacklist,
            job.sms_blacklist,
        )
        self.state.add_contact(contact)
        self.members.append(contact.id)

    def run_csv(self, text: str) -> Iterator[None]:
        """Apply a `fileBody`. The first step only parses and checks columns (it touches no
        account state, so the worker runs it without the lock); each later step applies up
        to SLICE rows."""
        first_line = text.split("\n", 1)[0].rstrip("\r")
        header = [h.strip().upper() for h in next(csv.reader([first_line], delimiter=";"), [])]
        cols = check_columns(
            read_table(text, len(header)),
            header,
            self.coercers,
            self.job.empty_attributes,
            self.fast_loop,
        )
        self.rows = cols.table.num_rows
        self.columns = cols
        del text  # (the parsed table holds what is needed)
        yield None
        for start in range(0, cols.table.num_rows, SLICE):
            self._apply(cols, start, min(start + SLICE, cols.table.num_rows))
            yield None  # let readers in between slices

    def _apply(self, cols: Columns, start: int, stop: int) -> None:
        """Apply rows [start, stop): the fast loop takes a row with a valid email as written
        and, if any, a number in use by no other contact and no earlier row, that creates a
        contact or updates one (as `resolve` would, without reports); others go to `resolve`.

        The fast loop does not record the emails and numbers it applies (`first_row` finds
        them for `resolve` in the file's columns); a contact it meets again is known by its
        `modified` time, which is this import's own `now` object.
        """
        st, job = self.state, self.job
        by_email, by_sms, contacts = st.by_email, st.by_sms, st.contacts
        seen_e, seen_s = self.seen_emails, self.seen_sms
        add_member = self.members.append
        now, update = self.now, job.update_existing
        e_black, s_black = job.email_blacklist, job.sms_blacklist
        erase_sms = job.empty_attributes and cols.s_i is not None
        emails = cols.emails[start:stop]
        sms_list = cols.sms[start:stop] if cols.sms is not None else repeat(None)
        dicts: Iterable[dict[str, Any]] = repeat({})  # (not fast: every email is None)
        if cols.fast:
            dicts = attr_dicts(cols, start, stop)
        raw: list[tuple[str, ...]] | None = None
        next_id = st.next_ids["contact"]
        rows = zip(range(start + 2, stop + 2), emails, sms_list, dicts, strict=False)
        for n, email, sms, attrs in rows:  # (sms_list and dicts may be endless repeats)
            if email is not None and email not in seen_e:
                contact = by_email.get(email)
                if sms is None or (
                    sms not in seen_s
                    and (
                        (owner := by_sms.get(sms)) is None
                        or (contact is not None and owner == contact.id)
                    )
                ):
                    if contact is None:  # new: registered inline (a million rows)
                        cid = next_id
                        next_id += 1
                        if sms is not None:
                            attrs["SMS"] = sms
                            by_sms[sms] = cid
                        contact = Contact(cid, email, attrs, now, e_black, s_black)
                        contacts[cid] = contact
                        by_email[email] = contact
                        add_member(cid)
                        continue
                    # (a contact this import touched already: a duplicate, or a row
                    # without email found it by its number; `resolve` knows which)
                    if update and contact.modified is not now:
                        contact.modified = now
                        if sms is not None:
                            if contact.attrs.get("SMS") != sms:
                                st.set_sms(contact, sms)
                        elif erase_sms and "SMS" in contact.attrs:
                            st.set_sms(contact, None)
                        if e_black:
                            contact.email_blacklisted = True
                        if s_black:
                            contact.sms_blacklisted = True
                        contact.attrs.update(attrs)
                        add_member(contact.id)
                        continue
            if raw is None:
                raw = raw_rows(cols.table, start, stop)
            st.next_ids["contact"] = next_id
            cols.slow_rows.add(n)
            self._slow_row(cols, n, raw[n - 2 - start])
            next_id = st.next_ids["contact"]
        st.next_ids["contact"] = next_id

    def _slow_row(self, cols: Columns, n: int, cells: Sequence[str]) -> None:
        e_i, s_i, x_i = cols.e_i, cols.s_i, cols.x_i
        found = self.resolve(
            n,
            cells[e_i] if e_i is not None else "",
            cells[s_i] if s_i is not None else None,
            cells[x_i] if x_i is not None else "",
        )
        if found is None:
            return
        attrs, erase = found.attrs, self.job.empty_attributes
        for i, key, coerce in cols.plan:
            v = cells[i]
            if not v or v.isspace():
                if erase:
                    attrs.pop(key, None)
            elif coerce is None:
                attrs[key] = v
            else:
                self.set_value(attrs, key, v)

    def run_json(self, items: list[dict[str, Any]]) -> Iterator[None]:
        # Fast path as in run_csv: a new contact whose attributes are all known text ones.
        text_keys = {key for key, coerce in self.coercers.items() if coerce is None}
        by_email, by_sms = self.state.by_email, self.state.by_sms
        seen_e, seen_s = self.seen_emails, self.seen_sms
        email_ok = EMAIL_RE.fullmatch
        add_new = self._add_new
        self.rows = len(items)
        yield None  # (nothing to prepare: see run_csv)
        for n, item in enumerate(items, start=1):
            raw_email = item.get("email")
            attrs = item.get("attributes")
            if (
                self.fast_loop
                and type(raw_email) is str
                and type(attrs) is dict
                and "ext_id" not in item
                and len(raw_email) <= 254
                and email_ok(raw_email)
            ):
                email = raw_email.lower()
                if email not in seen_e and email not in by_email:
                    values: dict[str, Any] = {}
                    sms: str | None = None
                    for key, v in attrs.items():
                        if key in text_keys and type(v) is str:
                            if v and not v.isspace():
                                values[key] = v
                        elif key == "SMS" and type(v) is str and v:
                            sms = normalize_sms(v)
                            if sms is None or sms in seen_s or sms in by_sms:
                                break
                        else:
                            break
                    else:
                        add_new(n, email, values, sms)
                        if n % SLICE == 0:
                            yield None
                        continue
            self._json_row(n, item)
            if n % SLICE == 0:
                yield None  # let readers in between slices

    def _json_row(self, n: int, item: dict[str, Any]) -> None:
        attrs = item.get("attributes") or {}
        if not isinstance(attrs, dict):
            attrs = {}
        attrs = {str(k).upper(): v for k, v in attrs.items()}
        sms = attrs.pop("SMS", _ABSENT)
        ext = item.get("ext_id", attrs.pop("EXT_ID", None))
        email = item.get("email", attrs.pop("EMAIL", None))
        contact = self.resolve(
            n,
            email if isinstance(email, str) else "",
            None if sms is _ABSENT else ("" if sms is None else str(sms)),
            str(ext) if ext is not None else "",
        )
        if contact is not None:
            for key, value in attrs.items():
                self.set_value(contact.attrs, key, value)

    def flush_members(self) -> None:
        if not self.members:
            return
        for lid in self.job.list_ids:
            lst = self.state.lists.get(lid)
            if lst is not None:  # (a list deleted while the import ran)
                lst.members.update(self.members)
                lst.touch()
        self.members.clear()


def _q(value: str) -> str:
    if any(ch in value for ch in ';"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value

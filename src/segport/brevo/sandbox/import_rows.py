"""Applying an import's rows to the account: identity rules, attributes, per-row reports.

Written for speed (an import may carry a million rows): attribute coercers are resolved
once per job, new contacts take a fast path, and list membership is added once per slice.
"""

from __future__ import annotations

import contextlib
import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

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

    def __init__(self, state: AccountState, job: ImportJob) -> None:
        self.state = state
        self.job = job
        self.seen_emails: dict[str, int] = {}
        self.seen_sms: dict[str, int] = {}
        self.now = time.time()
        self.members: list[int] = []
        # attribute name -> coercer, or None for text (kept as given); unknown names absent
        self.coercers: dict[str, Coercer | None] = {}
        for name, attr in state.attributes.items():
            coerce = attr.coercer()
            if name not in IDENTIFIERS and coerce is not None:
                self.coercers[name] = None if coerce is text_value else coerce

    def report(self, kind: str, line: str) -> None:
        self.job.reports.setdefault(kind, []).append(line)

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
            first = self.seen_emails.get(email)
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
            first = self.seen_sms.get(sms)
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
        first_line = text.split("\n", 1)[0].rstrip("\r")
        header = [h.strip().upper() for h in next(csv.reader([first_line], delimiter=";"), [])]
        idx = {name: i for i, name in enumerate(header)}
        e_i, s_i, x_i = idx.get("EMAIL"), idx.get("SMS"), idx.get("EXT_ID")
        plan = [(i, n, self.coercers[n]) for i, n in enumerate(header) if n in self.coercers]
        text_only = all(coerce is None for _, _, coerce in plan)
        erase = self.job.empty_attributes
        width = len(header)
        # Locals for the fast path: a new contact with a valid, unseen email and a valid,
        # unused SMS (the bulk of a first export). Everything else takes `resolve`.
        fast_ok = e_i is not None and x_i is None and text_only
        by_email, by_sms = self.state.by_email, self.state.by_sms
        seen_e, seen_s = self.seen_emails, self.seen_sms
        add_new = self._add_new
        for n, (cells, email) in enumerate(_csv_cells(text, width, e_i), start=2):
            if fast_ok and email is not None and email not in seen_e and email not in by_email:
                raw_sms = cells[s_i] if s_i is not None else ""
                sms = normalize_sms(raw_sms) if raw_sms else None
                if not raw_sms or (sms is not None and sms not in seen_s and sms not in by_sms):
                    add_new(n, email, {key: cells[i] for i, key, _ in plan if cells[i]}, sms)
                    if n % SLICE == 0:
                        yield None
                    continue
            found = self.resolve(
                n,
                cells[e_i] if e_i is not None else "",
                cells[s_i] if s_i is not None else None,
                cells[x_i] if x_i is not None else "",
            )
            if found is not None:
                attrs = found.attrs
                for i, key, coerce in plan:
                    v = cells[i]
                    if not v or v.isspace():
                        if erase:
                            attrs.pop(key, None)
                    elif coerce is None:
                        attrs[key] = v
                    else:
                        self.set_value(attrs, key, v)
            if n % SLICE == 0:
                yield None  # let readers in between slices

    def run_json(self, items: list[dict[str, Any]]) -> Iterator[None]:
        # Fast path as in run_csv: a new contact whose attributes are all known text ones.
        text_keys = {key for key, coerce in self.coercers.items() if coerce is None}
        by_email, by_sms = self.state.by_email, self.state.by_sms
        seen_e, seen_s = self.seen_emails, self.seen_sms
        email_ok = EMAIL_RE.fullmatch
        add_new = self._add_new
        for n, item in enumerate(items, start=1):
            raw_email = item.get("email")
            attrs = item.get("attributes")
            if (
                type(raw_email) is str
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


Cells = list[str] | tuple[str, ...]


def _csv_cells(text: str, width: int, e_i: int | None) -> Iterator[tuple[Cells, str | None]]:
    """The data rows of a semicolon CSV (padded to the header's width), each with its
    email lower-cased when it is a valid address as written (else None: check it slowly).

    pyarrow's parser is about three times faster than the csv module on large files, and
    checks the emails of a whole column at once; the csv module takes over for what
    pyarrow refuses (e.g. rows of uneven width).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    try:
        table = pacsv.read_csv(
            pa.py_buffer(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(skip_rows=1, autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(delimiter=";", newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        table = None
    if table is not None and table.num_columns == width:
        if e_i is not None:
            col = table.column(e_i)
            valid = pc.and_(
                pc.match_substring_regex(col, f"^(?:{EMAIL_RE.pattern})$"),
                pc.less_equal(pc.utf8_length(col), 254),
            )
            emails = pc.if_else(valid, pc.utf8_lower(col), None).to_pylist()
        else:
            emails = [None] * table.num_rows
        columns = [table.column(i).to_pylist() for i in range(width)]
        del table
        yield from zip(zip(*columns, strict=True), emails, strict=True)
        return
    reader = csv.reader(io.StringIO(text), delimiter=";")
    next(reader, None)
    email_ok = EMAIL_RE.fullmatch
    for cells in reader:
        if not cells:
            continue
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        raw = cells[e_i] if e_i is not None else ""
        yield cells, (raw.lower() if len(raw) <= 254 and email_ok(raw) else None)


def _q(value: str) -> str:
    if any(ch in value for ch in ';"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value

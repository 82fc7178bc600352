"""`POST /contacts/import`: request checks, and the background worker that applies rows.

The request is validated synchronously (Brevo answers 400 at once for a bad body) and
queued; the worker parses and applies it in slices, releasing the account lock between
slices so reads stay responsive while a large import runs.
"""

from __future__ import annotations

import csv
import io
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from segport.brevo.sandbox.errors import bad_request, missing
from segport.brevo.sandbox.records import Contact
from segport.brevo.sandbox.state import AccountState
from segport.brevo.sandbox.values import normalize_email, normalize_sms

MAX_BODY_BYTES = 10 * 1024 * 1024  # Brevo refuses fileBody/jsonBody over 10 MB
_SLICE = 5000
_IDENTIFIERS = ("EMAIL", "SMS", "EXT_ID", "CONTACT_ID")
_NO_ID_MESSAGE = (
    "We could not find any valid email or SMS or Contact ID in the file you uploaded. "
    "Please check that the first line holds the attribute names (EMAIL, SMS, ...) separated "
    "by semicolons. Also check that you are not using space as a delimiter"
)

# A row: (row number, email, sms, ext_id, other attributes)
Row = tuple[int, str, str, str, dict[str, Any]]


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


def _flag(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"{name} should be a boolean (true or false)")
    return value


def _csv_header(file_body: str) -> list[str]:
    first = file_body.split("\n", 1)[0].rstrip("\r")
    return [h.strip().upper() for h in next(csv.reader([first], delimiter=";"), [])]


def prepare_import(state: AccountState, body: Any, body_bytes: int) -> ImportJob:
    """Validate an import request, create `newList` if asked, and queue-ready the job."""
    if not isinstance(body, dict):
        raise bad_request("Input must be a JSON object", "bad_request")
    sources = [k for k in ("fileBody", "jsonBody", "fileUrl") if body.get(k) not in (None, "")]
    if not sources:
        raise missing("fileBody", "Please provide one of fileUrl, fileBody or jsonBody")
    if len(sources) > 1:
        raise bad_request(f"Only one of fileUrl, fileBody or jsonBody is allowed, got {sources}")
    if sources[0] == "fileUrl":
        raise bad_request(
            "fileUrl: the sandbox cannot download files; send the rows as fileBody or jsonBody"
        )
    file_body = body.get("fileBody")
    json_body = body.get("jsonBody")
    if file_body is not None:
        if not isinstance(file_body, str):
            raise bad_request("fileBody should be a string (semicolon-separated CSV)")
        size = len(file_body.encode("utf-8"))
        if size > MAX_BODY_BYTES:
            raise bad_request(
                f"fileBody is {size} bytes; the maximum is 10 MB. "
                "Please use fileUrl instead to import bigger files"
            )
        header = _csv_header(file_body)
        if not any(h in _IDENTIFIERS for h in header):
            raise bad_request(_NO_ID_MESSAGE)
    else:
        if not isinstance(json_body, list) or not all(isinstance(i, dict) for i in json_body):
            raise bad_request("jsonBody should be an array of objects {email, attributes}")
        if body_bytes > MAX_BODY_BYTES:
            raise bad_request(f"jsonBody is about {body_bytes} bytes; the maximum is 10 MB")
    list_ids = body.get("listIds")
    new_list = body.get("newList")
    if list_ids is None and not new_list:
        raise missing("listIds", "listIds is missing: give listIds or newList")
    if list_ids is None:
        list_ids = []
    if not isinstance(list_ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in list_ids
    ):
        raise bad_request("listIds should be an array of integers")
    with state.lock:
        for lid in list_ids:
            if lid not in state.lists:
                raise bad_request(f"listIds: list {lid} does not exist")
        job = ImportJob(
            process_id=0,
            list_ids=list(list_ids),
            file_body=file_body,
            json_body=json_body if file_body is None else None,
            update_existing=_flag(body, "updateExistingContacts", True),
            empty_attributes=_flag(body, "emptyContactsAttributes", False),
            email_blacklist=_flag(body, "emailBlacklist", False),
            sms_blacklist=_flag(body, "smsBlacklist", False),
        )
        _flag(body, "disableNotification", False)
        if new_list:
            if not isinstance(new_list, dict) or not isinstance(new_list.get("listName"), str):
                raise bad_request("newList should be an object {listName, folderId}")
            folder_id = new_list.get("folderId")
            if folder_id is None:
                raise missing("newList.folderId", "newList.folderId is mandatory with listName")
            if folder_id not in state.folders:
                raise bad_request(f"newList.folderId: folder {folder_id} does not exist")
            job.list_ids.append(state.create_list(new_list["listName"], folder_id))
        job.process_id = state.new_process("IMPORTUSER").id
    return job


def _csv_rows(text: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text), delimiter=";")
    header = [h.strip().upper() for h in next(reader, [])]
    idx = {name: i for i, name in enumerate(header)}
    e_i, s_i, x_i = idx.get("EMAIL"), idx.get("SMS"), idx.get("EXT_ID")
    others = [(i, n) for i, n in enumerate(header) if n not in _IDENTIFIERS and n]
    width = len(header)
    for n, cells in enumerate(reader, start=2):
        if not cells:
            continue
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        yield (
            n,
            cells[e_i] if e_i is not None else "",
            cells[s_i] if s_i is not None else "",
            cells[x_i] if x_i is not None else "",
            {name: cells[i] for i, name in others},
        )


def _json_rows(items: list[dict[str, Any]]) -> Iterator[Row]:
    for n, item in enumerate(items, start=1):
        attrs = item.get("attributes") or {}
        if not isinstance(attrs, dict):
            attrs = {}
        attrs = {str(k).upper(): v for k, v in attrs.items()}
        sms = attrs.pop("SMS", None)
        ext = item.get("ext_id", attrs.pop("EXT_ID", None))
        email = item.get("email", attrs.pop("EMAIL", None))
        yield (
            n,
            email if isinstance(email, str) else "",
            str(sms) if sms is not None else "",
            str(ext) if ext is not None else "",
            attrs,
        )


class _Importer:
    """Applies one job's rows; remembers identifiers seen in this file for duplicates."""

    def __init__(self, state: AccountState, job: ImportJob) -> None:
        self.state = state
        self.job = job
        self.seen_emails: dict[str, int] = {}
        self.seen_sms: dict[str, int] = {}
        self.now = time.time()

    def report(self, kind: str, line: str) -> None:
        self.job.reports.setdefault(kind, []).append(line)

    def apply(self, row: Row) -> None:
        n, raw_email, raw_sms, raw_ext, attrs = row
        st, job = self.state, self.job
        email: str | None = None
        if raw_email and raw_email.strip():
            email = normalize_email(raw_email)
            if email is None:
                self.report("invalid_emails", f"{n};{_q(raw_email)};invalid email address")
                return
            first = self.seen_emails.get(email)
            if first is not None:
                self.report("duplicate_email_id", f"{n};{_q(email)};duplicate of row {first}")
                return
            self.seen_emails[email] = n
        sms: str | None = None
        if raw_sms and raw_sms.strip():
            sms = normalize_sms(raw_sms)
            if sms is None:
                self.report(
                    "duplicate_phone_id",
                    f"{n};{_q(email or '')};{_q(raw_sms)};invalid phone number "
                    "(a country code is required, e.g. +33612345678)",
                )
        ext = raw_ext.strip() or None
        contact: Contact | None = None
        if email is not None:
            contact = st.by_email.get(email)
        elif sms is not None or ext is not None:
            cid = st.by_sms.get(sms) if sms is not None else None
            if cid is None and ext is not None:
                cid = st.by_ext_id.get(ext)
            contact = st.contacts.get(cid) if cid is not None else None
        elif not raw_sms.strip():
            self.report("invalid_emails", f"{n};;no email, SMS or EXT_ID in this row")
            return
        else:
            return  # only an invalid SMS: already reported
        if sms is not None:
            first = self.seen_sms.get(sms)
            owner = st.by_sms.get(sms)
            if first is not None:
                self.report(
                    "duplicate_phone_id", f"{n};{_q(email or '')};{sms};duplicate of row {first}"
                )
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
                return
            contact = Contact(st.new_id("contact"), email, {}, self.now)
            st.add_contact(contact)
            if ext is not None and ext not in st.by_ext_id:
                st.set_ext_id(contact, ext)
        elif not job.update_existing:
            st.add_to_lists(contact.id, job.list_ids)
            return
        else:
            contact.modified = self.now
            if ext is not None and contact.ext_id != ext and ext not in st.by_ext_id:
                st.set_ext_id(contact, ext)
        if sms is not None:
            st.set_sms(contact, sms)
        elif job.empty_attributes and not raw_sms.strip() and "SMS" in contact.attrs:
            st.set_sms(contact, None)
        if attrs:
            st.apply_attributes(contact, attrs, job.empty_attributes)
        if job.email_blacklist:
            contact.email_blacklisted = True
        if job.sms_blacklist:
            contact.sms_blacklisted = True
        st.add_to_lists(contact.id, job.list_ids)


def _q(value: str) -> str:
    if any(ch in value for ch in ';"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


_REPORT_HEADERS = {
    "invalid_emails": "ROW;EMAIL;REASON",
    "duplicate_email_id": "ROW;EMAIL;REASON",
    "duplicate_phone_id": "ROW;EMAIL;SMS;REASON",
}


def run_import(state: AccountState, job: ImportJob) -> None:
    """Apply a queued job: `queued` -> `in_process` -> `completed` with its reports."""
    with state.lock:
        state.processes[job.process_id].status = "in_process"
    importer = _Importer(state, job)
    rows: Iterator[Row] = (
        _csv_rows(job.file_body) if job.file_body is not None else _json_rows(job.json_body or [])
    )
    job.file_body = None  # let the text go once the reader holds it
    done = False
    while not done:
        with state.lock:
            for _ in range(_SLICE):
                row = next(rows, None)
                if row is None:
                    done = True
                    break
                importer.apply(row)
    with state.lock:
        proc = state.processes[job.process_id]
        proc.reports = {
            kind: _REPORT_HEADERS[kind] + "\n" + "\n".join(lines) + "\n"
            for kind, lines in job.reports.items()
        }
        proc.status = "completed"


class ImportWorker:
    """One background thread that runs imports in the order they were accepted."""

    def __init__(self, state: AccountState) -> None:
        self.state = state
        self._queue: queue.Queue[ImportJob | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="sandbox-imports", daemon=True)
        self._thread.start()

    def submit(self, job: ImportJob) -> None:
        self.state.import_queued()
        self._queue.put(job)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                run_import(self.state, job)
            except Exception as exc:  # a bug must not wedge wait_idle; mark the process failed
                with self.state.lock:
                    self.state.processes[job.process_id].status = "failed"
                    self.state.processes[job.process_id].reports = {"error": repr(exc)}
            finally:
                self.state.import_done()

    def stop(self, timeout: float = 30) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

"""`POST /contacts/import`: request checks, and the background worker that applies rows.

The request is validated synchronously (Brevo answers 400 at once for a bad body) and
queued; the worker parses and applies it in slices, releasing the account lock between
slices so reads stay responsive while a large import runs.
"""

from __future__ import annotations

import csv
import gc
import queue
import threading
import time
from typing import Any

from segport.brevo.sandbox.errors import bad_request, missing
from segport.brevo.sandbox.import_rows import IDENTIFIERS, ImportJob, RowImporter
from segport.brevo.sandbox.params import body_bool, body_int_list
from segport.brevo.sandbox.state import AccountState

MAX_BODY_BYTES = 10 * 1024 * 1024  # Brevo refuses fileBody/jsonBody over 10 MB
_BIG_IMPORT_ROWS = 50_000
_NO_ID_MESSAGE = (
    "We could not find any valid email or SMS or Contact ID in the file you uploaded. "
    "Please check that the first line holds the attribute names (EMAIL, SMS, ...) separated "
    "by semicolons. Also check that you are not using space as a delimiter"
)


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
        if not any(h in IDENTIFIERS for h in header):
            raise bad_request(_NO_ID_MESSAGE)
    else:
        if not isinstance(json_body, list) or not all(isinstance(i, dict) for i in json_body):
            raise bad_request("jsonBody should be an array of objects {email, attributes}")
        if body_bytes > MAX_BODY_BYTES:
            raise bad_request(f"jsonBody is about {body_bytes} bytes; the maximum is 10 MB")
    list_ids = body_int_list(body, "listIds")
    new_list = body.get("newList")
    if list_ids is None and not new_list:
        raise missing("listIds", "listIds is missing: give listIds or newList")
    if list_ids is None:
        list_ids = []
    with state.lock:
        for lid in list_ids:
            if lid not in state.lists:
                raise bad_request(f"listIds: list {lid} does not exist")
        job = ImportJob(
            process_id=0,
            list_ids=list(list_ids),
            file_body=file_body,
            json_body=json_body if file_body is None else None,
            update_existing=body_bool(body, "updateExistingContacts", True),
            empty_attributes=body_bool(body, "emptyContactsAttributes", False),
            email_blacklist=body_bool(body, "emailBlacklist", False),
            sms_blacklist=body_bool(body, "smsBlacklist", False),
        )
        body_bool(body, "disableNotification", False)
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


_REPORT_HEADERS = {
    "invalid_emails": "ROW;EMAIL;REASON",
    "duplicate_email_id": "ROW;EMAIL;REASON",
    "duplicate_phone_id": "ROW;EMAIL;SMS;REASON",
}


def run_import(state: AccountState, job: ImportJob) -> None:
    """Apply a queued job: `queued` -> `in_process` -> `completed` with its reports."""
    started, cpu_started = time.perf_counter(), time.thread_time()
    with state.lock:
        state.processes[job.process_id].status = "in_process"
    with state.lock:
        importer = RowImporter(state, job)
    steps = (
        importer.run_csv(job.file_body)
        if job.file_body is not None
        else importer.run_json(job.json_body or [])
    )
    job.file_body = job.json_body = None  # the generator holds what it still needs
    next(steps, None)  # parsing and column checks: no account state, so no lock
    # A big import's contacts live as long as the account: the cyclic collector is kept out
    # of each slice (it would scan thousands of new objects that hold no cycles, many times
    # over), and they are moved out of its generations (gc.freeze) so that full collections
    # never rescan millions of them. Small imports leave the collector alone.
    big = importer.rows >= _BIG_IMPORT_ROWS
    while True:
        # each step applies up to SLICE rows under the lock, then lets readers in
        with state.lock:
            collecting = big and gc.isenabled()
            if collecting:
                gc.disable()
            try:
                more = next(steps, False) is None
                importer.flush_members()
            finally:
                if big:
                    gc.freeze()
                if collecting:
                    gc.enable()
        if not more:
            break
    with state.lock:
        proc = state.processes[job.process_id]
        proc.reports = {
            kind: _REPORT_HEADERS[kind] + "\n" + "\n".join(lines) + "\n"
            for kind, lines in job.reports.items()
        }
        proc.status = "completed"
        proc.run_seconds = time.perf_counter() - started
        proc.cpu_seconds = time.thread_time() - cpu_started


class ImportWorker:
    """One background thread that runs imports in the order they were accepted."""

    def __init__(self, state: AccountState) -> None:
        self.state = state
        self._queue: queue.Queue[ImportJob | None] = queue.Queue()
        # Cleared by tests that must see processes still queued, whatever the machine's speed.
        self._running = threading.Event()
        self._running.set()
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
            self._running.wait()
            try:
                run_import(self.state, job)
            except Exception as exc:  # a bug must not wedge wait_idle; mark the process failed
                with self.state.lock:
                    self.state.processes[job.process_id].status = "failed"
                    self.state.processes[job.process_id].reports = {"error": repr(exc)}
            finally:
                self.state.import_done()

    def pause(self) -> None:
        """Hold queued imports (a job already running finishes) until :meth:`resume`."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self, timeout: float = 30) -> None:
        self._running.set()
        self._queue.put(None)
        self._thread.join(timeout)

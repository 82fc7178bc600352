"""Send the plan's contacts with ``POST /contacts/import`` and checkpoint every chunk.

A chunk is recorded ``posting`` before it is posted (killed then, the next run cannot know
whether Brevo took it), ``submitted`` with Brevo's process id as soon as Brevo accepted it,
and ``done`` once the process completed, in the same DuckDB transaction that records its
contacts as held by Brevo. Killed at any moment, the next run waits for the submitted
processes instead of sending them again, and sends only the rows no chunk covers: at most
the one chunk whose answer was lost in flight goes twice, and imports are upserts, so the
list ends the same.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from segport.brevo import BrevoClient, BrevoError, Process
from segport.contacts.chunks import ImportChunk, iter_import_chunks
from segport.exports import hooks
from segport.exports.fingerprint import quote_ident
from segport.exports.prefetch import prefetched
from segport.exports.progress import Progress, ProgressCallback
from segport.exports.state import ExportState
from segport.exports.state_tables import BREVO_REJECTS, CHUNKS, HELD, REPORTED, create

READ_BATCH_ROWS = 50_000

# Brevo's report kinds (GET /processes/{id} -> info.import) and our reason codes; the
# contacts of "dropped" kinds are not in Brevo, so they are not recorded as held.
REPORT_REASONS = {
    "invalid_emails": ("brevo_invalid_email", True),
    "duplicate_email_id": ("brevo_duplicate_email", True),
    "duplicate_contact_id": ("brevo_duplicate_contact_id", True),
    "duplicate_ext_id": ("brevo_duplicate_ext_id", True),
    "duplicate_phone_id": ("brevo_duplicate_phone", False),
    "duplicate_whatsapp_id": ("brevo_duplicate_whatsapp", False),
    "duplicate_landline_number_id": ("brevo_duplicate_landline", False),
}


@dataclass
class SendOutcome:
    chunks: int = 0
    sent: int = 0
    failed_chunks: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # processes still running at timeout


class ChunkSender:
    """Sends one run's plan (``table``) into ``list_id``; resumable from its checkpoints."""

    def __init__(
        self,
        state: ExportState,
        client: BrevoClient,
        *,
        run_id: int,
        table: str,
        list_id: int,
        attribute_columns: list[str],
        progress: ProgressCallback,
        process_timeout: float,
        max_bytes: int,
    ) -> None:
        self.state = state
        self.con = state.con
        self.client = client
        self.run_id = run_id
        self.table = table
        self.list_id = list_id
        self.attribute_columns = attribute_columns
        self.progress = progress
        self.process_timeout = process_timeout
        self.max_bytes = max_bytes
        self._mask_column: str | None = None

    # -- submitting -------------------------------------------------------------------

    def submit_remaining(self, outcome: SendOutcome, total: int) -> None:
        """Post every plan row no submitted or done chunk covers, chunk by chunk."""
        con = self.con
        con.execute(
            f"DELETE FROM {CHUNKS} WHERE run_id = ? AND kind = 'import' AND status = 'failed'",
            [self.run_id],
        )
        # Chunks partition the rows they carry (a chunk is cut from uncovered rows only),
        # so their row counts add up to the rows covered.
        covered = self.state.count(
            f"SELECT coalesce(sum(rows), 0) FROM {CHUNKS} WHERE run_id = ? AND kind = 'import'",
            [self.run_id],
        )
        if covered >= total:
            return
        cols = ", ".join(quote_ident(c) for c in ["EMAIL", *self.attribute_columns])
        # {window} restricts the scan to one range of sequence numbers (zone maps skip the
        # rest of the table), before the check against the chunks already sent.
        uncovered = f"""SELECT __seq, {cols} FROM {self.table} p WHERE {{window}}
            AND NOT EXISTS (SELECT 1 FROM {CHUNKS} c WHERE c.run_id = {int(self.run_id)}
            AND c.kind = 'import' AND p.__seq BETWEEN c.first_seq AND c.last_seq)"""
        number = self.state.count(
            f"SELECT coalesce(max(chunk_no), 0) FROM {CHUNKS} WHERE run_id = ? AND kind = 'import'",
            [self.run_id],
        )
        # The plan numbers the contacts that must have a value emptied first (1..emptying):
        # they go in chunks of their own, sent with emptyContactsAttributes, so the other
        # contacts' empty cells keep Brevo's values as before.
        emptying = self.state.count(f"SELECT count(*) FROM {self.table} WHERE __empty")
        parts = [(1, emptying, True), (emptying + 1, total, False)]
        posted = covered
        self.progress(Progress("send", posted, total))
        # The next chunk's body is built on a thread (with its own cursor) while Brevo
        # takes the current one: serialising costs about a quarter of the send time.
        reader = self.con.cursor()

        def chunks() -> Iterator[tuple[bool, ImportChunk]]:
            for first, last, empty in parts:
                if first > last:
                    continue
                for chunk in iter_import_chunks(
                    self._windows(reader, uncovered, first, last),
                    self.attribute_columns,
                    max_bytes=self.max_bytes,
                    carry=["__seq"],
                ):
                    yield empty, chunk

        with reader, prefetched(chunks) as ahead:
            for empty, chunk in ahead:
                number += 1
                self._post(chunk, number, outcome, empty=empty)
                posted += chunk.row_count
                self.progress(Progress("send", posted, total))

    def _post(
        self, chunk: ImportChunk, number: int, outcome: SendOutcome, *, empty: bool = False
    ) -> None:
        seqs = chunk.rows.column("__seq")
        first, last = int(seqs[0].as_py()), int(seqs[-1].as_py())
        # Recorded before the call: killed while Brevo takes it, the next run knows these
        # rows may be in Brevo (engine._settle_previous).
        self.con.execute(
            f"INSERT INTO {CHUNKS} VALUES (?, 'import', ?, ?, ?, ?, ?, 'posting', NULL)",
            [self.run_id, number, first, last, chunk.row_count, chunk.byte_size],
        )
        self.state.note_checkpoint()  # known elsewhere before Brevo may take it
        try:
            process_id = self.client.import_contacts(
                list_ids=[self.list_id],
                file_body=chunk.body,
                update_existing_contacts=True,
                empty_contacts_attributes=empty,
            )
        except BrevoError as exc:
            if exc.status is not None and 400 <= exc.status < 500:  # refused: not taken
                self.con.execute(
                    f"DELETE FROM {CHUNKS} WHERE run_id = ? AND kind = 'import' AND chunk_no = ?",
                    [self.run_id, number],
                )
                self.state.note_checkpoint()
            raise
        hooks.checkpoint("posted", number)
        self.con.execute(
            f"UPDATE {CHUNKS} SET status = 'submitted', process_id = ? WHERE run_id = ? "
            "AND kind = 'import' AND chunk_no = ?",
            [process_id, self.run_id, number],
        )
        self.state.note_checkpoint()
        hooks.checkpoint("submitted", number)
        outcome.chunks += 1
        outcome.sent += chunk.row_count

    def _windows(
        self, con: duckdb.DuckDBPyConnection, uncovered: str, first: int, last: int
    ) -> Iterator[pa.Table]:
        """The uncovered rows numbered ``first..last`` in ``__seq`` order, a window of
        sequence numbers at a time.

        Sorting one window at a time keeps memory small; ``__seq`` runs 1..total, so the
        windows tile the plan.
        """
        for start in range(first, last + 1, READ_BATCH_ROWS):
            stop = min(start + READ_BATCH_ROWS - 1, last)
            window = f"p.__seq BETWEEN {int(start)} AND {int(stop)}"
            table: pa.Table = con.sql(
                uncovered.format(window=window) + " ORDER BY __seq"
            ).to_arrow_table()
            if table.num_rows:
                yield table

    # -- waiting ----------------------------------------------------------------------

    def settle(self, outcome: SendOutcome) -> None:
        """Wait for every submitted chunk's process and checkpoint its result."""
        rows = self.con.execute(
            f"""SELECT chunk_no, first_seq, last_seq, rows, process_id FROM {CHUNKS}
               WHERE run_id = ? AND kind = 'import' AND status = 'submitted' ORDER BY chunk_no""",
            [self.run_id],
        ).fetchall()
        total = len(rows)
        for i, (number, first, last, count, process_id) in enumerate(rows):
            self.progress(Progress("process", i, total, unit="chunks"))
            from segport.brevo import NotFoundError, ProcessTimeoutError

            try:
                # Ask once at once: chunks sent earlier are usually done by now, and each
                # poll counts against Brevo's hourly budget for /processes.
                process = self.client.get_process(int(process_id))
                if not process.finished:
                    process = self.client.wait_for_process(
                        int(process_id),
                        timeout=self.process_timeout,
                        first_delay=_first_poll_delay(int(count)),
                    )
            except ProcessTimeoutError as exc:
                outcome.waiting.append(f"chunk {number} (process {process_id}): {exc}")
                continue
            except NotFoundError:
                # Brevo no longer knows the process (e.g. an import that never started):
                # the rows are sent again.
                self._mark(number, "failed")
                outcome.failed_chunks.append(
                    f"chunk {number} (rows {first}-{last}): Brevo does not know process "
                    f"{process_id}"
                )
                continue
            if not process.completed:
                self._mark(number, "failed")
                outcome.failed_chunks.append(
                    f"chunk {number} ({count} contacts): Brevo's import process {process_id} "
                    f"ended {process.status}"
                )
                continue
            self._complete(int(number), int(first), int(last), process)
            self.state.note_checkpoint()
            hooks.checkpoint("done", int(number))
        self.progress(Progress("process", total, total, unit="chunks"))

    def _mark(self, number: int, status: str) -> None:
        self.con.execute(
            f"UPDATE {CHUNKS} SET status = ? WHERE run_id = ? AND kind = 'import' AND chunk_no = ?",
            [status, self.run_id, number],
        )
        self.state.note_checkpoint()

    def _complete(self, number: int, first: int, last: int, process: Process) -> None:
        failures = list(self._report_rows(process))
        con = self.con
        with self.state.transaction():
            create(con, REPORTED, replace=True)
            if failures:
                con.executemany(f"INSERT INTO {REPORTED} VALUES (?, ?, ?, ?)", failures)
            con.execute(
                f"""INSERT INTO {BREVO_REJECTS}
                SELECT ?, p._customer_id, r.email, 'EMAIL', r.reason, r.detail
                FROM {REPORTED} r LEFT JOIN (
                    SELECT EMAIL, _customer_id FROM {self.table}
                    WHERE __seq BETWEEN ? AND ?) p ON p.EMAIL = r.email""",
                [self.run_id, first, last],
            )
            # Only contacts Brevo held from us at plan time can have a row to replace (a
            # new one enters held only through its own chunk, below).
            con.execute(
                f"""DELETE FROM {HELD} WHERE email IN (
                    SELECT EMAIL FROM {self.table} WHERE __seq BETWEEN ? AND ?
                    AND __kind <> 'new')""",
                [first, last],
            )
            con.execute(
                f"""INSERT INTO {HELD} (email, customer_id, fp, mask)
                SELECT EMAIL, _customer_id, __fp, {self._mask()} FROM {self.table}
                WHERE __seq BETWEEN ? AND ?
                AND EMAIL NOT IN (SELECT email FROM {REPORTED} WHERE dropped AND email IS NOT NULL)
                AND NOT EXISTS (SELECT 1 FROM {CHUNKS} c WHERE c.run_id = ? AND c.kind = 'import'
                    AND c.chunk_no <> ? AND c.status <> 'done'
                    AND __seq BETWEEN c.first_seq AND c.last_seq)""",
                [first, last, self.run_id, number],
            )
            con.execute(
                f"UPDATE {CHUNKS} SET status = 'done' WHERE run_id = ? AND kind = 'import' "
                "AND chunk_no = ?",
                [self.run_id, number],
            )

    def _mask(self) -> str:
        """The mask a sent contact is held with (a plan written before masks existed has
        none: NULL, read as "every column may hold a value")."""
        if self._mask_column is None:
            has = self.state.has_column(self.table, "__nz")
            # An emptying chunk leaves Brevo only the values sent; otherwise Brevo keeps
            # what an empty cell did not replace (a NULL mask: not known).
            self._mask_column = (
                "CASE WHEN __empty OR __kind = 'new' THEN __nz ELSE __nz | __was END"
                if has
                else "NULL::UBIGINT"
            )
        return self._mask_column

    def _report_rows(self, process: Process) -> Iterator[tuple[str | None, str, str, bool]]:
        report = process.import_report
        if report is None:
            return
        for kind, url in report.urls().items():
            reason, dropped = REPORT_REASONS.get(kind, (f"brevo_{kind}", False))
            text = self.client.download_report(url)
            for email, detail in parse_report(text):
                yield email, reason, detail, dropped


def _first_poll_delay(rows: int) -> float:
    """Seconds before polling a chunk's process again: a small import is often done in a
    tenth of a second, a full one takes longer; the backoff doubles from here."""
    return min(0.2, max(0.05, rows * 2e-6))


def parse_report(text: str) -> Iterator[tuple[str | None, str]]:
    """(email, detail) of each row of a Brevo import report CSV (``;`` or ``,``)."""
    lines = text.lstrip("\ufeff")
    if not lines.strip():
        return
    first = lines.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(lines), delimiter=delimiter)
    header = [h.strip().upper() for h in next(reader, [])]
    email_at = header.index("EMAIL") if "EMAIL" in header else None
    reason_at = next((header.index(k) for k in ("REASON", "ERROR", "MESSAGE") if k in header), None)
    for row in reader:
        if not row or not any(cell.strip() for cell in row):
            continue
        email = (
            row[email_at].strip().lower() if email_at is not None and email_at < len(row) else None
        )
        detail = (
            row[reason_at].strip()
            if reason_at is not None and reason_at < len(row)
            else ";".join(row)
        )
        yield (email or None), detail

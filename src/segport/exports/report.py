"""What a run leaves on disk: its rejected-rows CSV and its change record.

``rejected.csv`` has every row segport set aside or sent without a value, and every row
Brevo's import reported, each with its outcome (:class:`segport.contacts.rejects.Outcome`),
field, the value that failed, the reason code and a detail. ``changes.csv`` lists what
Brevo accepted from the run: the contacts added and updated (chunks Brevo finished) and
those taken out of the list (removal batches checkpointed).

Both are written set-based by DuckDB ``COPY``; every text cell a spreadsheet would run as a
formula is neutralised in the same statement (OWASP, "CSV Injection").
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from segport.contacts.rejects import Outcome, Reason, not_sent_reasons
from segport.exports.fingerprint import quote_ident, quote_literal
from segport.exports.state import ExportState
from segport.exports.state_tables import BREVO_REJECTS, CHUNKS, RUN_CHANGES
from segport.exports.summary import RunSummary

REJECTED_CSV = "rejected.csv"
CHANGES_CSV = "changes.csv"
PLAN_REJECTS = "plan-rejects.csv"  # the plan's rejects, written before anything is sent

# The columns of rejected.csv: the first five as before (scripts may read them by
# position), then what each row means for its contact and the value that failed.
COLUMNS = ("customer_id", "email", "field", "reason", "detail", "outcome", "value")
CHANGE_COLUMNS = ("outcome", "email", "customer_id")
REJECTS_ORDER = "reason, customer_id, email"

# Brevo reports rows by email; the field its reason is about.
_BREVO_FIELDS = {
    Reason.BREVO_DUPLICATE_PHONE.value: "SMS",
    Reason.BREVO_DUPLICATE_WHATSAPP.value: "WHATSAPP",
    Reason.BREVO_DUPLICATE_LANDLINE.value: "LANDLINE_NUMBER",
    Reason.BREVO_DUPLICATE_EXT_ID.value: "EXT_ID",
}
# A cell starting with one of these is read as a formula by Excel, LibreOffice or Google
# Sheets (OWASP's list, with LF and the fullwidth forms some locales accept).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralised(expr: str) -> str:
    """SQL: the text ``expr`` with a ``'`` before a formula's first character (a spreadsheet
    then shows the text instead of running it; a ``'`` cell is left as it is).

    ``ascii`` gives the first character's code point: comparing numbers costs less than
    cutting a one-character string out of each of a million cells.
    """
    codes = ", ".join(str(ord(c)) for c in _FORMULA_STARTS)
    return f"CASE WHEN ascii({expr}) IN ({codes}) THEN '''' || {expr} ELSE {expr} END"


def _in(values: Iterable[str]) -> str:
    return "(" + ", ".join(quote_literal(v) for v in values) + ")"


def _plan_rows(source: str) -> str:
    """The plan's rejects of ``source`` with their outcome: a contact with a reason that
    keeps it out is not sent, whatever its other rows say."""
    dropped = _in(not_sent_reasons())
    return f"""SELECT customer_id, email, field, reason, detail,
        CASE WHEN reason IN {dropped} OR customer_id IN (
            SELECT customer_id FROM {source} WHERE reason IN {dropped}
            AND customer_id IS NOT NULL)
        THEN '{Outcome.NOT_SENT}' ELSE '{Outcome.SENT_WITHOUT_FIELD}' END AS outcome,
        value FROM {source}"""


def _brevo_rows(state: ExportState, run_id: int, send_table: str | None) -> str:
    """Brevo's reports of ``run_id`` with the field they are about, the value (from the
    send plan, when it is there) and their outcome."""
    field = "CASE b.reason " + " ".join(
        f"WHEN {quote_literal(r)} THEN {quote_literal(f)}" for r, f in _BREVO_FIELDS.items()
    )
    field += " ELSE b.field END"
    # The value of a field other than the email is the one the plan sent (unknown without
    # the plan: the run's plan is gone once it ended).
    columns: set[str] = set()
    if send_table is not None and state.relation_kind(send_table) is not None:
        columns = {
            d[0] for d in state.con.execute(f"SELECT * FROM {send_table} LIMIT 0").description
        }
    cases = " ".join(
        f"WHEN {quote_literal(r)} THEN "
        + (f"CAST(p.{quote_ident(f)} AS VARCHAR)" if f in columns else "NULL")
        for r, f in _BREVO_FIELDS.items()
    )
    value = f"CASE b.reason {cases} ELSE b.email END"
    join = ""
    if any(f in columns for f in _BREVO_FIELDS.values()):
        join = f"LEFT JOIN (SELECT * FROM {send_table}) p ON p.EMAIL = b.email"
    dropped = _in(not_sent_reasons())
    return f"""SELECT b.customer_id, b.email, {field} AS field, b.reason, b.detail,
        CASE WHEN b.reason IN {dropped} THEN '{Outcome.NOT_IMPORTED}'
        ELSE '{Outcome.IMPORTED_WITHOUT_FIELD}' END AS outcome,
        {value} AS value
        FROM {BREVO_REJECTS} b {join} WHERE b.run_id = {int(run_id)}"""


def _copy(
    state: ExportState,
    query: str,
    columns: Iterable[str],
    path: Path,
    order: str = "",
    plain: frozenset[str] | set[str] = frozenset(),
) -> int:
    """COPY ``query`` to ``path`` (via a part file), in ``order`` when given, with every cell
    neutralised but those of the ``plain`` columns (ours); returns the rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = ", ".join(
        quote_ident(c) if c in plain else f"{neutralised(quote_ident(c))} AS {quote_ident(c)}"
        for c in columns
    )
    tmp = path.with_name(path.name + ".part")
    order_by = f" ORDER BY {order}" if order else ""
    # COPY answers with the number of rows it wrote.
    written = state.count(
        f"COPY (SELECT {cells} FROM ({query}){order_by}) TO {quote_literal(str(tmp))} "
        "(HEADER, DELIMITER ',')"
    )
    tmp.chmod(0o600)  # personal data: readable by the owner only, like the workspace's files
    tmp.replace(path)
    return written


def write_rejects_csv(state: ExportState, plan_rejects: str, run_id: int | None, path: Path) -> int:
    """Write the plan's rejects (table ``plan_rejects``), and Brevo's reports of ``run_id``
    when given, to ``path`` (``,``-separated, header, UTF-8); returns its row count."""
    query = _plan_rows(plan_rejects)
    if run_id is not None:
        query += " UNION ALL " + _brevo_rows(state, run_id, None)
    return _copy(state, query, COLUMNS, path, REJECTS_ORDER, plain={"outcome"})


def brevo_failures(state: ExportState, run_id: int) -> dict[str, int]:
    rows = state.con.execute(
        f"SELECT reason, count(*) FROM {BREVO_REJECTS} WHERE run_id = ? GROUP BY reason "
        "ORDER BY reason",
        [run_id],
    ).fetchall()
    return {str(r): int(n) for r, n in rows}


def count_outcomes(state: ExportState, path: Path, summary: RunSummary) -> None:
    """Fill the summary's ``not_sent`` and ``sent_without_field`` counts from the written
    rejected-rows file: contacts kept out by reason, and values left out by reason."""
    if not path.exists():
        return
    rows = state.con.execute(
        f"""SELECT outcome, reason, count(*) FROM read_csv({quote_literal(str(path))},
        header = true, all_varchar = true, delim = ',')
        WHERE outcome IN ('{Outcome.NOT_SENT}', '{Outcome.SENT_WITHOUT_FIELD}')
        GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    dropped = set(not_sent_reasons())
    summary.not_sent, summary.sent_without_field = {}, {}
    for outcome, reason, n in rows:
        if outcome == Outcome.NOT_SENT and reason in dropped:
            summary.not_sent[str(reason)] = int(n)
        elif outcome == Outcome.SENT_WITHOUT_FIELD:
            summary.sent_without_field[str(reason)] = int(n)


def finish_rejects_csv(
    state: ExportState, part: Path, run_id: int, path: Path, send_table: str | None = None
) -> None:
    """The run's CSV: the rejects written at plan time, then what Brevo reported."""
    if part.exists() and not state.count(
        f"SELECT count(*) FROM {BREVO_REJECTS} WHERE run_id = ?", [int(run_id)]
    ):
        part.replace(path)  # Brevo reported nothing: the plan's file is the whole list
        return
    names = ", ".join(quote_ident(c) for c in COLUMNS)
    if part.exists():
        read = (
            f"read_csv({quote_literal(str(part))}, header = true, all_varchar = true, delim = ',')"
        )
        header = {d[0] for d in state.con.execute(f"SELECT * FROM {read} LIMIT 0").description}
        if "outcome" not in header:  # written by a release before outcomes (a resumed run)
            read = _plan_rows(f"(SELECT *, NULL::VARCHAR AS value FROM {read})")
            read = f"({read})"
        source = f"SELECT {names} FROM {read}"
    else:
        source = f"SELECT {names} FROM ({_brevo_rows(state, run_id, None)}) WHERE false"
    query = f"{source} UNION ALL {_brevo_rows(state, run_id, send_table)}"
    _copy(state, query, COLUMNS, path, REJECTS_ORDER, plain={"outcome"})
    part.unlink(missing_ok=True)


def write_changes_csv(
    state: ExportState, run_id: int, send_table: str, remove_table: str, path: Path
) -> dict[str, int]:
    """Write what Brevo accepted from run ``run_id`` to ``path``; returns counts by outcome.

    ``added`` and ``updated``: the plan's new and changed contacts in chunks Brevo finished
    (as they became held: not in a chunk still pending, not refused by Brevo's report);
    ``removed``: the leavers of checkpointed removal batches. A ``--full`` run's unchanged
    contacts are sent again but changed nothing, so they are not listed. What earlier plans
    of the same (resumed) run had Brevo accept was kept in ``run_changes`` by
    :func:`keep_changes` before their plan was dropped, and is listed too.
    """
    parts, updated, removed = _change_parts(state, run_id, send_table, remove_table)
    kept = f"FROM {RUN_CHANGES} WHERE run_id = {int(run_id)}"
    if state.count(f"SELECT count(*) {kept}"):
        parts.append(f"SELECT outcome, email, customer_id {kept}")
        updated += state.count(f"SELECT count(*) {kept} AND outcome = 'updated'")
        removed += state.count(f"SELECT count(*) {kept} AND outcome = 'removed'")
    if not parts:
        parts.append(
            "SELECT NULL::VARCHAR AS outcome, NULL::VARCHAR AS email, "
            "NULL::VARCHAR AS customer_id WHERE false"
        )
    # The outcome is ours; the email and customer id come from the data.
    written = _copy(state, " UNION ALL ".join(parts), CHANGE_COLUMNS, path, plain={"outcome"})
    counts = {"added": written - updated - removed, "updated": updated, "removed": removed}
    return {k: n for k, n in counts.items() if n}


def keep_changes(state: ExportState, run_id: int, send_table: str, remove_table: str) -> None:
    """Keep what Brevo accepted from the current plan of run ``run_id`` in ``run_changes``,
    before a resumed run drops that plan and its chunks (exports.resume.carry); the run's
    report lists them with what its new plan sends. Rows of other runs are dropped."""
    state.con.execute(f"DELETE FROM {RUN_CHANGES} WHERE run_id <> ?", [int(run_id)])
    parts, _, _ = _change_parts(state, run_id, send_table, remove_table)
    if parts:
        state.con.execute(
            f"INSERT INTO {RUN_CHANGES} SELECT {int(run_id)}, * FROM ({' UNION ALL '.join(parts)})"
        )


def _change_parts(
    state: ExportState, run_id: int, send_table: str, remove_table: str
) -> tuple[list[str], int, int]:
    """SELECTs of (outcome, email, customer_id) for the accepted rows of the current plan,
    with the counts of updated and removed rows among them."""
    parts: list[str] = []
    updated = removed = 0
    if state.relation_kind(send_table) is not None:
        source = _accepted_sends(state, int(run_id), send_table)
        parts.append(
            "SELECT CASE p.__kind WHEN 'changed' THEN 'updated' ELSE 'added' END AS outcome, "
            f"p.EMAIL AS email, CAST(p._customer_id AS VARCHAR) AS customer_id {source}"
        )
        # Counted apart from the file: the changed rows are few, or none on a first run.
        updated = state.count(f"SELECT count(*) {source} AND p.__kind = 'changed'")
    if state.relation_kind(remove_table) is not None:
        names = {
            d[0] for d in state.con.execute(f"SELECT * FROM {remove_table} LIMIT 0").description
        }
        # A leaver another export on the list holds stays on the list: not removed.
        kept = " WHERE NOT coalesce(r.__shared, false)" if "__shared" in names else ""
        leavers = f"""FROM {remove_table} r JOIN (SELECT DISTINCT first_seq, last_seq
            FROM {CHUNKS} WHERE run_id = {int(run_id)} AND kind = 'remove' AND status = 'done') c
            ON r.__seq BETWEEN c.first_seq AND c.last_seq{kept}"""
        parts.append(f"SELECT 'removed', r.email, CAST(r.customer_id AS VARCHAR) {leavers}")
        removed = state.count(f"SELECT count(*) {leavers}")
    return parts, updated, removed


MAX_RANGES = 64  # merged chunk ranges written out as a filter; past this, a range join


def _accepted_sends(state: ExportState, run_id: int, send_table: str) -> str:
    """The FROM/WHERE clause over ``send_table`` (as ``p``) selecting the new and changed
    rows Brevo accepted.

    Chunks are cut from rows no other chunk carries, in plan order, so the done chunks'
    ranges usually tile the plan: merged, they are a filter on ``__seq`` that costs
    nothing next to writing the file (a range join doubled the cost of a million rows, a
    correlated check per row cost ten times). Where ranges overlap or a chunk is not done,
    each row is checked as ``send`` checked it when recording what Brevo holds.
    """
    chunks = f"FROM {CHUNKS} WHERE run_id = {run_id} AND kind = 'import'"
    done = f"(SELECT first_seq, last_seq {chunks} AND status = 'done')"
    ranges = [
        (int(first), int(last))
        for first, last in state.con.execute(
            f"SELECT first_seq, last_seq FROM {done} ORDER BY first_seq"
        ).fetchall()
    ]
    merged: list[tuple[int, int]] = []
    overlaps = False
    for first, last in ranges:
        if merged and first <= merged[-1][1]:
            overlaps = True
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    pending = state.count(f"SELECT count(*) {chunks} AND status <> 'done'")
    kinds = "p.__kind IN ('new', 'readd', 'changed')"
    if overlaps or pending:
        source = f"""FROM {send_table} p WHERE {kinds}
            AND EXISTS (SELECT 1 FROM {done} c WHERE p.__seq BETWEEN c.first_seq AND c.last_seq)
            AND NOT EXISTS (SELECT 1 {chunks} AND status <> 'done'
                AND p.__seq BETWEEN first_seq AND last_seq)"""
    elif len(merged) <= MAX_RANGES:
        within = " OR ".join(f"p.__seq BETWEEN {f} AND {t}" for f, t in merged) or "false"
        source = f"FROM {send_table} p WHERE {kinds} AND ({within})"
    else:
        source = f"""FROM {send_table} p JOIN {done} c ON p.__seq BETWEEN c.first_seq AND c.last_seq
            WHERE {kinds}"""
    refused = [r for r in not_sent_reasons() if r.startswith("brevo_")]
    if state.count(
        f"SELECT count(*) FROM {BREVO_REJECTS} WHERE run_id = {run_id} AND reason IN {_in(refused)}"
    ):
        source += f""" AND p.EMAIL NOT IN (SELECT email FROM {BREVO_REJECTS}
            WHERE run_id = {run_id} AND reason IN {_in(refused)} AND email IS NOT NULL)"""
    return source


def write_run_report(
    state: ExportState,
    run_id: int,
    folder: Path,
    summary: RunSummary,
    *,
    send: str,
    remove: str,
) -> None:
    """The report step of a real run: ``rejected.csv`` and ``changes.csv`` in ``folder``,
    and the counts they give in ``summary``."""
    path = folder / REJECTED_CSV
    finish_rejects_csv(state, folder / PLAN_REJECTS, run_id, path, send)
    summary.rejected_csv = str(path)
    summary.brevo_failures = brevo_failures(state, run_id)
    count_outcomes(state, path, summary)
    changes = folder / CHANGES_CSV
    summary.changes = write_changes_csv(state, run_id, send, remove, changes)
    summary.changes_csv = str(changes)


def write_dry_report(state: ExportState, rejects: str, path: Path, summary: RunSummary) -> None:
    """The report step of a dry run: its rejected rows, and their counts in ``summary``."""
    write_rejects_csv(state, rejects, None, path)
    summary.rejected_csv = str(path)
    count_outcomes(state, path, summary)

"""The run's rejected-rows CSV: every rejected or altered row, ours and Brevo's."""

from __future__ import annotations

from pathlib import Path

from segport.exports.fingerprint import quote_literal
from segport.exports.state import ExportState

COLUMNS = "customer_id, email, field, reason, detail"


def write_rejects_csv(state: ExportState, plan_rejects: str, run_id: int | None, path: Path) -> int:
    """Write the CSV at ``path`` (``,``-separated, header, UTF-8); returns its row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    brevo = (
        f"UNION ALL SELECT {COLUMNS} FROM brevo_rejects WHERE run_id = {int(run_id)}"
        if run_id is not None
        else ""
    )
    query = f"SELECT {COLUMNS} FROM {plan_rejects} {brevo} ORDER BY reason, customer_id, email"
    tmp = path.with_suffix(".csv.part")
    # COPY answers with the number of rows it wrote.
    written = state.count(f"COPY ({query}) TO {quote_literal(str(tmp))} (HEADER, DELIMITER ',')")
    tmp.replace(path)
    return written


def brevo_failures(state: ExportState, run_id: int) -> dict[str, int]:
    rows = state.con.execute(
        "SELECT reason, count(*) FROM brevo_rejects WHERE run_id = ? GROUP BY reason "
        "ORDER BY reason",
        [run_id],
    ).fetchall()
    return {str(r): int(n) for r, n in rows}


def finish_rejects_csv(state: ExportState, part: Path, run_id: int, path: Path) -> None:
    """The run's CSV: the rejects written at plan time, then what Brevo reported."""
    if part.exists() and not state.count(
        "SELECT count(*) FROM brevo_rejects WHERE run_id = ?", [int(run_id)]
    ):
        part.replace(path)  # Brevo reported nothing: the plan's file is the whole list
        return
    source = (
        f"SELECT {COLUMNS} FROM read_csv({quote_literal(str(part))}, header = true, "
        "all_varchar = true, delim = ',')"
        if part.exists()
        else f"SELECT {COLUMNS} FROM brevo_rejects WHERE false"
    )
    query = f"{source} UNION ALL SELECT {COLUMNS} FROM brevo_rejects WHERE run_id = {int(run_id)}"
    tmp = path.with_suffix(".csv.part")
    state.con.execute(f"COPY ({query}) TO {quote_literal(str(tmp))} (HEADER, DELIMITER ',')")
    tmp.replace(path)

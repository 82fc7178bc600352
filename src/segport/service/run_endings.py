"""How a run's record ends: its status, reason, counts and summary, written once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from segport.exports.summary import SUCCESSFUL, RunSummary
from segport.secret import redact, redact_data
from segport.service.export_configs import record_last_run
from segport.service.models import utcnow
from segport.service.run_model import COMPLETED, ERROR, Run
from segport.service.workspace import Workspace


def canceled_message(signal_name: str) -> str:
    how = "stopped by SIGTERM" if signal_name == "SIGTERM" else "interrupted"
    return f"canceled ({how}); run again to resume"


def summary_of(ws: Workspace, run_id: int) -> RunSummary:
    with ws.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        summary = RunSummary.from_dict(run.summary or {"export_name": ""})
        summary.status, summary.message, summary.reason = run.status, run.message, run.reason
        summary.run_id, summary.run_number = run.id, run.number
        return summary


def finish_run(session: Session, run: Run, summary: RunSummary) -> None:
    now = utcnow()
    summary.run_id, summary.run_number = run.id, run.number
    summary.reason = summary.reason or (COMPLETED if summary.status == SUCCESSFUL else ERROR)
    run.status, run.reason = summary.status, summary.reason
    # Messages can quote what a server answered; keep no API key in the run history.
    summary.message = run.message = redact(summary.message) if summary.message else None
    run.finished_at = now
    run.members = summary.members
    run.sent = summary.sent
    run.removed = summary.removed
    run.rejected = summary.rejected_total
    run.summary = redact_data(summary.to_dict())
    # Earlier runs whose change record this run completed (chunks they left unconfirmed).
    for old_id, counts in summary.earlier_run_changes.items():
        older = session.get(Run, int(old_id))
        if older is not None and older.export_id == run.export_id and older.summary:
            older.summary = {**older.summary, "changes": counts}
    record_last_run(session, run.export_id, summary.status, now)


def record_end(
    ws: Workspace,
    run_id: int | None,
    export_name: str,
    status: str,
    message: str,
    reason: str,
) -> None:
    if run_id is None:
        return
    with ws.session() as session:
        run = session.get(Run, run_id)
        if run is not None:
            summary = RunSummary.from_dict(run.summary or {"export_name": export_name})
            summary.status, summary.message, summary.reason = status, message, reason
            finish_run(session, run, summary)

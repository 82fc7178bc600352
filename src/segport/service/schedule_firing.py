"""Exports on their own cron schedule, fired by the worker: a run requested for each export
whose schedule has a firing due (once for any number missed), by name.

The firing is recorded first (:func:`~segport.service.export_schedules.record_export_firing`,
a conditional UPDATE: of several workers acting on the same firing exactly one records
it), then the run is requested (trigger ``schedule``). An export with a run already
queued or processing keeps that one and the firing counts as acted on, as for the system
refresh; a worker dying between the two loses that firing rather than doubling it. An
export that cannot run is requested all the same: its run ends ``skipped`` or ``failed``
with the reason when executed. Each firing is audited (``exports.schedule_fired``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from segport.service import audit
from segport.service.access import Action, Actor, authorize
from segport.service.export_schedules import due_export_schedules, record_export_firing
from segport.service.run_lifecycle import RunInProgress, insert_run, view_of
from segport.service.run_model import RunView
from segport.service.workspace import Workspace

__all__ = ["ExportFiring", "fire_due_export_schedules"]


@dataclass(frozen=True)
class ExportFiring:
    """One export whose schedule fired: its new run, or ``busy`` (the run going on), or
    ``problem`` (a schedule that can no longer be read: it did not fire)."""

    export_name: str
    fired_for: datetime | None
    caught_up: bool
    run: RunView | None = None
    busy: str | None = None
    problem: str | None = None


def fire_due_export_schedules(ws: Workspace, actor: Actor, now: datetime) -> list[ExportFiring]:
    """Request a run of every export whose own schedule has a firing due at ``now``."""
    actor = authorize(ws, actor, Action.EXPORTS_RUN)
    fired: list[ExportFiring] = []
    for item in due_export_schedules(ws, now):
        if item.problem is not None:
            fired.append(ExportFiring(item.name, None, False, problem=item.problem))
            continue
        if item.due_at is None:
            continue
        with ws.session() as session:
            if not record_export_firing(session, item.export_id, item.due_at):
                continue  # another worker fired it, or the schedule changed
            audit.record(
                session,
                actor,
                "exports.schedule_fired",
                item.name,
                {"fired_for": item.due_at.isoformat(), "caught_up": item.caught_up},
            )
        try:
            run_id = insert_run(
                ws, item.export_id, item.name, status="queued", actor=actor.name, trigger="schedule"
            )
        except RunInProgress as exc:
            fired.append(ExportFiring(item.name, item.due_at, item.caught_up, busy=str(exc)))
            continue
        fired.append(ExportFiring(item.name, item.due_at, item.caught_up, view_of(ws, run_id)))
    return fired

"""Runs by their id, across exports, with the files each left: what `runs show` and
`runs list` serve to every face.

Run ids are global (one sequence for the workspace), so a run is found by its id alone;
users see each run's number within its export ("Run 3 of export 'news'") beside it.
Reading runs needs the same right as listing an export's runs (viewers may).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from segport.errors import Invalid
from segport.exports.report import CHANGES_CSV, REJECTED_CSV
from segport.service.access import Action, Actor, authorize
from segport.service.export_configs import ExportNotFound
from segport.service.models import Export
from segport.service.run_model import RUNS_DIR, STATUSES, Run, RunView, find_run, run_view
from segport.service.workspace import Workspace

# Every status a run can have, in the order of a run's life (what `GET /runs` filters on).
RUN_STATUSES = STATUSES

# The files a run leaves in runs/<id>/, in the order they are shown, with what they hold.
RUN_FILES = {
    REJECTED_CSV: "rows not sent or sent without a field, and rows Brevo reported",
    CHANGES_CSV: "contacts Brevo accepted: added, updated, removed",
}


@dataclass(frozen=True)
class RunFile:
    name: str
    path: Path
    description: str
    rows: int | None  # data rows, from the run's summary (None: not counted)


@dataclass(frozen=True)
class RunDetail:
    run: RunView
    files: list[RunFile]


def show_run(ws: Workspace, actor: Actor, run_id: int) -> RunDetail:
    """The run ``run_id`` and the files it left (those still on disk)."""
    authorize(ws, actor, Action.EXPORTS_READ)
    with ws.session() as session:
        run, name = find_run(session, run_id)
        view = run_view(name, run, ws.path / RUNS_DIR)
    return RunDetail(view, run_files(ws, view))


def list_all_runs(
    ws: Workspace, actor: Actor, export_name: str | None = None, limit: int = 20
) -> list[RunView]:
    """The latest runs, newest first: of every export, or of ``export_name``."""
    authorize(ws, actor, Action.EXPORTS_READ)
    with ws.session() as session:
        query = select(Run, Export.name).join(Export, Export.id == Run.export_id)
        if export_name is not None:
            if session.scalars(select(Export.id).where(Export.name == export_name)).first() is None:
                raise ExportNotFound(f"no export named {export_name!r}")
            query = query.where(Export.name == export_name)
        rows = session.execute(query.order_by(Run.id.desc()).limit(max(limit, 0))).all()
        return [run_view(str(name), run, ws.path / RUNS_DIR) for run, name in rows]


@dataclass(frozen=True)
class RunPage:
    """One page of the runs, newest first: ``total`` runs match, ``runs`` are those from
    ``offset`` on, at most ``limit`` of them."""

    total: int
    offset: int
    limit: int
    runs: list[RunView]


def page_runs(
    ws: Workspace,
    actor: Actor,
    *,
    export_name: str | None = None,
    status: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> RunPage:
    """The runs of every export (or of ``export_name``), with ``status`` if given, newest
    first, one page of them and how many match in all."""
    authorize(ws, actor, Action.EXPORTS_READ)
    if status is not None and status not in STATUSES:
        raise Invalid(
            f"unknown run status {status!r}: use one of {', '.join(STATUSES)}",
            code="run_status_invalid",
            field="status",
        )
    if limit < 0 or offset < 0:
        raise Invalid("a page's limit and offset are zero or more", code="page_invalid")
    with ws.session() as session:
        query = select(Run, Export.name).join(Export, Export.id == Run.export_id)
        if export_name is not None:
            if session.scalars(select(Export.id).where(Export.name == export_name)).first() is None:
                raise ExportNotFound(f"no export named {export_name!r}")
            query = query.where(Export.name == export_name)
        if status is not None:
            query = query.where(Run.status == status)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.execute(query.order_by(Run.id.desc()).limit(limit).offset(offset)).all()
        runs = [run_view(str(name), run, ws.path / RUNS_DIR) for run, name in rows]
    return RunPage(total, offset, limit, runs)


def run_files(ws: Workspace, view: RunView) -> list[RunFile]:
    folder = ws.path / RUNS_DIR / str(view.id)
    summary = view.summary
    counts: dict[str, int | None] = {
        REJECTED_CSV: (summary.rejected_total + summary.brevo_failures_total if summary else None),
        CHANGES_CSV: (sum(summary.changes.values()) if summary and summary.changes_csv else None),
    }
    return [
        RunFile(name, folder / name, description, counts[name])
        for name, description in RUN_FILES.items()
        if (folder / name).is_file()
    ]

"""A run's checkpoints kept in the database as it goes, so that a worker on another machine
resumes it exactly when its own worker dies (SIGKILL, a machine gone).

With states shared through PostgreSQL (:mod:`segport.service.state_copies`), the copy an
export's previous run saved does not know what a lost run sent. So the executor of a run
(the engine tells it through :class:`~segport.exports.state.StateSink`):

- once the plan is saved, and before anything of it is sent, saves the state as the run's
  *plan copy* (only the parts that changed; it keeps the token the metadata names);
- at every chunk checkpoint (an import chunk posting, submitted, done or failed; a
  removal batch done), writes the run's checkpoint rows next to that copy, before
  anything the checkpoint announces is sent.

A folder that runs the export next, without the file the lost run used, fetches the plan
copy and lays the checkpoints over it (``state_copies.lay_checkpoints``): the resumed run
then settles what Brevo took exactly as it would have in the lost run's own folder.
A run that ends saves its state as usual, which replaces the plan copy.
"""

from __future__ import annotations

import json

from sqlalchemy import update

from segport.exports.state import ExportState
from segport.exports.state_tables import CHUNKS
from segport.service.models import Export
from segport.service.state_copies import save_open_state
from segport.service.state_copy_model import ExportStateCopy
from segport.service.workspace import Workspace

__all__ = ["RunCheckpoints"]

_COLUMNS = ("kind", "chunk_no", "first_seq", "last_seq", "rows", "bytes", "status", "process_id")


class RunCheckpoints:
    """The :class:`~segport.exports.state.StateSink` of one run of one export."""

    def __init__(self, ws: Workspace, export_id: int, run_id: int) -> None:
        self.ws, self.export_id, self.run_id = ws, export_id, run_id

    def planned(self, state: ExportState) -> None:
        with self.ws.session() as session:
            export = session.get(Export, self.export_id)
            token = export.state_token if export is not None else None
        if token is None:  # a first run: the state gets the token its copy is known by
            token = state.new_token()
        save_open_state(self.ws, state, self.export_id, token, plan_run_id=self.run_id)

    def checkpointed(self, state: ExportState) -> None:
        rows = state.con.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM {CHUNKS} WHERE run_id = ? ORDER BY kind, chunk_no",
            [self.run_id],
        ).fetchall()
        marks = json.dumps([dict(zip(_COLUMNS, row, strict=True)) for row in rows])
        with self.ws.session() as session:
            session.execute(
                update(ExportStateCopy)
                .where(
                    ExportStateCopy.export_id == self.export_id,
                    ExportStateCopy.plan_run_id == self.run_id,
                )
                .values(checkpoints=marks)
            )

"""The live-workers registry: who executes runs, where, since when, and on what.

A `segport worker` registers when it starts (:func:`register_worker`), signs of life
while it runs (:func:`beat`, also naming its current run) and leaves when it stops
(:func:`unregister_worker`). A worker whose heartbeat is older than the run heartbeat
timeout and whose process is gone (same host: the pid is checked; another host: the
timeout alone says so) is stale: its row is replaced, and :func:`list_workers` leaves it
out. On a SQLite workspace one worker runs at a time: the database refuses a second row
with the SQLite slot (``ix_workers_slot``), and :class:`WorkerRunning` names the first.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from segport.errors import Busy
from segport.service.access import Action, Actor, authorize
from segport.service.models import utcnow
from segport.service.run_lifecycle import timeout_seconds, worker_gone
from segport.service.worker_model import SQLITE_SLOT, WorkerRow
from segport.service.workspace import Workspace

__all__ = [
    "WorkerRunning",
    "WorkerView",
    "beat",
    "list_workers",
    "register_worker",
    "unregister_worker",
]


class WorkerRunning(Busy):
    """A worker already runs on this SQLite workspace; a second one is refused."""

    default_code = "worker_running"


@dataclass(frozen=True)
class WorkerView:
    """A live worker as `segport workers` shows it."""

    id: int
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    current_run_id: int | None

    @property
    def name(self) -> str:
        """``host:pid``, as ``runs.claimed_by`` names a run's executor."""
        return f"{self.host}:{self.pid}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "pid": self.pid,
            "started_at": self.started_at.isoformat(),
            "heartbeat_at": self.heartbeat_at.isoformat(),
            "current_run_id": self.current_run_id,
        }


def _view(row: WorkerRow) -> WorkerView:
    return WorkerView(
        id=row.id,
        host=row.host,
        pid=row.pid,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        current_run_id=row.current_run_id,
    )


def _stale(row: WorkerRow, now: datetime) -> bool:
    if row.heartbeat_at > now - timedelta(seconds=timeout_seconds()):
        return False
    return worker_gone(f"{row.host}:{row.pid}") is not False


def register_worker(ws: Workspace, actor: Actor) -> WorkerView:
    """Register this process as a worker; :class:`WorkerRunning` when a live worker holds
    the SQLite workspace (stale rows are removed first)."""
    authorize(ws, actor, Action.EXPORTS_RUN)
    now = utcnow()
    slot = SQLITE_SLOT if ws.engine.dialect.name == "sqlite" else None
    with ws.session() as session:
        for row in session.scalars(select(WorkerRow)).all():
            if _stale(row, now):
                # Only if it did not sign of life meanwhile.
                session.execute(
                    delete(WorkerRow).where(
                        WorkerRow.id == row.id, WorkerRow.heartbeat_at == row.heartbeat_at
                    )
                )
    host, pid = socket.gethostname(), os.getpid()
    try:
        with ws.engine.begin() as conn:  # (not a session: it turns the refusal into a Conflict)
            conn.execute(
                insert(WorkerRow).values(
                    host=host, pid=pid, slot=slot, started_at=now, heartbeat_at=now
                )
            )
            worker_id = conn.execute(
                select(WorkerRow.id)
                .where(WorkerRow.host == host, WorkerRow.pid == pid)
                .order_by(WorkerRow.id.desc())
                .limit(1)
            ).scalar_one()
        return WorkerView(worker_id, host, pid, now, now, None)
    except IntegrityError:
        first = _holder(ws)
        if first is None:  # it left between the refusal and the look
            return register_worker(ws, actor)
        raise WorkerRunning(
            f"a worker already runs on this workspace: {first.host} pid {first.pid}, since "
            f"{first.started_at:%Y-%m-%d %H:%M:%S} UTC (last sign of life "
            f"{first.heartbeat_at:%H:%M:%S} UTC). A SQLite workspace has one worker; stop "
            "that one first, or move the metadata to PostgreSQL to run several",
            details=first.to_dict(),
        ) from None


def _holder(ws: Workspace) -> WorkerView | None:
    with ws.session() as session:
        row = session.scalars(select(WorkerRow).where(WorkerRow.slot == SQLITE_SLOT)).first()
        return None if row is None else _view(row)


def beat(ws: Workspace, worker_id: int, current_run_id: int | None) -> bool:
    """Sign of life of worker ``worker_id``, naming its current run; False when its row is
    gone (another process found it stale and replaced it)."""
    with ws.engine.begin() as conn:
        done = conn.execute(
            update(WorkerRow)
            .where(WorkerRow.id == worker_id)
            .values(heartbeat_at=utcnow(), current_run_id=current_run_id)
        )
    return done.rowcount == 1


def unregister_worker(ws: Workspace, worker_id: int) -> None:
    with ws.engine.begin() as conn:
        conn.execute(delete(WorkerRow).where(WorkerRow.id == worker_id))


def list_workers(ws: Workspace, actor: Actor) -> list[WorkerView]:
    """The live workers, oldest first (stale rows are left out, not removed)."""
    authorize(ws, actor, Action.EXPORTS_READ)
    now = utcnow()
    with ws.session() as session:
        rows = session.scalars(select(WorkerRow).order_by(WorkerRow.started_at, WorkerRow.id))
        return [_view(r) for r in rows if not _stale(r, now)]

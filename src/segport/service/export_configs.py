"""Export configurations: a connection, a Brevo list, data matching and segments.

Saving checks everything (see :mod:`segport.service.export_checks`) and never runs the
export. :func:`get_run_spec` is the narrow interface the run engine asks for what to run.
Admins manage every export; contributors those on connections shared with contributors
(and detached ones); viewers only see them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from segport.errors import Conflict, NotFound
from segport.exports.config import ExportConfig
from segport.service import audit
from segport.service.access import Action, Actor, PermissionDenied, authorize, require
from segport.service.connection_use import (
    ConnectionCredentials,
    connection_for_export,
    credentials,
    export_user_problem,
    may_use,
)
from segport.service.export_brevo import (
    BrevoPlan,
    NewList,
    apply_brevo_plan,
    audit_created,
    check_brevo,
    check_list_choice,
)
from segport.service.export_checks import (
    DEFAULT_PROFILE_LIMIT,
    ExportInvalid,
    check_columns,
    check_local,
    check_segments,
    parse_attributes,
)
from segport.service.export_edits import ExportEdit, apply_edit
from segport.service.export_firings import export_next_firing
from segport.service.export_records import (
    ExportView,
    RunSpec,
    config_of,
    store_config,
)
from segport.service.list_sharing import busy_peers, list_peers, refuse_shared_list, target_of
from segport.service.models import Connection, Export, utcnow
from segport.service.workspace import Workspace, WorkspaceError

__all__ = [
    "DEFAULT_PROFILE_LIMIT",
    "ConnectionCredentials",
    "ExportChanged",
    "ExportInvalid",
    "ExportNotFound",
    "ExportNotRunnable",
    "ExportView",
    "RunSpec",
    "get_run_spec",
    "parse_attributes",
]


class ExportNotFound(NotFound, WorkspaceError):
    default_code = "export_not_found"


class ExportNotRunnable(Conflict, WorkspaceError):
    """The export cannot run now. ``skipped``: the run is recorded as skipped, not failed."""

    default_code = "export_not_runnable"

    def __init__(self, message: str, skipped: bool = False) -> None:
        super().__init__(message)
        self.reason = message
        self.skipped = skipped


class ExportChanged(Conflict, WorkspaceError):
    """The export changed while an edit was being checked; the edit was not saved."""

    default_code = "export_changed"


def _permissions(actor: Actor, export: Export) -> list[str]:
    perms = ["view"]
    if may_use(actor, export.connection):
        perms += ["edit", "run"]
    return perms


def _view(actor: Actor, e: Export, now: datetime | None = None) -> ExportView:
    session = object_session(e)
    return ExportView(
        config=config_of(e),
        connection_type=e.connection.type if e.connection else None,
        last_status=e.last_status,
        last_run_at=e.last_run_at,
        created_by=e.created_by,
        created_at=e.created_at,
        updated_at=e.updated_at,
        permissions=_permissions(actor, e),
        next_firing=export_next_firing(session, e, now) if session is not None else None,
    )


def _get(session: Session, name: str) -> Export:
    export = session.scalars(select(Export).where(Export.name == name)).one_or_none()
    if export is None:
        known = session.scalars(select(Export.name).order_by(Export.name)).all()
        raise ExportNotFound(f"no export named {name!r}; exports: {', '.join(known) or 'none'}")
    return export


def _checked(
    ws: Workspace,
    actor: Actor,
    config: ExportConfig,
    brevo_unchanged: bool = False,
    *,
    list_name: str | None = None,
    new_list: NewList | None = None,
    create_attributes: bool = False,
) -> tuple[BrevoPlan, ConnectionCredentials | None, int | None]:
    """``config`` checked in full, as a plan of what to create in Brevo before saving;
    with the connection's credentials and id (None: detached)."""
    check_list_choice(config, list_name, new_list)
    c = check_local(config, list_by_id=list_name is None and new_list is None)
    creds = None
    conn_id = None
    with ws.session() as session:
        if c.connection is not None:
            conn = connection_for_export(session, actor, c.connection)
            conn_id = conn.id
            creds = credentials(ws, conn)
        check_segments(session, c)
    columns = check_columns(ws, c)
    if creds is None or brevo_unchanged:
        return BrevoPlan(c), creds, conn_id
    plan = check_brevo(
        creds,
        c,
        columns,
        list_name=list_name,
        new_list=new_list,
        create_attributes=create_attributes,
    )
    return plan, creds, conn_id


def _one_list_way(list_id: int | None) -> None:
    if list_id is not None:
        raise ExportInvalid(
            "give the export's list one way: by id or by name",
            code="list_given_twice",
            field="list_name",
        )


def _summary(c: ExportConfig) -> dict[str, Any]:
    """The settings as the audit log records them."""
    m = c.mapping
    return {
        "connection": c.connection,
        "list_id": c.list_id,
        "segments": list(c.segments),
        "email": m.email,
        "first_name": m.first_name,
        "last_name": m.last_name,
        "phone": m.phone,
        "attributes": m.attributes,
        "mode": c.mode,
        "phone_region": c.phone_region,
        "phone_country_column": c.phone_country_column,
        "profile_limit": c.profile_limit,
        "schedule": c.schedule,
        "cron": c.cron,
        "timezone": c.timezone,
        "empty_values": c.empty_values,
        "share_list": c.share_list,
    }


def _next_run_note(ws: Workspace, e: Export) -> str | None:
    """What the export's state says the next run will do differently (target or mapping
    changed since the last run)."""
    if e.connection is None:
        return None
    from segport.exports.held import pending_note
    from segport.exports.state import state_path
    from segport.exports.target import mapping_digest

    identity = {**target_of(e), "connection": e.connection.name}
    return pending_note(state_path(ws.path, e.id), identity, mapping_digest(config_of(e)))


def _refuse_duplicate(session: Session, name: str) -> None:
    if session.scalars(select(Export.id).where(Export.name == name)).first() is not None:
        raise ExportInvalid(
            f"an export named {name!r} already exists; pick another name", field="name"
        )


def add_export(
    ws: Workspace,
    actor: Actor,
    config: ExportConfig,
    *,
    list_name: str | None = None,
    new_list: NewList | None = None,
    create_attributes: bool = False,
) -> ExportView:
    """Check and save a new export (it is not run). Its list is ``config.list_id``, or
    the account's list named ``list_name``, or ``new_list`` created for it; with
    ``create_attributes``, mapped attributes the account lacks are created (typed from
    their columns). Brevo is changed only once every check has passed."""
    actor = authorize(ws, actor, Action.EXPORTS_WRITE)
    if config.connection is None:
        raise ExportInvalid(
            "a connection is required: the connection the export sends through",
            code="connection_missing",
            field="connection",
        )
    with ws.session() as session:
        _refuse_duplicate(session, config.name.strip())
    plan, creds, conn_id = _checked(
        ws,
        actor,
        config,
        list_name=list_name,
        new_list=new_list,
        create_attributes=create_attributes,
    )
    if creds is not None and (plan.new_list is not None or plan.new_attributes):
        # What saving would refuse is refused before anything is created in Brevo.
        with ws.session() as session:
            _refuse_duplicate(session, plan.config.name)
            refuse_shared_list(session, plan.config, session.get(Connection, conn_id), None)
        plan = apply_brevo_plan(creds, plan)
    c = plan.config
    with ws.session() as session:
        _refuse_duplicate(session, c.name)
        conn = session.get(Connection, conn_id) if conn_id else None
        refuse_shared_list(session, c, conn, None)
        export = Export(created_by=actor.name, created_at=utcnow())
        store_config(session, export, c, conn)
        session.add(export)
        session.flush()
        _discard_state(ws.path, export.id)
        if creds is not None:
            audit_created(session, actor, creds.name, plan)
        audit.record(session, actor, "exports.add", c.name, _summary(c))
        return _view(actor, export)


def list_exports(ws: Workspace, actor: Actor, *, now: datetime | None = None) -> list[ExportView]:
    """Every export, with its next firing after ``now``."""
    actor = authorize(ws, actor, Action.EXPORTS_READ)
    with ws.session() as session:
        exports = session.scalars(select(Export).order_by(Export.name))
        return [_view(actor, e, now) for e in exports]


def show_export(
    ws: Workspace, actor: Actor, name: str, *, now: datetime | None = None
) -> ExportView:
    """An export's settings and next firing after ``now``, with the exports it shares its
    list with and what its next run does differently because its target or mapping
    changed."""
    actor = authorize(ws, actor, Action.EXPORTS_READ)
    with ws.session() as session:
        export = _get(session, name)
        view = _view(actor, export, now)
        peers = [e.name for e in list_peers(session, export.connection, export.list_id, export.id)]
        note = _next_run_note(ws, export)
    return replace(view, list_peers=peers, next_run_note=note)


def _managed(session: Session, actor: Actor, name: str) -> Export:
    """The export ``name`` if ``actor`` may change it."""
    require(actor, Action.EXPORTS_WRITE)
    export = _get(session, name)
    if not may_use(actor, export.connection):
        raise PermissionDenied(
            f"export {name!r} sends through a connection not shared with contributors, so "
            f"{actor.name} ({actor.role.value}) may only view it; ask an admin"
        )
    return export


def _brevo_part(c: ExportConfig) -> tuple[Any, ...]:
    """What checking against Brevo depends on: the list and the mapped attributes."""
    m = c.mapping
    return (c.connection, c.list_id, m.first_name, m.last_name, m.phone, m.attributes)


def edit_export(
    ws: Workspace,
    actor: Actor,
    name: str,
    *,
    changes: ExportEdit,
    list_name: str | None = None,
) -> ExportView:
    """Apply ``changes`` to the export ``name``; the result is checked like a new export
    and saved only if the export did not change meanwhile (else :class:`ExportChanged`).

    ``list_name``: move it to the account's list of that name (found as ``add_export``
    finds one; not with ``changes.list_id``)."""
    actor = authorize(ws, actor, Action.EXPORTS_WRITE)
    if changes.is_empty() and list_name is None:
        raise ExportInvalid("nothing to change: name at least one setting to change")
    with ws.session() as session:
        current = config_of(_managed(session, actor, name))
    edited = apply_edit(current, changes)
    if list_name is not None:
        _one_list_way(changes.list_id)
        edited = replace(edited, list_id=0)  # found by name in Brevo (check_brevo)
    brevo_unchanged = list_name is None and _brevo_part(edited) == _brevo_part(current)
    plan, _, conn_id = _checked(
        ws, actor, edited, brevo_unchanged=brevo_unchanged, list_name=list_name
    )
    c = plan.config
    with ws.session() as session:
        export = _managed(session, actor, name)
        # The checks above ran outside this transaction (Brevo is asked over HTTP): the
        # edit is saved only onto the configuration it was made from.
        if config_of(export) != current:
            raise ExportChanged(
                f"export {name!r} was changed by someone else while this edit was being "
                "checked; nothing was saved. Look at it again and repeat the edit"
            )
        if c.name != export.name:
            _refuse_duplicate(session, c.name)
        conn = session.get(Connection, conn_id) if conn_id else None
        moved = (c.list_id, conn_id) != (current.list_id, export.connection_id)
        if moved or (current.share_list and not c.share_list):
            refuse_shared_list(session, c, conn, export.id)
        store_config(session, export, c, conn)
        before = _summary(current)
        diff = {k: v for k, v in _summary(c).items() if before.get(k) != v}
        if c.name != name:
            diff["renamed_to"] = c.name
        audit.record(session, actor, "exports.edit", name, diff)
    # With what the next run will do differently (a new list: every member is sent).
    return show_export(ws, actor, c.name)


def duplicate_export(
    ws: Workspace,
    actor: Actor,
    name: str,
    new_name: str,
    *,
    list_id: int | None = None,
    list_name: str | None = None,
    share_list: bool = False,
) -> ExportView:
    """A copy of ``name`` under ``new_name`` (onto ``list_id``, or the list named
    ``list_name``, if given), with no run history. On the same list it must be shared
    knowingly (``share_list``)."""
    actor = authorize(ws, actor, Action.EXPORTS_WRITE)
    with ws.session() as session:
        source_config = config_of(_managed(session, actor, name))
    copy = replace(source_config, name=new_name, share_list=share_list)
    if list_name is not None:
        _one_list_way(list_id)
        c = _checked(ws, actor, replace(copy, list_id=0), list_name=list_name)[0].config
    elif list_id is not None and list_id != copy.list_id:
        c = _checked(ws, actor, replace(copy, list_id=list_id))[0].config
    else:
        c = check_local(copy)
    with ws.session() as session:
        _refuse_duplicate(session, c.name)
        source = _get(session, name)
        refuse_shared_list(session, c, source.connection, None)
        export = Export(created_by=actor.name, created_at=utcnow())
        store_config(session, export, c, source.connection)
        session.add(export)
        session.flush()
        _discard_state(ws.path, export.id)
        audit.record(session, actor, "exports.duplicate", c.name, {"from": name})
        return _view(actor, export)


def detach_export(ws: Workspace, actor: Actor, name: str) -> ExportView:
    """Keep the settings, drop the connection: the export never runs until given one."""
    actor = authorize(ws, actor, Action.EXPORTS_WRITE)
    with ws.session() as session:
        export = _managed(session, actor, name)
        previous = export.connection.name if export.connection else None
        export.connection = None
        export.updated_at = utcnow()
        audit.record(session, actor, "exports.detach", name, {"connection": previous})
        return _view(actor, export)


def remove_export(ws: Workspace, actor: Actor, name: str) -> None:
    actor = authorize(ws, actor, Action.EXPORTS_WRITE)
    with ws.session() as session:
        export = _managed(session, actor, name)
        session.delete(export)
        audit.record(session, actor, "exports.remove", name, {"list_id": export.list_id})
        export_id = export.id
    _discard_state(ws.path, export_id)


def get_run_spec(ws: Workspace, actor: Actor, export_name: str) -> RunSpec:
    """What to run for ``export_name``, if ``actor`` may run it and it can run now."""
    actor = authorize(ws, actor, Action.EXPORTS_RUN)
    with ws.session() as session:
        export = _get(session, export_name)
        conn = export.connection
        if conn is None:
            raise ExportNotRunnable(
                f"No connection: export {export_name!r} is detached; give it a connection",
                skipped=True,
            )
        if not may_use(actor, conn):
            raise PermissionDenied(
                f"export {export_name!r} sends through connection {conn.name!r}, which is not "
                f"shared with contributors, so {actor.name} ({actor.role.value}) cannot run it"
            )
        problem = export_user_problem(conn)
        if problem is not None:
            raise ExportNotRunnable(
                f"connection {conn.name!r} cannot be used: {problem}; an admin must take it over"
            )
        from segport.exports.target import ExportTarget

        peers = list_peers(session, conn, export.list_id, export.id)
        target = ExportTarget(
            export_id=export.id,
            config=config_of(export),
            connection_id=conn.id,
            base_url=conn.base_url,
            account=conn.account_email,
            list_peers=tuple(
                (e.name, str(_state_path(ws.path, e.id)), target_of(e)) for e in peers
            ),
            busy_peers=busy_peers(ws, session, peers),
        )
        return RunSpec(target=target, credentials=credentials(ws, conn))


def record_last_run(session: Session, export_id: int, status: str, at: datetime) -> None:
    """For the run engine: the status and time ``exports list`` shows for the last run."""
    from segport.service.alert_sending import after_run_ended  # every ending passes here

    export = session.get(Export, export_id)
    if export is not None:
        export.last_status = status
        export.last_run_at = at
    after_run_ended(session, export_id, at)  # alerts go once the ending commits


def _state_path(workspace_path: Path, export_id: int) -> Path:
    from segport.exports.state import state_path

    return state_path(workspace_path, export_id)


def _discard_state(workspace_path: Path, export_id: int) -> None:
    # Imported here: the state module brings DuckDB, which most commands never need.
    from segport.exports.state import discard_state

    discard_state(workspace_path, export_id)

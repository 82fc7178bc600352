"""Export configurations: a connection, a Brevo list, data matching and segments.

Saving checks everything (see :mod:`segport.service.export_checks`) and never runs the
export. :func:`get_run_spec` is the narrow interface the run engine asks for what to run.
Admins manage every export; contributors those on connections shared with contributors
(and detached ones); viewers only see them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport.errors import Conflict, NotFound
from segport.service import audit
from segport.service.access import Action, Actor, PermissionDenied, authorize, require
from segport.service.connection_use import (
    ConnectionCredentials,
    connection_for_export,
    credentials,
    export_user_problem,
    may_use,
)
from segport.service.export_checks import (
    DEFAULT_PHONE_REGION,
    DEFAULT_PROFILE_LIMIT,
    Draft,
    ExportInvalid,
    check_brevo,
    check_columns,
    check_local,
    check_segments,
    parse_attributes,
)
from segport.service.models import Connection, Export, ExportSegment, utcnow
from segport.service.workspace import Workspace, WorkspaceError

__all__ = [
    "DEFAULT_PROFILE_LIMIT",
    "ConnectionCredentials",
    "ExportInvalid",
    "ExportNotFound",
    "ExportNotRunnable",
    "ExportView",
    "Mapping",
    "RunSpec",
    "get_run_spec",
    "parse_attributes",
]

NO_CONNECTION = "No connection"


class ExportNotFound(NotFound, WorkspaceError):
    default_code = "export_not_found"


class ExportNotRunnable(Conflict, WorkspaceError):
    """The export cannot run now. ``skipped``: the run is recorded as skipped, not failed."""

    default_code = "export_not_runnable"

    def __init__(self, message: str, skipped: bool = False) -> None:
        super().__init__(message)
        self.reason = message
        self.skipped = skipped


@dataclass(frozen=True)
class Mapping:
    email: str
    first_name: str | None
    last_name: str | None
    phone: str | None
    attributes: dict[str, str]  # Brevo attribute -> profile column


@dataclass(frozen=True)
class RunSpec:
    export_id: int
    name: str
    list_id: int
    segments: list[str]
    mode: str
    phone_region: str | None
    profile_limit: int
    mapping: Mapping
    first_name_attribute: str | None
    last_name_attribute: str | None
    connection: ConnectionCredentials
    schedule: str = "system"
    phone_country_column: str | None = None
    connection_id: int | None = None
    account: str | None = None  # the connection's account email, when verified
    empty_values: str = "clear"
    # The other exports on the same list of the same account: name, state file, target.
    list_peers: tuple[tuple[str, str, dict[str, Any]], ...] = ()


@dataclass(frozen=True)
class ExportView:
    name: str
    connection: str | None
    connection_type: str | None
    list_id: int
    segments: list[str]
    mapping: Mapping
    first_name_attribute: str | None
    last_name_attribute: str | None
    mode: str
    phone_region: str | None
    profile_limit: int
    schedule: str
    last_status: str | None
    last_run_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    permissions: list[str] = field(default_factory=list)
    phone_country_column: str | None = None
    empty_values: str = "clear"
    share_list: bool = False
    list_peers: list[str] = field(default_factory=list)  # other exports on the same list
    # What the next run does differently because the target or mapping changed.
    next_run_note: str | None = None

    @property
    def connection_label(self) -> str:
        return self.connection or NO_CONNECTION

    @property
    def default_phone_region(self) -> str | None:
        """The region used when none is set and a phone is mapped (None otherwise)."""
        if self.phone_region or not self.mapping.phone:
            return None
        return DEFAULT_PHONE_REGION


def _permissions(actor: Actor, export: Export) -> list[str]:
    perms = ["view"]
    if may_use(actor, export.connection):
        perms += ["edit", "run"]
    return perms


def _view(actor: Actor, e: Export) -> ExportView:
    return ExportView(
        name=e.name,
        connection=e.connection.name if e.connection else None,
        connection_type=e.connection.type if e.connection else None,
        list_id=e.list_id,
        segments=e.segment_names,
        mapping=Mapping(
            e.email_column,
            e.first_name_column,
            e.last_name_column,
            e.phone_column,
            dict(e.attributes),
        ),
        first_name_attribute=e.first_name_attribute,
        last_name_attribute=e.last_name_attribute,
        mode=e.mode,
        phone_region=e.phone_region,
        profile_limit=e.profile_limit,
        schedule=e.schedule,
        last_status=e.last_status,
        last_run_at=e.last_run_at,
        created_by=e.created_by,
        created_at=e.created_at,
        updated_at=e.updated_at,
        permissions=_permissions(actor, e),
        phone_country_column=e.phone_country_column,
        empty_values=e.empty_values or "clear",
        share_list=bool(e.share_list),
    )


def _get(session: Session, name: str) -> Export:
    export = session.scalars(select(Export).where(Export.name == name)).one_or_none()
    if export is None:
        known = session.scalars(select(Export.name).order_by(Export.name)).all()
        raise ExportNotFound(f"no export named {name!r}; exports: {', '.join(known) or 'none'}")
    return export


def _draft_of(e: Export) -> Draft:
    return Draft(
        name=e.name,
        connection=e.connection.name if e.connection else None,
        list_id=e.list_id,
        segments=e.segment_names,
        email=e.email_column,
        first_name=e.first_name_column,
        last_name=e.last_name_column,
        phone=e.phone_column,
        attributes=dict(e.attributes),
        mode=e.mode,
        phone_region=e.phone_region,
        profile_limit=e.profile_limit,
        schedule=e.schedule,
        first_name_attribute=e.first_name_attribute,
        last_name_attribute=e.last_name_attribute,
        phone_country_column=e.phone_country_column,
        empty_values=e.empty_values or "clear",
        share_list=bool(e.share_list),
    )


def _apply(session: Session, e: Export, d: Draft, conn: Connection | None) -> None:
    e.name = d.name
    e.connection = conn
    e.list_id = d.list_id
    e.email_column = d.email
    e.first_name_column = d.first_name
    e.last_name_column = d.last_name
    e.phone_column = d.phone
    e.first_name_attribute = d.first_name_attribute
    e.last_name_attribute = d.last_name_attribute
    e.attributes = dict(d.attributes)
    e.mode = d.mode
    e.phone_region = d.phone_region
    e.phone_country_column = d.phone_country_column
    e.profile_limit = d.profile_limit
    e.schedule = d.schedule
    e.empty_values = d.empty_values
    e.share_list = d.share_list
    e.updated_at = utcnow()
    if e.segment_names != d.segments:
        e.segments.clear()
        session.flush()  # the old rows go before new ones with the same names arrive
        e.segments.extend(
            ExportSegment(segment_name=s, position=i) for i, s in enumerate(d.segments)
        )


def _checked(
    ws: Workspace, actor: Actor, draft: Draft, brevo_unchanged: bool = False
) -> tuple[Draft, int | None]:
    """``draft`` checked in full; with the id of its connection (None: detached)."""
    d = check_local(draft)
    creds = None
    conn_id = None
    with ws.session() as session:
        if d.connection is not None:
            conn = connection_for_export(session, actor, d.connection)
            conn_id = conn.id
            creds = credentials(ws, conn)
        check_segments(session, d)
    check_columns(ws, d)
    if creds is not None and not brevo_unchanged:
        d = check_brevo(creds, d)
    return d, conn_id


def _summary(d: Draft) -> dict[str, Any]:
    return {
        "connection": d.connection,
        "list_id": d.list_id,
        "segments": d.segments,
        "email": d.email,
        "first_name": d.first_name,
        "last_name": d.last_name,
        "phone": d.phone,
        "attributes": d.attributes,
        "mode": d.mode,
        "phone_region": d.phone_region,
        "phone_country_column": d.phone_country_column,
        "profile_limit": d.profile_limit,
        "schedule": d.schedule,
        "empty_values": d.empty_values,
        "share_list": d.share_list,
    }


def _same_account(a: Connection, b: Connection) -> bool:
    """One Brevo account: the same connection, or two whose verified account is one."""
    if a.id == b.id:
        return True
    return (
        a.base_url.rstrip("/") == b.base_url.rstrip("/")
        and bool(a.account_email)
        and (a.account_email or "").lower() == (b.account_email or "").lower()
    )


def _list_peers(
    session: Session, conn: Connection | None, list_id: int, own: int | None
) -> list[Export]:
    """The other exports sending to list ``list_id`` of ``conn``'s account."""
    if conn is None:
        return []
    candidates = session.scalars(
        select(Export).where(Export.list_id == list_id).order_by(Export.name)
    ).all()
    return [
        e
        for e in candidates
        if e.id != own and e.connection is not None and _same_account(e.connection, conn)
    ]


def _refuse_shared_list(
    session: Session, d: Draft, conn: Connection | None, own: int | None
) -> None:
    if d.share_list:
        return
    peers = _list_peers(session, conn, d.list_id, own)
    if peers:
        names = ", ".join(repr(e.name) for e in peers)
        raise ExportInvalid(
            f"list {d.list_id} of this Brevo account is already the list of export {names}; "
            "a mirror export on a shared list would remove the other's contacts. Pick "
            "another --list-id, or give --share-list to share the list knowingly (a mirror "
            "export then removes only contacts it added and no other export holds)"
        )


def _identity(e: Export) -> dict[str, Any]:
    from segport.exports.target import target_identity

    conn = e.connection
    return target_identity(
        conn.id if conn else None,
        conn.base_url if conn else "",
        conn.account_email if conn else None,
        e.list_id,
    )


def _next_run_note(ws: Workspace, e: Export) -> str | None:
    """What the export's state says the next run will do differently (target or mapping
    changed since the last run)."""
    if e.connection is None:
        return None
    from segport.exports.held import pending_note
    from segport.exports.state import state_path
    from segport.exports.target import mapping_digest

    digest = mapping_digest(
        email=e.email_column,
        first_name=e.first_name_column,
        last_name=e.last_name_column,
        phone=e.phone_column,
        attributes=dict(e.attributes),
        first_name_attribute=e.first_name_attribute,
        last_name_attribute=e.last_name_attribute,
        phone_region=e.phone_region,
        phone_country_column=e.phone_country_column,
    )
    identity = {**_identity(e), "connection": e.connection.name}
    return pending_note(state_path(ws.path, e.id), identity, digest)


def _refuse_duplicate(session: Session, name: str) -> None:
    if session.scalars(select(Export.id).where(Export.name == name)).first() is not None:
        raise ExportInvalid(f"an export named {name!r} already exists; pick another name")


def add_export(ws: Workspace, actor: Actor, draft: Draft) -> ExportView:
    """Check and save a new export (it is not run)."""
    actor = authorize(ws, actor, Action.EXPORTS_WRITE)
    if draft.connection is None:
        raise ExportInvalid("--connection is required: the connection the export sends through")
    with ws.session() as session:
        _refuse_duplicate(session, draft.name.strip())
    d, conn_id = _checked(ws, actor, draft)
    with ws.session() as session:
        _refuse_duplicate(session, d.name)
        conn = session.get(Connection, conn_id) if conn_id else None
        _refuse_shared_list(session, d, conn, None)
        export = Export(created_by=actor.name, created_at=utcnow())
        _apply(session, export, d, conn)
        session.add(export)
        session.flush()
        _discard_state(ws.path, export.id)
        audit.record(session, actor, "exports.add", d.name, _summary(d))
        return _view(actor, export)


def list_exports(ws: Workspace, actor: Actor) -> list[ExportView]:
    actor = authorize(ws, actor, Action.EXPORTS_READ)
    with ws.session() as session:
        return [_view(actor, e) for e in session.scalars(select(Export).order_by(Export.name))]


def show_export(ws: Workspace, actor: Actor, name: str) -> ExportView:
    """An export's settings, with the exports it shares its list with and what its next
    run will do differently because its target or mapping changed."""
    actor = authorize(ws, actor, Action.EXPORTS_READ)
    with ws.session() as session:
        export = _get(session, name)
        view = _view(actor, export)
        peers = [e.name for e in _list_peers(session, export.connection, export.list_id, export.id)]
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


def edit_export(ws: Workspace, actor: Actor, name: str, changes: dict[str, Any]) -> ExportView:
    """Change some settings (keys of :class:`Draft`, ``name`` to rename); all re-checked."""
    actor = authorize(ws, actor, Action.EXPORTS_WRITE)
    with ws.session() as session:
        current = _draft_of(_managed(session, actor, name))
    unknown = set(changes) - set(Draft.__dataclass_fields__)
    if unknown:
        raise ExportInvalid(f"cannot change {', '.join(sorted(unknown))}")
    draft = current.copy()
    for key, value in changes.items():
        setattr(draft, key, value)
    brevo_keys = {"connection", "list_id", "first_name", "last_name", "phone", "attributes"}
    brevo_unchanged = all(getattr(draft, k) == getattr(current, k) for k in brevo_keys)
    d, conn_id = _checked(ws, actor, draft, brevo_unchanged=brevo_unchanged)
    with ws.session() as session:
        export = _managed(session, actor, name)
        if d.name != export.name:
            _refuse_duplicate(session, d.name)
        conn = session.get(Connection, conn_id) if conn_id else None
        moved = (d.list_id, conn_id) != (current.list_id, export.connection_id)
        if moved or (current.share_list and not d.share_list):
            _refuse_shared_list(session, d, conn, export.id)
        _apply(session, export, d, conn)
        diff = {k: v for k, v in _summary(d).items() if _summary(current).get(k) != v}
        if d.name != name:
            diff["renamed_to"] = d.name
        audit.record(session, actor, "exports.edit", name, diff)
    # With what the next run will do differently (a new list: every member is sent).
    return show_export(ws, actor, d.name)


def duplicate_export(
    ws: Workspace,
    actor: Actor,
    name: str,
    new_name: str,
    *,
    list_id: int | None = None,
    share_list: bool = False,
) -> ExportView:
    """A copy of ``name`` under ``new_name`` (onto ``list_id`` if given), with no run
    history. On the same list it must be shared knowingly (``share_list``)."""
    actor = authorize(ws, actor, Action.EXPORTS_WRITE)
    with ws.session() as session:
        draft = _draft_of(_managed(session, actor, name))
    draft.name = new_name
    draft.share_list = share_list
    if list_id is not None and list_id != draft.list_id:
        draft.list_id = list_id
        d, _ = _checked(ws, actor, draft)
    else:
        d = check_local(draft)
    with ws.session() as session:
        _refuse_duplicate(session, d.name)
        source = _get(session, name)
        _refuse_shared_list(session, d, source.connection, None)
        export = Export(created_by=actor.name, created_at=utcnow())
        _apply(session, export, d, source.connection)
        session.add(export)
        session.flush()
        _discard_state(ws.path, export.id)
        audit.record(session, actor, "exports.duplicate", d.name, {"from": name})
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
                f"No connection: export {export_name!r} is detached; give it one with "
                f"`segport exports edit {export_name} --connection NAME`",
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
                f"connection {conn.name!r} cannot be used: {problem}; an admin must take it "
                f"over with `segport connections take-over {conn.name}`"
            )
        return RunSpec(
            export_id=export.id,
            name=export.name,
            list_id=export.list_id,
            segments=export.segment_names,
            mode=export.mode,
            phone_region=export.phone_region,
            profile_limit=export.profile_limit,
            mapping=Mapping(
                export.email_column,
                export.first_name_column,
                export.last_name_column,
                export.phone_column,
                dict(export.attributes),
            ),
            first_name_attribute=export.first_name_attribute,
            last_name_attribute=export.last_name_attribute,
            connection=credentials(ws, conn),
            schedule=export.schedule,
            phone_country_column=export.phone_country_column,
            connection_id=conn.id,
            account=conn.account_email,
            empty_values=export.empty_values or "clear",
            list_peers=tuple(
                (e.name, str(_state_path(ws.path, e.id)), _identity(e))
                for e in _list_peers(session, conn, export.list_id, export.id)
            ),
        )


def record_last_run(session: Session, export_id: int, status: str, at: datetime) -> None:
    """For the run engine: the status and time ``exports list`` shows for the last run."""
    export = session.get(Export, export_id)
    if export is not None:
        export.last_status = status
        export.last_run_at = at


def _state_path(workspace_path: Path, export_id: int) -> Path:
    from segport.exports.state import state_path

    return state_path(workspace_path, export_id)


def _discard_state(workspace_path: Path, export_id: int) -> None:
    # Imported here: the state module brings DuckDB, which most commands never need.
    from segport.exports.state import discard_state

    discard_state(workspace_path, export_id)

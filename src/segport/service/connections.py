"""Connections: an admin's link to one Brevo account (API key, sharing, consent, export user).

The API key is verified with ``GET /account`` before it is saved, stored only as a Fernet
token (see :mod:`segport.service.secrets`), and never returned: views carry the account's
email and plan instead. Contributors see only the names and types of the connections
shared with contributors (:func:`usable_connections`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport.errors import Conflict, Invalid
from segport.secret import Secret
from segport.service import audit, secrets
from segport.service.access import Action, Actor, Role, authorize
from segport.service.connection_checks import (
    check_api_key,
    check_base_url,
    check_name,
    parse_type,
    plan_summary,
    verify_key,
)
from segport.service.connection_use import (
    ConnectionNotFound,
    export_user_problem,
)
from segport.service.models import Connection, Export, User, utcnow
from segport.service.privacy import PRIVACY_STATEMENT, PRIVACY_VERSION
from segport.service.usage import exports_using_connection
from segport.service.workspace import (
    Workspace,
    WorkspaceError,
    redact_url,
)

if TYPE_CHECKING:
    from segport.brevo import Account


class ConsentRequired(WorkspaceError):
    """The privacy statement was not agreed to; nothing was saved."""

    default_code = "consent_required"

    statement = PRIVACY_STATEMENT


class ConnectionInUse(Conflict, WorkspaceError):
    default_code = "connection_in_use"

    def __init__(self, message: str, exports: list[str]) -> None:
        super().__init__(message, field="detach_exports")
        self.exports = exports


@dataclass(frozen=True)
class ConnectionSummary:
    """What contributors may know of a connection shared with them."""

    name: str
    type: str


@dataclass(frozen=True)
class ConnectionView:
    name: str
    type: str
    base_url: str
    shared_with_contributors: bool
    export_user: str
    export_user_problem: str | None
    exports: list[str]
    created_at: datetime
    created_by: str
    consent_by: str
    consent_at: datetime
    consent_version: str
    account_email: str | None
    account_company: str | None
    account_plan: str | None
    verified_at: datetime | None
    requests_per_second: float
    changes: list[str] = field(default_factory=list)
    # An edit gave it a new API key (its account and plan are then the new key's).
    key_replaced: bool = False

    @property
    def shared_with(self) -> str:
        return "admins, contributors" if self.shared_with_contributors else "admins"


def _get(session: Session, name: str) -> Connection:
    conn = session.scalars(select(Connection).where(Connection.name == name)).one_or_none()
    if conn is None:
        known = session.scalars(select(Connection.name).order_by(Connection.name)).all()
        raise ConnectionNotFound(
            f"no connection named {name!r}; connections: {', '.join(known) or 'none yet'}"
        )
    return conn


def _view(
    session: Session,
    conn: Connection,
    changes: list[str] | None = None,
    key_replaced: bool = False,
) -> ConnectionView:
    return ConnectionView(
        name=conn.name,
        type=conn.type,
        base_url=redact_url(conn.base_url),  # a proxy's password in it is not shown
        shared_with_contributors=conn.shared_with_contributors,
        export_user=conn.export_user.name if conn.export_user else conn.export_user_name,
        export_user_problem=export_user_problem(conn),
        exports=exports_using_connection(session, conn.id),
        created_at=conn.created_at,
        created_by=conn.created_by,
        consent_by=conn.consent_by,
        consent_at=conn.consent_at,
        consent_version=conn.consent_version,
        account_email=conn.account_email,
        account_company=conn.account_company,
        account_plan=conn.account_plan,
        verified_at=conn.verified_at,
        requests_per_second=conn.requests_per_second,
        changes=changes or [],
        key_replaced=key_replaced,
    )


def _refuse_duplicate(session: Session, name: str) -> None:
    if session.scalars(select(Connection.id).where(Connection.name == name)).first():
        raise WorkspaceError(f"a connection named {name!r} already exists; pick another name")


def _apply_account(conn: Connection, account: Account | None) -> None:
    if account is None:
        conn.account_email = conn.account_company = conn.account_plan = None
        conn.verified_at = None
        return
    conn.account_email = account.email
    conn.account_company = account.company_name
    conn.account_plan = plan_summary(account)
    conn.verified_at = utcnow()


def add_connection(
    ws: Workspace,
    actor: Actor,
    name: str,
    type_: str,
    api_key: str | Secret,
    *,
    agree_privacy: bool,
    base_url: str | None = None,
    share_with_contributors: bool = False,
    verify: bool = True,
    requests_per_second: float | None = None,
) -> ConnectionView:
    """Save a connection; the acting admin gives the consent and becomes its export user."""
    actor = authorize(ws, actor, Action.CONNECTIONS_MANAGE)
    name = check_name(name)
    kind = parse_type(type_)
    url = check_base_url(base_url)
    rps = _check_rps(requests_per_second)
    if not agree_privacy:
        raise ConsentRequired(
            "the connection was not saved: read the data privacy and compliance statement "
            "above and agree to it",
            field="agree_privacy",
        )
    key = check_api_key(api_key)
    with ws.session() as session:
        _refuse_duplicate(session, name)
    account = verify_key(url, key) if verify else None
    token = secrets.encrypt(ws.path, key)
    with ws.session() as session:
        _refuse_duplicate(session, name)
        now = utcnow()
        conn = Connection(
            name=name,
            type=kind,
            base_url=url,
            api_key_token=token,
            shared_with_contributors=share_with_contributors,
            requests_per_second=rps,
            export_user_id=actor.id,
            export_user_name=actor.name,
            consent_by=actor.name,
            consent_at=now,
            consent_version=PRIVACY_VERSION,
            created_by=actor.name,
            created_at=now,
        )
        _apply_account(conn, account)
        session.add(conn)
        session.flush()
        session.refresh(conn)
        audit.record(
            session,
            actor,
            "connections.add",
            name,
            {
                "type": kind,
                "base_url": url,
                "shared_with_contributors": share_with_contributors,
                "privacy_consent": PRIVACY_VERSION,
                "verified": verify,
                "account_email": conn.account_email,
            },
        )
        return _view(session, conn)


def _check_rps(value: float | None) -> float:
    if value is None:
        return 10.0
    if not 0 < value <= 1000:
        raise Invalid(
            f"the rate {value} must be above 0 and at most 1000 requests/s",
            code="rate_invalid",
            field="rate",
        )
    return float(value)


def list_connections(ws: Workspace, actor: Actor) -> list[ConnectionView]:
    authorize(ws, actor, Action.CONNECTIONS_MANAGE)
    with ws.session() as session:
        conns = session.scalars(select(Connection).order_by(Connection.name)).all()
        return [_view(session, c) for c in conns]


def usable_connections(ws: Workspace, actor: Actor) -> list[ConnectionSummary]:
    """Names and types of the connections the actor may put exports on."""
    actor = authorize(ws, actor, Action.EXPORTS_WRITE)
    with ws.session() as session:
        query = select(Connection).order_by(Connection.name)
        if actor.role is not Role.ADMIN:
            query = query.where(Connection.shared_with_contributors.is_(True))
        return [ConnectionSummary(c.name, c.type) for c in session.scalars(query)]


@dataclass(frozen=True)
class ConnectionListing:
    """The connections an actor may see: every detail for those who manage connections
    (``detailed``, in ``connections``); names and types of the ones shared with them for
    those who only put exports on them (in ``summaries``)."""

    detailed: bool
    connections: list[ConnectionView] = field(default_factory=list)
    summaries: list[ConnectionSummary] = field(default_factory=list)


def visible_connections(ws: Workspace, actor: Actor) -> ConnectionListing:
    """What ``actor`` may see of the connections (viewers: nothing, :class:`PermissionDenied`)."""
    who = authorize(ws, actor, Action.EXPORTS_READ)
    if who.may(Action.CONNECTIONS_MANAGE):
        return ConnectionListing(detailed=True, connections=list_connections(ws, who))
    if who.may(Action.EXPORTS_WRITE):
        return ConnectionListing(detailed=False, summaries=usable_connections(ws, who))
    authorize(ws, who, Action.CONNECTIONS_MANAGE)  # refused, with the usual message
    raise AssertionError("unreachable")


def show_connection(ws: Workspace, actor: Actor, name: str) -> ConnectionView:
    authorize(ws, actor, Action.CONNECTIONS_MANAGE)
    with ws.session() as session:
        return _view(session, _get(session, name))


def edit_connection(
    ws: Workspace,
    actor: Actor,
    name: str,
    *,
    new_name: str | None = None,
    api_key: str | Secret | None = None,
    base_url: str | None = None,
    share_with_contributors: bool | None = None,
    verify: bool = True,
    requests_per_second: float | None = None,
) -> ConnectionView:
    """Rename, give a new key (verified unless ``verify`` is False), change sharing or URL."""
    actor = authorize(ws, actor, Action.CONNECTIONS_MANAGE)
    with ws.session() as session:
        current = _get(session, name)
        current_url, current_token = current.base_url, current.api_key_token
    url = check_base_url(base_url) if base_url is not None else current_url
    key = check_api_key(api_key) if api_key is not None else None
    if new_name is not None:
        new_name = check_name(new_name)
    account = None
    if verify and (key is not None or url != current_url):
        # A new URL is checked with the saved key, so a typo cannot break every export.
        account = verify_key(url, key or secrets.decrypt(ws.path, current_token, name))
    rps = _check_rps(requests_per_second) if requests_per_second is not None else None
    with ws.session() as session:
        conn = _get(session, name)
        changes: list[str] = []
        if new_name is not None and new_name != conn.name:
            _refuse_duplicate(session, new_name)
            changes.append(f"renamed to {new_name}")
            conn.name = new_name
        if url != conn.base_url:
            changes.append(f"base URL {redact_url(conn.base_url)} -> {redact_url(url)}")
            conn.base_url = url
            if key is None:
                _apply_account(conn, account)
        if key is not None:
            conn.api_key_token = secrets.encrypt(ws.path, key)
            _apply_account(conn, account)
            changes.append("new API key" + (" (verified)" if verify else " (not verified)"))
        if (
            share_with_contributors is not None
            and share_with_contributors != conn.shared_with_contributors
        ):
            conn.shared_with_contributors = share_with_contributors
            changes.append(
                "shared with contributors"
                if share_with_contributors
                else "no longer shared with contributors"
            )
        if rps is not None and rps != conn.requests_per_second:
            changes.append(f"rate {conn.requests_per_second:g} -> {rps:g} requests/s")
            conn.requests_per_second = rps
        if changes:
            audit.record(session, actor, "connections.edit", name, {"changes": changes})
        return _view(session, conn, changes, key_replaced=key is not None)


def check_connection(ws: Workspace, actor: Actor, name: str) -> ConnectionView:
    """Check the saved key with Brevo now and refresh the account and plan shown."""
    actor = authorize(ws, actor, Action.CONNECTIONS_MANAGE)
    with ws.session() as session:
        conn = _get(session, name)
        url, token = conn.base_url, conn.api_key_token
    account = verify_key(url, secrets.decrypt(ws.path, token, name), saved=True, connection=name)
    with ws.session() as session:
        conn = _get(session, name)
        _apply_account(conn, account)
        audit.record(session, actor, "connections.check", name, {"account_email": account.email})
        return _view(session, conn)


def remove_connection(
    ws: Workspace,
    actor: Actor,
    name: str,
    *,
    detach_exports: bool = False,
    remove_exports: bool = False,
) -> list[str]:
    """Remove a connection; the exports on it block it unless detached or removed with it."""
    actor = authorize(ws, actor, Action.CONNECTIONS_MANAGE)
    if detach_exports and remove_exports:
        raise Invalid(
            "the exports on a removed connection are either detached or removed, not both",
            code="detach_or_remove",
            field="detach_exports",
        )
    with ws.session() as session:
        conn = _get(session, name)
        using = exports_using_connection(session, conn.id)
        if using and not (detach_exports or remove_exports):
            raise ConnectionInUse(
                f"connection {name!r} is used by {len(using)} export(s): {', '.join(using)}. "
                "Remove them, or detach them with it (they keep their settings and do not "
                "run until given a connection) or remove them with it",
                using,
            )
        removed: list[int] = []
        for export in session.scalars(select(Export).where(Export.connection_id == conn.id)):
            if remove_exports:
                removed.append(export.id)
                session.delete(export)
            else:
                export.connection_id = None
                export.updated_at = utcnow()
        session.delete(conn)
        audit.record(
            session,
            actor,
            "connections.remove",
            name,
            {"exports_removed" if remove_exports else "exports_detached": using},
        )
    for export_id in removed:
        _discard_state(ws.path, export_id)
    return using


def take_over(ws: Workspace, actor: Actor, name: str) -> ConnectionView:
    """The acting admin becomes the connection's export user."""
    actor = authorize(ws, actor, Action.CONNECTIONS_MANAGE)
    with ws.session() as session:
        conn = _get(session, name)
        previous = conn.export_user.name if conn.export_user else conn.export_user_name
        user = session.get(User, actor.id)
        conn.export_user = user
        conn.export_user_name = actor.name
        audit.record(
            session, actor, "connections.take_over", name, {"previous_export_user": previous}
        )
        return _view(session, conn, [f"export user {previous} -> {actor.name}"])


def _discard_state(workspace_path: Path, export_id: int) -> None:
    # Imported here: the state module brings DuckDB, which most commands never need.
    from segport.exports.state import discard_state

    discard_state(workspace_path, export_id)

"""Connections: an admin's link to one Brevo account (API key, sharing, consent, export user).

The API key is verified with ``GET /account`` before it is saved, stored only as a Fernet
token (see :mod:`segport.service.secrets`), and never returned: views carry the account's
email and plan instead. Contributors see only the names and types of the connections
shared with contributors (:func:`usable_connections`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport.errors import Conflict, Invalid, Unavailable
from segport.secret import Secret, reveal
from segport.service import audit, secrets
from segport.service.access import Action, Actor, Role, authorize
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
    has_control_characters,
    redact_url,
)

if TYPE_CHECKING:
    from segport.brevo import Account

BREVO_BASE_URL = "https://api.brevo.com/v3"
CONNECTION_TYPES = {"brevo": "brevo", "sendinblue": "brevo"}
_NAME = re.compile(r"^\S(.{0,98}\S)?$")


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


def parse_type(value: str) -> str:
    canonical = CONNECTION_TYPES.get(value.strip().lower())
    if canonical is None:
        raise Invalid(
            f"unknown connection type {value!r}: use brevo (sendinblue is the same type)",
            code="connection_type_unknown",
            field="type",
        )
    return canonical


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name) or has_control_characters(name):
        raise WorkspaceError(
            f"invalid connection name {name!r}: give 1 to 100 characters that say its purpose "
            "and target, e.g. 'Brevo newsletter (prod)'"
        )
    return name


def check_base_url(url: str | None) -> str:
    if url is None:
        return BREVO_BASE_URL
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", url) or not _parses(url):
        raise Invalid(
            f"the base URL {url!r} is not an http(s) URL; give e.g. {BREVO_BASE_URL} or, for "
            "the sandbox, http://127.0.0.1:PORT/v3",
            code="base_url_invalid",
            field="base_url",
        )
    return url


def _parses(url: str) -> bool:
    """Whether the URL's host and port can be read (``http://[::1``, ``http://h:abc`` cannot)."""
    from urllib.parse import urlsplit

    import httpx

    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number in 0-65535
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        return False
    return bool(parts.hostname)


def check_api_key(api_key: str | Secret) -> Secret:
    key = reveal(api_key).strip()
    if not key:
        raise Invalid("the API key is empty: give the key", code="api_key_empty", field="api_key")
    if any(c.isspace() for c in key):
        raise WorkspaceError("the API key contains spaces or line breaks; paste it again")
    if not all(" " < c < "\x7f" for c in key):  # what an HTTP header can carry
        raise WorkspaceError(
            "the API key contains control or non-ASCII characters; it was probably copied "
            "with extra text: paste it again"
        )
    return Secret(key)


def plan_summary(account: Account) -> str:
    parts = []
    for plan in account.plans:
        credits = f" ({plan.credits:g} credits)" if plan.credits is not None else ""
        parts.append(f"{plan.type}{credits}")
    return ", ".join(parts) or "no plan reported"


def verify_key(
    base_url: str, api_key: Secret, saved: bool = False, connection: str | None = None
) -> Account:
    """The account behind ``api_key``; a clear error (never holding the key) otherwise.

    ``saved``: the key is the one already saved (the messages then say how to replace it).
    """
    from segport.brevo import AuthenticationError, BrevoClient, BrevoError, NotFoundError

    client = BrevoClient(api_key, base_url, max_retries=1, timeout=15.0)
    fix = (
        "Give the connection a new API key"
        if saved
        else "Nothing was saved: copy the key again from Brevo (SMTP & API > API keys)"
    )
    try:
        return client.get_account()
    except AuthenticationError as exc:
        raise Unavailable(
            f"Brevo refused the API key (Brevo said: {exc.message}). {fix}, and check the "
            "account allows this machine's IP address",
            code="saved_api_key_refused" if saved else "api_key_refused",
            field="api_key",
            details={"connection": connection} if connection else None,
        ) from None
    except NotFoundError as exc:
        if base_url.rstrip("/").endswith("/v3"):
            raise _unreachable(base_url, exc, saved) from None
        raise WorkspaceError(
            f"{base_url} has no Brevo API ({exc}): the base URL usually ends in /v3, "
            f"e.g. {base_url.rstrip('/')}/v3" + ("" if saved else ". Nothing was saved")
        ) from None
    except BrevoError as exc:
        raise _unreachable(base_url, exc, saved) from None
    finally:
        client.close()


def _unreachable(base_url: str, exc: Exception, saved: bool) -> Unavailable:
    if saved:
        return Unavailable(
            f"could not reach Brevo at {base_url} ({exc}); check the network and try again",
            code="brevo_unreachable",
        )
    return Unavailable(
        f"could not check the API key at {base_url} ({exc}). Nothing was saved: check "
        "the base URL and the network, or save the key without checking it",
        code="brevo_unreachable",
        field="verify",
    )


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


def rotate_secret_key(ws: Workspace, actor: Actor) -> int:
    """Re-encrypt every stored API key under a new key; how many were re-encrypted.

    With the key file, a new key is generated and the old one dropped once every token is
    re-encrypted (a crash in between leaves both keys in the file, so nothing is lost).
    With ``SEGPORT_SECRET_KEY``, put the new key first in the variable (NEW,OLD), run this,
    then drop OLD from it.
    """
    actor = authorize(ws, actor, Action.CONNECTIONS_MANAGE)
    unreadable = undecryptable_connections(ws)
    if unreadable:
        raise secrets.SecretKeyError(
            "nothing was rotated: the saved API key of connection(s) "
            f"{', '.join(repr(n) for n in unreadable)} cannot be decrypted with the current "
            "secrets key; give each connection its API key again, then rotate",
            field="api_key",
        )
    from_env = secrets.key_from_environment()
    if not from_env:
        secrets.install_key(ws.path, secrets.new_key(), keep_old=True)
    with ws.session() as session:
        conns = session.scalars(select(Connection).order_by(Connection.id)).all()
        tokens = secrets.rotate_tokens(ws.path, [c.api_key_token for c in conns])
        for conn, token in zip(conns, tokens, strict=True):
            conn.api_key_token = token
        audit.record(
            session,
            actor,
            "connections.rotate_secret_key",
            "workspace",
            {"connections": len(conns), "from_environment": from_env},
        )
    if not from_env:
        first = secrets.load_keys(ws.path)[0]
        secrets.install_key(ws.path, first, keep_old=False)
    return len(conns)


def undecryptable_connections(ws: Workspace) -> list[str]:
    """Names of the connections whose saved API key the workspace's key cannot open (the
    key itself must load: a missing key file raises its own message)."""
    with ws.session() as session:
        rows = session.execute(select(Connection.name, Connection.api_key_token)).all()
    return sorted(name for name, token in rows if not secrets.decrypts(ws.path, token))


def new_secret_key(ws: Workspace, actor: Actor) -> list[str]:
    """Recovery from a lost key file: write a new one; returns the connections that need
    their API key again (all of them: nothing saved with the lost key can be read)."""
    actor = authorize(ws, actor, Action.CONNECTIONS_MANAGE)
    secrets.create_replacement_key(ws.path)
    with ws.session() as session:
        names = list(session.scalars(select(Connection.name).order_by(Connection.name)))
        audit.record(
            session, actor, "connections.new_secret_key", "workspace", {"connections": names}
        )
    return names


def _discard_state(workspace_path: Path, export_id: int) -> None:
    # Imported here: the state module brings DuckDB, which most commands never need.
    from segport.exports.state import discard_state

    discard_state(workspace_path, export_id)

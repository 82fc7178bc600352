"""`segport doctor`: check a workspace on disk and say what to do about each problem.

It reads and never changes anything: no migration, no new admin, no rewritten
``workspace.json``, export states opened read-only. Checks, in order: the folder and
``workspace.json``; the files and their permissions; the metadata database (opens, holds
a workspace, SQLite's quick check, migrations at head); the secrets key and each
connection's saved API key; the profile store; each export's state file; and, unless
offline, each connection's key against Brevo (``GET /account``). A check that needs an
earlier one that failed is skipped. No message ever holds an API key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segport.service.location import MetadataLocation
    from segport.service.workspace import Workspace

OK, PROBLEM, SKIPPED = "ok", "problem", "skipped"
SHOW_PATHS = 5


@dataclass(frozen=True)
class Check:
    check: str
    status: str  # ok | problem | skipped
    detail: str
    fix: str | None = None


@dataclass
class Report:
    workspace: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status != PROBLEM for c in self.checks)

    def add(self, check: str, status: str, detail: str, fix: str | None = None) -> None:
        if fix is not None:
            detail = _what_is_wrong(detail)
        self.checks.append(Check(check, status, detail, fix))

    def as_dict(self) -> dict[str, Any]:
        return {
            "workspace": self.workspace,
            "ok": self.ok,
            "checks": [asdict(c) for c in self.checks],
        }


def _what_is_wrong(message: str) -> str:
    """A service's message without its own advice, when the check gives the fix apart."""
    for advice in ("; restore", ": restore", "; check the", "; give", ". Nothing was saved"):
        message = message.split(advice)[0]
    return message


def diagnose(path: Path, as_user: str | None, *, offline: bool = False) -> Report:
    """Every check on the workspace at ``path``; see the module's docstring.

    ``as_user`` names the acting user as the command line does (None: the workspace's
    default user): the doctor opens the workspace itself, so it resolves the name."""
    report = Report(str(path))
    location = _config(report, path)
    _permissions(report, path)
    if location is None:
        return report
    ws = _metadata(report, path, location)
    if ws is None:
        report.add("connections", SKIPPED, "needs the metadata database")
        return report
    try:
        _with_metadata(report, ws, as_user, offline)
    finally:
        ws.close()
    return report


def _config(report: Report, path: Path) -> MetadataLocation | None:
    from segport.service.location import (
        CONFIG_FILE,
        LocationError,
        config_missing,
        read_config,
        resolve,
    )

    if not path.is_dir():
        report.add(
            "workspace", PROBLEM, f"{path} is not a folder",
            "point --workspace (or SEGPORT_WORKSPACE) at the folder made by `segport init`",
        )  # fmt: skip
        return None
    try:
        location, _ = resolve(path, read_config(path), rewrite=False)
    except FileNotFoundError:
        if missing := config_missing(path):
            report.add("workspace", PROBLEM, *missing)
            return None
        report.add(
            "workspace", PROBLEM, f"no {CONFIG_FILE} in {path}",
            "point --workspace at an existing workspace, or run `segport init`",
        )  # fmt: skip
        return None
    except LocationError as exc:
        report.add("workspace", PROBLEM, str(exc), "restore workspace.json from a backup")
        return None
    kind = "SQLite" if location.sqlite_file is not None else "server"
    report.add("workspace", OK, f"{CONFIG_FILE}: metadata in {location.display()} ({kind})")
    return location


def _permissions(report: Report, path: Path) -> None:
    from segport.service.files import too_open

    if not path.is_dir():
        return
    found = list(too_open(path))
    if not found:
        report.add("permissions", OK, "every file and folder is readable by its owner only")
        return
    shown = ", ".join(f"{p} ({m:o})" for p, m in found[:SHOW_PATHS])
    more = f" and {len(found) - SHOW_PATHS} more" if len(found) > SHOW_PATHS else ""
    report.add(
        "permissions", PROBLEM,
        f"other users may read or enter {shown}{more}; the workspace holds personal data "
        "and database passwords",
        f"chmod -R go-rwx {path}",
    )  # fmt: skip


def _metadata(report: Report, path: Path, location: MetadataLocation) -> Workspace | None:
    from segport.metadata import head_revision
    from segport.metadata.db import check_schema, current_revision
    from segport.service.location import CONFIG_FILE, LocationError, check_sqlite_file
    from segport.service.opening import check_is_workspace
    from segport.service.workspace import Workspace, WorkspaceError

    restore = "restore it from a backup (docs/workspace.md, 'Backups and damage')"
    try:
        if location.sqlite_file is not None:
            check_sqlite_file(location.sqlite_file)
        engine = location.engine()
    except LocationError as exc:
        report.add("metadata", PROBLEM, str(exc), restore)
        return None
    try:
        check_is_workspace(engine, location)
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                verdict = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA quick_check")]
            if verdict != ["ok"]:
                raise WorkspaceError(f"SQLite's quick check: {'; '.join(verdict[:3])}")
        check_schema(engine)
        current = current_revision(engine)
    except Exception as exc:
        engine.dispose()
        from sqlalchemy.exc import DBAPIError

        from segport.metadata import MetadataError

        if not isinstance(exc, WorkspaceError | MetadataError | DBAPIError):
            raise
        fix, detail = restore, _message(exc, location.url)
        if isinstance(exc, DBAPIError):  # the driver's words: say which database
            detail = f"{location.display()}: {detail}"
            from segport.service.opening import _is_connect

            if location.server_url is not None and (
                exc.connection_invalidated or _is_connect(exc)
            ):  # down, not damaged
                fix = f"check that the server is running and the URL in {CONFIG_FILE}"
        report.add("metadata", PROBLEM, detail, fix)
        return None
    report.add("metadata", OK, f"{location.display()} opens and holds a workspace")
    head = head_revision()
    if current == head:
        report.add("migrations", OK, f"schema at {head}, the newest this segport knows")
    else:
        report.add(
            "migrations", PROBLEM, f"schema at {current}, this segport's newest is {head}",
            "back up the workspace, then run any segport command: opening upgrades it",
        )  # fmt: skip
    return Workspace(path, location.url, engine, metadata_display=location.display())


def _message(exc: Exception, url: str) -> str:
    from segport.service.workspace import redact_text

    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return redact_text(text[0] if text else type(exc).__name__, url)


def _with_metadata(report: Report, ws: Workspace, as_user: str | None, offline: bool) -> None:
    from segport.service.access import Action, actor_named, authorize
    from segport.service.workspace import WorkspaceError

    try:
        authorize(ws, actor_named(ws, as_user), Action.CONNECTIONS_MANAGE)
    except WorkspaceError as exc:
        report.add("connections", SKIPPED, f"checking keys needs an admin: {exc}")
        keys: dict[str, tuple[str, Any]] = {}
    else:
        keys = _secrets(report, ws)
    _profile_store(report, ws)
    _export_states(report, ws)
    if offline:
        if keys:
            report.add("brevo", SKIPPED, "--offline: API keys not checked with Brevo")
        return
    for name, (base_url, key) in keys.items():
        _brevo(report, name, base_url, key)


def _secrets(report: Report, ws: Workspace) -> dict[str, tuple[str, Any]]:
    """Check the key and decrypt each connection's API key: name -> (base URL, key)."""
    from sqlalchemy import select

    from segport.service import secrets
    from segport.service.models import Connection

    with ws.session() as session:
        rows = session.execute(
            select(Connection.name, Connection.base_url, Connection.api_key_token).order_by(
                Connection.name
            )
        ).all()
    try:
        keys = secrets.load_keys(ws.path)
    except secrets.SecretKeyError as exc:
        report.add("secrets key", PROBLEM, str(exc), _key_fix(ws, rows))
        return {}
    source = "SEGPORT_SECRET_KEY" if secrets.key_from_environment() else "secret.key"
    report.add("secrets key", OK, f"{len(keys)} key(s) from {source}")
    decrypted: dict[str, tuple[str, Any]] = {}
    for name, base_url, token in rows:
        try:
            decrypted[name] = (base_url, secrets.decrypt(ws.path, token, name))
        except secrets.SecretKeyError as exc:
            report.add(
                f"connection {name}", PROBLEM, str(exc),
                f'segport connections edit "{name}" --api-key-stdin',
            )  # fmt: skip
        else:
            report.add(f"connection {name}", OK, "its saved API key decrypts")
    if not rows:
        report.add("connections", OK, "none yet")
    return decrypted


def _key_fix(ws: Workspace, rows: Sequence[Any]) -> str:
    from segport.service import secrets

    if secrets.key_from_environment():
        return f"fix {secrets.SECRET_KEY_ENV}: comma-separated Fernet keys, newest first"
    path = secrets.key_file(ws.path)
    if path.exists():
        if path.stat().st_mode & 0o077:
            return f"chmod 600 {path}"
        return f"restore {path} from a backup (it is not a list of Fernet keys)"
    names = ", ".join(repr(r[0]) for r in rows) or "none"
    return (
        "restore secret.key from a backup; with no backup, run `segport connections "
        f"new-secret-key`, then give each connection its API key again (connections: {names})"
    )


def _profile_store(report: Report, ws: Workspace) -> None:
    from segport.profiles.errors import ProfilesNotLoaded
    from segport.profiles.models import EMBEDDED, ProfileSource
    from segport.profiles.store import open_profile_store

    with ws.session() as session:
        source = session.get(ProfileSource, 1)
        kind = source.kind if source is not None else None
    if kind in (None, EMBEDDED) and not ws.profile_store_path.exists():
        report.add(
            "profile store", PROBLEM, f"{ws.profile_store_path} is missing",
            "restore it from a backup, or load the profiles again (`segport profiles load`)",
        )  # fmt: skip
        return
    try:
        with open_profile_store(ws.engine, ws.path) as store:
            columns = len(store.schema())
    except ProfilesNotLoaded:
        report.add("profile store", OK, "opens; no profiles loaded yet")
        return
    except Exception as exc:  # any store's driver: the message is what the user needs
        report.add(
            "profile store", PROBLEM, f"cannot be read: {_message(exc, _source_url(source))}",
            "restore it from a backup, or load the profiles again (`segport profiles load`); "
            "for a PostgreSQL table check `segport profiles use`",
        )  # fmt: skip
        return
    report.add("profile store", OK, f"opens: table {source.table_name if source else '?'} "
               f"({columns} columns)")  # fmt: skip


def _source_url(source: Any) -> str:
    return str(getattr(source, "url", None) or "")


def _export_states(report: Report, ws: Workspace) -> None:
    from sqlalchemy import select
    from sqlalchemy.exc import DBAPIError

    from segport.exports.state import state_path
    from segport.service.models import Export

    columns = [Export.id, Export.name, Export.last_status]
    exports: list[tuple[Any, ...]]
    try:
        with ws.session() as session:
            rows = session.execute(select(*columns, Export.state_token).order_by(Export.name))
            exports = [tuple(row) for row in rows]
    except DBAPIError:  # a schema before state tokens (the doctor runs no migration)
        with ws.session() as session:
            rows = session.execute(select(*columns).order_by(Export.name))
            exports = [(*row, None) for row in rows]
    for export_id, name, last_status, token in exports:
        path = state_path(ws.path, export_id)
        check = f"export {name}"
        if _shared_copy(report, ws, check, export_id, token, path):
            continue
        if not path.exists():
            if last_status in (None, "not_started"):
                report.add(check, OK, "not run yet (no state file)")
            else:
                report.add(
                    check, PROBLEM,
                    f"its state file {path} is missing although the export has run; the next "
                    "run cannot know what the list holds from it",
                    _state_fix(name, path),
                )  # fmt: skip
            continue
        report.add(check, *_read_state(path, name, token))


def _shared_copy(
    report: Report, ws: Workspace, check: str, export_id: int, token: str | None, path: Path
) -> bool:
    """With states shared through PostgreSQL, the database's copy is the state; the file
    here is a cache. True when the check was made here."""
    from segport.service.state_copies import copy_info, shared_states

    if not shared_states(ws) or token is None:
        return False
    copy = copy_info(ws, export_id)
    if copy is None or copy.token != token:
        return False  # (states from before sharing: the file here is checked as before)
    cached = "cached here" if path.exists() else "not cached here: the next run here fetches it"
    report.add(
        check, OK,
        f"state kept in the database ({copy.bytes:,} bytes, saved by {copy.saved_by}; {cached})",
    )  # fmt: skip
    return True


def _read_state(path: Path, name: str, expected: str | None) -> tuple[str, str, str | None]:
    """The state opens, and it is the one the export's last run left (its token is the
    metadata's, as a run checks before it starts: see workspace.export_state)."""
    import duckdb

    from segport.exports.state import TOKEN, peek_state

    try:
        held, meta = peek_state(path, [TOKEN])
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        if "lock" in first.lower():
            return SKIPPED, "its state file is in use by a run", None
        return PROBLEM, f"its state file {path} cannot be opened ({first})", _state_fix(name, path)
    mine = meta.get(TOKEN)
    if expected is not None and not (
        isinstance(mine, dict) and expected in (mine.get("token"), mine.get("previous"))
    ):
        return (
            PROBLEM,
            f"its state file {path} is not the one the export's last run left (an older "
            "copy put back, or its .wal lost): runs of the export refuse it",
            _state_fix(name, path),
        )
    return OK, f"state opens ({held:,} contacts held in Brevo)", None


def _brevo(report: Report, name: str, base_url: str, key: Any) -> None:
    from segport.errors import SegportError
    from segport.service.connection_checks import verify_key

    try:
        account = verify_key(base_url, key, saved=True, connection=name)
    except SegportError as exc:
        report.add(f"brevo {name}", PROBLEM, str(exc), _brevo_fix(name, exc.code))
        return
    report.add(f"brevo {name}", OK, f"Brevo accepts the key (account {account.email})")


def _brevo_fix(name: str, code: str) -> str:
    if code in ("api_key_refused", "saved_api_key_refused"):
        return f'give it a valid key: segport connections edit "{name}" --api-key-stdin'
    return "check the network and the connection's base URL (`segport connections show`)"


def _state_fix(name: str, path: Path) -> str:
    """The ways back from a lost or damaged state, with the command that rebuilds it
    (the doctor reports on this command line's workspace, so it names the command)."""
    from segport.service.export_state import ways_back

    return f"{ways_back(name, path)}: `segport exports rebuild-state {name}`"

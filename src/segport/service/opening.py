"""Creating and opening a workspace: the folder, its metadata database (migrated), its
secrets key, its first admin and its profile store (see :mod:`segport.service.workspace`
for what the folder holds, and :mod:`segport.service.location` for ``workspace.json``).

Kept apart from :class:`~segport.service.workspace.Workspace` itself, which every service
imports: creating a workspace needs the users and secrets services, and those need the
``Workspace`` type, so one module holding both would import in a circle.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from segport import __version__
from segport.metadata import upgrade
from segport.secret import redact_text, redact_url
from segport.service import location as loc
from segport.service.files import PRIVATE_DIR, PRIVATE_FILE, create_private_file, make_private_dir
from segport.service.location import (
    CONFIG_FILE,
    LocationError,
    MetadataLocation,
    location_for_init,
    write_config,
)
from segport.service.secrets import create_key_file, key_from_environment, load_keys
from segport.service.users import check_name, create_first_admin
from segport.service.workspace import (
    BACKUP_HINT,
    PRIVATE_FOLDERS,
    PROFILE_STORE_FILE,
    MetadataDamaged,
    Workspace,
    WorkspaceError,
    WorkspaceNotFound,
)

DEFAULT_ADMIN = "admin"


def init_workspace(
    path: Path, database_url: str | None = None, admin: str | None = None
) -> Workspace:
    """Create the workspace folder (0700), its metadata database (migrated), its secrets key,
    its first admin (``admin``, the default user of commands without --as) and its profile
    store.

    Running it on an existing workspace is refused rather than silently reusing it.
    """

    refuse_unusable_folder(path)
    admin_name = check_name(admin or DEFAULT_ADMIN)
    if key_from_environment():
        load_keys(path)  # a malformed SEGPORT_SECRET_KEY stops init before anything is made
    try:
        location = location_for_init(path, database_url)
    except LocationError as exc:
        raise WorkspaceError(str(exc), code=exc.code, field=exc.field) from exc
    _make_folder(path)
    if location.sqlite_file is not None and location.sqlite_file.exists():
        raise WorkspaceError(
            f"{location.sqlite_file} already exists; init makes a new metadata database: move "
            "that file away, or open the workspace it belongs to"
        )
    engine = _init_engine(location)
    try:
        if location.server_url is not None:
            _refuse_used_database(engine, location.url)
        upgrade(engine)
        # One transaction: a failed init leaves no half-made workspace to trip over.
        with Session(engine) as session, session.begin():
            now = datetime.now(UTC).isoformat()
            for key, value in (("created_at", now), ("created_by_version", __version__)):
                session.execute(text("DELETE FROM workspace_info WHERE key = :k"), {"k": key})
                session.execute(
                    text("INSERT INTO workspace_info (key, value) VALUES (:k, :v)"),
                    {"k": key, "v": value},
                )
            create_first_admin(session, admin_name)
        create_key_file(path)
    except Exception as exc:
        engine.dispose()
        _remove_sqlite_file(location)
        raise_database_error(exc, location, where="the database URL given")
        raise
    # Only the location of the database is kept here (0600: a server URL may hold a
    # password, though PGPASSWORD or ~/.pgpass is better).
    write_config(path, location)
    _make_private_parts(path)
    return Workspace(
        path=path, database_url=location.url, engine=engine, metadata_display=location.display()
    )


def refuse_unusable_folder(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise WorkspaceError(
            f"the workspace path {path} is a file, not a folder; give the path of a folder "
            "(it is created if missing)",
            field="workspace",
        )
    if (path / CONFIG_FILE).exists():
        raise WorkspaceError(
            f"a workspace already exists at {path}; use it, or pick another folder",
            code="workspace_exists",
            field="workspace",
        )


def _make_folder(path: Path) -> None:
    """Create the workspace folder 0700; an existing empty one is made 0700 too (an existing
    folder with other things in it keeps its mode: `segport doctor` reports it)."""
    import os

    try:
        existed = path.exists()
        empty = not existed or not any(path.iterdir())
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        if empty:
            os.chmod(path, PRIVATE_DIR)
    except OSError as exc:
        raise WorkspaceError(
            f"cannot create the workspace folder {path} ({exc.strerror or exc}); give a "
            "path you can write to",
            field="workspace",
        ) from exc


def _init_engine(location: MetadataLocation) -> Engine:

    if location.sqlite_file is not None:
        try:
            location.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            create_private_file(location.sqlite_file)
        except OSError as exc:
            raise WorkspaceError(
                f"cannot create the metadata database {location.sqlite_file} ({exc.strerror})"
            ) from exc
    try:
        return location.engine(create=True)
    except ModuleNotFoundError as exc:
        raise WorkspaceError(
            f"{location.display()}: segport keeps metadata in SQLite (the default) or "
            "PostgreSQL (postgresql://USER@HOST:PORT/DATABASE); this database type is not "
            f"supported ({exc.name} is not installed)"
        ) from exc
    except Exception as exc:
        from sqlalchemy.exc import ArgumentError

        if isinstance(exc, ArgumentError):
            raise WorkspaceError(
                f"{redact_url(location.url)} is not a database URL; give "
                "postgresql://USER@HOST:PORT/DATABASE",
                code="database_url_invalid",
                field="database_url",
            ) from exc
        raise


def _remove_sqlite_file(location: MetadataLocation) -> None:
    """A failed init leaves no metadata database behind (a second init would refuse it)."""
    if location.sqlite_file is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{location.sqlite_file}{suffix}").unlink(missing_ok=True)


def _make_private_parts(path: Path) -> None:
    import os

    from segport.profiles.embedded import create_embedded_store

    store = path / PROFILE_STORE_FILE
    create_embedded_store(store)
    os.chmod(store, PRIVATE_FILE)
    for folder in PRIVATE_FOLDERS:
        make_private_dir(path / folder)


def open_workspace(path: Path) -> Workspace:
    """Open an existing workspace, running any migrations an older one has not had.

    Never creates a metadata database: a missing, empty or damaged one is refused with a
    message saying which file and what to do.
    """

    try:
        config = loc.read_config(path)
    except FileNotFoundError:
        if missing := loc.config_missing(path):
            raise WorkspaceNotFound(": ".join(missing)) from None
        raise WorkspaceNotFound(
            f"no workspace at {path}: create one first, or name an existing one",
            field="workspace",
        ) from None
    except LocationError as exc:
        raise WorkspaceError(str(exc), code=exc.code, field=exc.field) from exc
    try:
        location, notices = loc.resolve(path, config)
        if location.sqlite_file is not None:
            loc.check_sqlite_file(location.sqlite_file)
    except LocationError as exc:
        raise MetadataDamaged(str(exc), field=exc.field) from exc
    engine = location.engine()
    try:
        upgrade(engine, check_is_workspace(engine, location))
        ws = Workspace(
            path=path,
            database_url=location.url,
            engine=engine,
            notices=notices,
            metadata_display=location.display(),
        )
        from segport.service.users import ensure_users

        ensure_users(ws)
    except Exception as exc:
        engine.dispose()
        raise_database_error(exc, location)
        raise
    return ws


def check_is_workspace(engine: Engine, location: MetadataLocation) -> str:
    """Refuse a database that holds no segport workspace (emptied, replaced, or a new
    server database): opening must never start a new workspace in its place. Returns the
    schema revision (one query for both: every command opens the workspace)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    query = text(
        "SELECT (SELECT max(version_num) FROM alembic_version), "
        "(SELECT count(*) FROM workspace_info WHERE key = 'created_at')"
    )
    try:
        with engine.connect() as conn:
            row = conn.execute(query).first()
    except (OperationalError, ProgrammingError) as exc:
        if "no such table" not in str(exc.orig) and "does not exist" not in str(exc.orig):
            raise
        row = None
    if row is not None and row[0] and row[1]:
        return str(row[0])
    raise MetadataDamaged(
        f"the metadata database {location.display()} holds no segport workspace (it is "
        f"empty or was replaced), although {CONFIG_FILE} says one is there; "
        f"{BACKUP_HINT}. segport does not start a new workspace over it"
    )


def raise_database_error(
    exc: Exception, location: MetadataLocation, where: str = CONFIG_FILE
) -> None:
    """A database driver's error as a message (never a traceback, never a password);
    ``where`` the URL came from (``--database-url`` at init)."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return
    reason = redact_text(str(exc.orig), location.url).strip().splitlines()[0]
    if location.server_url is not None and (exc.connection_invalidated or _is_connect(exc)):
        raise WorkspaceError(
            f"cannot reach the metadata database {location.display()} ({reason}); check "
            f"that the server is running and the URL in {where}",
            code="metadata_unreachable",
            field="database_url" if where != CONFIG_FILE else None,
        ) from None
    raise MetadataDamaged(
        f"the metadata database {location.display()} cannot be read ({reason}): it is "
        f"damaged; {BACKUP_HINT}, then check the workspace"
    ) from None


def _is_connect(exc: Exception) -> bool:
    from sqlalchemy.exc import OperationalError

    text_ = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, OperationalError) and any(
        w in text_ for w in ("connection", "could not connect", "password authentication")
    )


def _refuse_used_database(engine: Engine, url: str) -> None:
    """A PostgreSQL database already holding a workspace is not silently shared."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        if not inspect(conn).has_table("workspace_info"):
            return
        used = conn.execute(
            text("SELECT value FROM workspace_info WHERE key = 'created_at'")
        ).first()
    if used is not None:
        raise WorkspaceError(
            f"the database {redact_url(url)} already holds a segport workspace (created "
            f"{used[0]}); give a new workspace an empty database",
            code="database_in_use",
            field="database_url",
        )

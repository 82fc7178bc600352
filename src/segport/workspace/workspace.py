"""Opening and creating a workspace: the folder that holds segport's state.

A workspace folder holds ``workspace.json`` (where the metadata database is), the SQLite
metadata database ``metadata.db`` unless a PostgreSQL URL was given, the embedded
profile store ``profiles.duckdb`` and the secrets key ``secret.key`` (0600; absent when
the key comes from ``SEGPORT_SECRET_KEY``). Commands never read these paths ad hoc: they open the
workspace once and are handed a :class:`Workspace`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from segport import __version__
from segport.metadata import create_metadata_engine, upgrade

CONFIG_FILE = "workspace.json"
SQLITE_FILE = "metadata.db"
PROFILE_STORE_FILE = "profiles.duckdb"


class WorkspaceError(Exception):
    """The workspace cannot be created or opened; the message says what to do."""


class WorkspaceNotFound(WorkspaceError):
    pass


def has_control_characters(text: str) -> bool:
    """Names with control characters could rewrite other users' terminals; they are refused."""
    import unicodedata

    return any(unicodedata.category(c).startswith("C") for c in text)


@dataclass
class Workspace:
    path: Path
    database_url: str
    engine: Engine
    _sessions: sessionmaker[Session] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def profile_store_path(self) -> Path:
        return self.path / PROFILE_STORE_FILE

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits when the block ends without error."""
        from sqlalchemy.exc import IntegrityError

        try:
            with self._sessions.begin() as session:
                yield session
        except IntegrityError as exc:
            # Services check names before saving; this is another process saving the
            # same name in between, so it gets a message rather than a traceback.
            raise WorkspaceError(
                "the change conflicts with one saved at the same time (is the name already "
                f"taken?); nothing was changed, look and try again ({exc.orig})"
            ) from exc

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{(path / SQLITE_FILE).resolve()}"


def redact_url(url: str) -> str:
    """A database URL safe to print: the password, if any, replaced by ***."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


DEFAULT_ADMIN = "admin"


def init_workspace(
    path: Path, database_url: str | None = None, admin: str | None = None
) -> Workspace:
    """Create the workspace folder, its metadata database (migrated), its secrets key, its
    first admin (``admin``, the default user of commands without --as) and its profile store.

    Running it on an existing workspace is refused rather than silently reusing it.
    """
    from segport.workspace.secrets import create_key_file, key_from_environment, load_keys
    from segport.workspace.users import check_name, create_first_admin

    config_file = path / CONFIG_FILE
    if config_file.exists():
        raise WorkspaceError(
            f"a workspace already exists at {path}; use it, or pick another --workspace"
        )
    admin_name = check_name(admin or DEFAULT_ADMIN)
    if key_from_environment():
        load_keys(path)  # a malformed SEGPORT_SECRET_KEY stops init before anything is made
    path.mkdir(parents=True, exist_ok=True)
    url = database_url or _sqlite_url(path)
    engine = create_metadata_engine(url)
    try:
        if database_url is not None:
            _refuse_used_database(engine, url)
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
    except Exception:
        engine.dispose()
        raise
    # Only the location of the database is kept here, never a password in clear when the
    # URL can take it from the environment (PGPASSWORD) instead.
    config_file.write_text(json.dumps({"database_url": url}, indent=2) + "\n")
    from segport.profiles.embedded import create_embedded_store

    create_embedded_store(path / PROFILE_STORE_FILE)
    return Workspace(path=path, database_url=url, engine=engine)


def open_workspace(path: Path) -> Workspace:
    """Open an existing workspace, running any migrations an older one has not had."""
    config_file = path / CONFIG_FILE
    if not config_file.exists():
        raise WorkspaceNotFound(
            f"no workspace at {path}: run `segport init` first, or point --workspace "
            "(or SEGPORT_WORKSPACE) at an existing one"
        )
    try:
        config = json.loads(config_file.read_text())
        url = str(config["database_url"])
    except (ValueError, KeyError) as exc:
        raise WorkspaceError(f"{config_file} is damaged ({exc}); restore it from a backup") from exc
    engine = create_metadata_engine(url)
    try:
        upgrade(engine)
    except Exception:
        engine.dispose()
        raise
    ws = Workspace(path=path, database_url=url, engine=engine)
    from segport.workspace.users import ensure_users

    ensure_users(ws)
    return ws


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
            f"{used[0]}); give `init --database-url` an empty database"
        )

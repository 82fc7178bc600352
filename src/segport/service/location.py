"""Where a workspace's metadata database is: what ``workspace.json`` says, resolved.

A SQLite database is recorded relative to the workspace folder (``"sqlite_file":
"metadata.db"``), so a moved workspace still finds its own and a copied one is a separate
workspace. A server database (PostgreSQL) is recorded as its URL (``"database_url"``).

Workspaces made by segport before 0.x recorded an absolute ``sqlite:///`` URL. On opening:
when it points inside the workspace it is rewritten relative; when it points elsewhere and
the workspace has its own ``metadata.db`` (a workspace moved or copied with an older
segport), its own is used and recorded; otherwise (a SQLite file the user chose with
``init --database-url``) it is kept.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segport.errors import Invalid
from segport.service.files import write_private

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL

CONFIG_FILE = "workspace.json"
SQLITE_FILE = "metadata.db"


class LocationError(Invalid):
    """``workspace.json`` is missing, damaged or names a database that cannot be used."""

    default_code = "workspace_location_invalid"


@dataclass(frozen=True)
class MetadataLocation:
    """A SQLite file (absolute, resolved against the workspace) or a server URL."""

    sqlite_file: Path | None = None
    server_url: str | None = None

    @property
    def url(self) -> str:
        """The URL for messages and ``Workspace.database_url`` (may hold a password)."""
        if self.sqlite_file is not None:
            return f"sqlite:///{self.sqlite_file.absolute()}"
        assert self.server_url is not None
        return self.server_url

    def display(self) -> str:
        """Where the database is, safe to print."""
        from segport.secret import redact_url

        if self.sqlite_file is not None:
            return str(self.sqlite_file)
        return redact_url(self.url)

    def engine(self, *, create: bool = False) -> Engine:
        """An engine; for SQLite, ``create=False`` opens the file read-write without ever
        creating it (SQLite would otherwise make an empty database where one is missing)."""
        from segport.metadata import create_metadata_engine

        if self.sqlite_file is None:
            return create_metadata_engine(self.url)
        return create_metadata_engine(sqlite_url(self.sqlite_file, create=create))

    def config(self, ws_path: Path) -> dict[str, Any]:
        """What ``workspace.json`` records for this location."""
        if self.sqlite_file is None:
            return {"database_url": self.server_url}
        return {"sqlite_file": _relative_if_inside(self.sqlite_file, ws_path)}


def sqlite_url(file: Path, *, create: bool) -> URL:
    """A SQLite URL built from parts (a path with ?, # or % stays a path)."""
    from urllib.parse import quote

    from sqlalchemy.engine import URL

    absolute = str(file.absolute())
    if create:
        return URL.create("sqlite", database=absolute)
    return URL.create(
        "sqlite", database="file:" + quote(absolute), query={"uri": "true", "mode": "rw"}
    )


def _relative_if_inside(file: Path, ws_path: Path) -> str:
    try:
        return file.resolve().relative_to(ws_path.resolve()).as_posix()
    except ValueError:
        return str(file)


def location_for_init(ws_path: Path, database_url: str | None) -> MetadataLocation:
    """The location ``init`` uses: the workspace's own SQLite file unless a URL is given."""
    if database_url is None:
        return MetadataLocation(sqlite_file=(ws_path / SQLITE_FILE).absolute())
    if database_url.startswith("sqlite:"):
        return MetadataLocation(sqlite_file=_sqlite_path(ws_path, database_url))
    return MetadataLocation(server_url=database_url)


def _sqlite_path(ws_path: Path, url: str) -> Path:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        database = make_url(url).database
    except ArgumentError as exc:
        raise LocationError(f"{url!r} is not a database URL ({exc})") from exc
    if not database or database == ":memory:":
        raise LocationError(
            f"{url!r} names no SQLite file; give sqlite:////absolute/path.db, or no "
            "database URL for the workspace's own metadata.db",
            field="database_url",
        )
    path = Path(database)
    return path if path.is_absolute() else (ws_path / path).absolute()


def config_missing(ws_path: Path) -> tuple[str, str] | None:
    """(what is wrong, what to do) when ``workspace.json`` is gone but the folder holds a
    SQLite metadata database (``segport init`` refuses such a folder, so "run init" would
    lead nowhere)."""
    if not (ws_path / SQLITE_FILE).is_file():
        return None
    return (
        f"{ws_path} has a metadata database ({SQLITE_FILE}) but no {CONFIG_FILE}",
        f'restore {CONFIG_FILE} from a backup, or write {{"sqlite_file": "{SQLITE_FILE}"}} '
        "into it (a workspace made with a database URL held its URL there instead)",
    )


def read_config(ws_path: Path) -> dict[str, Any]:
    config_file = ws_path / CONFIG_FILE
    if ws_path.exists() and not ws_path.is_dir():
        raise LocationError(
            f"the workspace {ws_path} is a file, not a workspace folder; name the folder "
            "the workspace was made in",
            field="workspace",
        )
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise LocationError(
            f"{config_file} cannot be read ({exc}); restore it from a backup (it holds "
            '{"sqlite_file": "metadata.db"} for a workspace made with SQLite)'
        ) from exc
    if not isinstance(config, dict):
        raise LocationError(f"{config_file} is damaged (not a JSON object); restore it")
    return config


def resolve(
    ws_path: Path, config: dict[str, Any], *, rewrite: bool = True
) -> tuple[MetadataLocation, list[str]]:
    """The location ``config`` names, and notices for the user. A legacy absolute SQLite
    URL is rewritten in ``workspace.json`` unless ``rewrite`` is False (see the module's
    docstring)."""
    config_file = ws_path / CONFIG_FILE
    if isinstance(config.get("sqlite_file"), str) and config["sqlite_file"]:
        file = Path(config["sqlite_file"])
        return MetadataLocation(sqlite_file=file if file.is_absolute() else ws_path / file), []
    url = config.get("database_url")
    if not isinstance(url, str) or not url:
        raise LocationError(
            f"{config_file} does not say where the metadata database is (no sqlite_file or "
            "database_url); restore it from a backup"
        )
    if not url.startswith("sqlite:"):
        return MetadataLocation(server_url=url), []
    recorded = _sqlite_path(ws_path, url)
    own = (ws_path / SQLITE_FILE).absolute()
    notices: list[str] = []
    if _relative_if_inside(recorded, ws_path) != str(recorded):
        location = MetadataLocation(sqlite_file=recorded)
    elif own.exists():
        location = MetadataLocation(sqlite_file=own)
        notices.append(
            f"{config_file} pointed at {recorded}, outside this workspace (it was moved or "
            f"copied by an older segport); this workspace's own {own} is used from now on. A "
            "copied workspace is a separate workspace"
        )
    else:
        return MetadataLocation(sqlite_file=recorded), []
    if rewrite:
        # A read-only workspace still opens; the next writable open records the location.
        with contextlib.suppress(OSError):
            write_config(ws_path, location)
    return location, notices


def write_config(ws_path: Path, location: MetadataLocation) -> None:
    write_private(ws_path / CONFIG_FILE, json.dumps(location.config(ws_path), indent=2) + "\n")


def check_sqlite_file(file: Path) -> None:
    """Refuse a missing, empty or non-SQLite file before SQLite makes or misreads it."""
    hint = "restore it from a backup (docs/workspace.md, 'Backups and damage')"
    if not file.exists():
        raise LocationError(
            f"the metadata database {file} is missing. Was the workspace's folder moved or "
            f"the file deleted? Name the workspace folder that holds it, or {hint}. "
            "segport does not start a new workspace in its place",
            field="workspace",
        )
    if not file.is_file():
        raise LocationError(f"the metadata database {file} is not a file; {hint}")
    if file.stat().st_size == 0:
        raise LocationError(
            f"the metadata database {file} is empty (0 bytes): it was cut short or replaced; "
            f"{hint}. segport does not start a new workspace over it"
        )
    # SQLite itself reads the header, never a file handle of ours: closing any handle on
    # the file drops every POSIX lock this process holds on it, those of its open SQLite
    # connections too (a long-lived process opening the workspace again: the server's
    # tests, a program calling the services). Another process closing its last connection
    # then thinks it is the last one out and deletes the write-ahead log this process
    # still reads: from then on it reads a deleted log and never sees another commit.
    # SQLite's own handles (the same library as SQLAlchemy's driver) defer such closes.
    import sqlite3

    try:
        conn = sqlite3.connect(f"{file.absolute().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            conn.execute("PRAGMA schema_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
            raise LocationError(
                f"the metadata database {file} is damaged (it is not a SQLite database); {hint}"
            ) from exc
        raise LocationError(f"the metadata database {file} cannot be read ({exc})") from exc

"""Joining a workspace from another machine: a folder for a worker (or a person) that
reaches an existing workspace whose metadata is in PostgreSQL (``segport init --join``).

Everything shared is in the database (users, connections, exports, schedules, runs, the
exports' states: :mod:`segport.service.state_copies`); the folder holds what is this
machine's: ``workspace.json`` (the database URL), a cache of the states, the files of the
runs executed here, and the secrets key, which never goes into the database (it would
open every API key saved there). The key comes from ``SEGPORT_SECRET_KEY``, or is copied
from a file given (a copy of the first machine's ``secret.key``); either must open the
saved API keys, or the join is refused before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from segport.metadata import upgrade
from segport.service.files import PRIVATE_FILE, make_private_dir
from segport.service.location import LocationError, location_for_init, write_config
from segport.service.models import Connection
from segport.service.opening import (
    check_is_workspace,
    raise_database_error,
    refuse_unusable_folder,
)
from segport.service.secrets import (
    SECRET_KEY_ENV,
    SecretKeyError,
    decrypts,
    key_file,
    key_from_environment,
    load_keys,
)
from segport.service.workspace import PRIVATE_FOLDERS, Workspace, WorkspaceError

__all__ = ["WorkspaceJoined", "join_workspace"]


@dataclass(frozen=True)
class WorkspaceJoined:
    path: str
    metadata: str  # the database, its password masked
    secrets_key: str  # the file the key was copied to, or the environment variable
    connections: int  # saved API keys the key was checked against
    profiles: str  # where the profiles are, as this machine sees them
    warning: str | None  # what stops runs here, if anything


def join_workspace(path: Path, database_url: str, secret_key_file: Path | None) -> WorkspaceJoined:
    """Make ``path`` a folder of the workspace in the PostgreSQL database ``database_url``."""
    refuse_unusable_folder(path)
    if database_url.startswith("sqlite:"):
        raise WorkspaceError(
            "only a workspace whose metadata is in PostgreSQL can be joined from another "
            "folder (a SQLite workspace is one folder: copy or mount it instead)",
            code="join_needs_postgresql",
            field="database_url",
        )
    if secret_key_file is None and not key_from_environment():
        raise SecretKeyError(
            f"joining needs the workspace's secrets key: give a copy of its secret.key file "
            f"or set {SECRET_KEY_ENV}",
            field="secret_key_file",
        )
    try:
        location = location_for_init(path, database_url)
    except LocationError as exc:
        raise WorkspaceError(str(exc), code=exc.code, field=exc.field) from exc
    engine = location.engine()
    try:
        upgrade(engine, check_is_workspace(engine, location))
    except Exception as exc:
        engine.dispose()
        raise_database_error(exc, location, where="the database URL given")
        raise
    ws = Workspace(
        path=path, database_url=location.url, engine=engine, metadata_display=location.display()
    )
    try:
        path.mkdir(parents=True, exist_ok=True)
        make_private_dir(path)
        if secret_key_file is not None and not key_from_environment():
            _copy_key(secret_key_file, key_file(path))
        try:
            checked = _check_key(ws)
        except SecretKeyError:
            key_file(path).unlink(missing_ok=True)
            raise
        write_config(path, location)
        for folder in PRIVATE_FOLDERS:
            make_private_dir(path / folder)
        profiles, warning = _profiles_here(ws)
        return WorkspaceJoined(
            path=str(path),
            metadata=location.display(),
            secrets_key=SECRET_KEY_ENV if key_from_environment() else str(key_file(path)),
            connections=checked,
            profiles=profiles,
            warning=warning,
        )
    finally:
        ws.close()


def _copy_key(source: Path, target: Path) -> None:
    import os

    try:
        keys = source.read_bytes()
    except OSError as exc:
        raise SecretKeyError(
            f"cannot read the secrets key file {source} ({exc.strerror})",
            field="secret_key_file",
        ) from exc
    # Written 0600 whatever the source's permissions were.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as out:
        out.write(keys)


def _check_key(ws: Workspace) -> int:
    """The key loads and opens every saved API key; returns how many it opened."""
    load_keys(ws.path)
    with ws.session() as session:
        saved = session.execute(select(Connection.name, Connection.api_key_token)).all()
    for name, token in saved:
        if not decrypts(ws.path, token):
            raise SecretKeyError(
                f"the secrets key given does not open the saved API key of connection "
                f"{name!r}: give a copy of the secret.key of a machine of this workspace "
                f"(or its {SECRET_KEY_ENV})",
                code="secret_key_mismatch",
                field="secret_key_file",
            )
    return len(saved)


def _profiles_here(ws: Workspace) -> tuple[str, str | None]:
    from segport.profiles.models import POSTGRES, ProfileSource
    from segport.secret import redact_url

    with ws.session() as session:
        source = session.get(ProfileSource, 1)
        kind = None if source is None else source.kind
        url = None if source is None else source.url
    if kind == POSTGRES and url is not None:
        return f"PostgreSQL: {redact_url(url)}", None
    if kind is None:
        return "none loaded yet", (
            "no profiles are loaded yet: load them into PostgreSQL (`segport profiles load "
            "FILE --into postgresql://...`) so that every machine reads them"
        )
    return "the embedded store of the machine that loaded them", (
        "the profiles are in the embedded DuckDB store of the machine that loaded them, "
        "which this machine cannot read: runs executed here fail until they are loaded into "
        "PostgreSQL (`segport profiles load FILE --into postgresql://...`)"
    )

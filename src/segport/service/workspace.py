"""Opening and creating a workspace: the folder that holds segport's state.

A workspace folder holds ``workspace.json`` (where the metadata database is: see
:mod:`segport.service.location`), the SQLite metadata database ``metadata.db`` unless a
PostgreSQL URL was given, the embedded profile store ``profiles.duckdb``, the secrets key
``secret.key`` (absent when the key comes from ``SEGPORT_SECRET_KEY``), and the folders
``state/``, ``runs/`` and ``cache/``. Everything is created readable by its owner only
(:mod:`segport.service.files`). Commands never read these paths ad hoc: they open the
workspace once and are handed a :class:`Workspace`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from segport.errors import Conflict, NotFound, SegportError
from segport.secret import redact_text, redact_url  # (moved down: profiles use them too)
from segport.service.location import CONFIG_FILE, SQLITE_FILE

PROFILE_STORE_FILE = "profiles.duckdb"
# Folders other modules write into (export state, run files, the member-query cache);
# made 0700 by init so what lands in them is private even without the CLI's umask.
PRIVATE_FOLDERS = ("state", "runs", "cache")

__all__ = [
    "CONFIG_FILE",
    "PROFILE_STORE_FILE",
    "SQLITE_FILE",
    "Workspace",
    "WorkspaceError",
    "redact_text",
    "redact_url",
]

BACKUP_HINT = "restore it from a backup (docs/workspace.md, 'Backups and damage')"


class WorkspaceError(SegportError):
    """The workspace cannot be created or opened; the message says what to do."""

    default_code = "workspace_error"


class WorkspaceNotFound(NotFound, WorkspaceError):
    default_code = "workspace_not_found"


class MetadataDamaged(WorkspaceError):
    """The metadata database is missing, empty, unreadable or holds no workspace."""

    default_code = "metadata_damaged"


def has_control_characters(text: str) -> bool:
    """Names with control characters could rewrite other users' terminals; they are refused."""
    import unicodedata

    return any(unicodedata.category(c).startswith("C") for c in text)


@dataclass
class Workspace:
    path: Path
    database_url: str
    engine: Engine
    # Things the user should know about how the workspace was opened (a legacy location
    # rewritten); the command line prints them.
    notices: list[str] = field(default_factory=list)
    metadata_display: str = ""
    _sessions: sessionmaker[Session] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if not self.metadata_display:
            self.metadata_display = redact_url(self.database_url)

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
            raise Conflict(
                "the change conflicts with one saved at the same time (is the name already "
                f"taken?); nothing was changed, look and try again ({exc.orig})",
                code="concurrent_change",
            ) from exc

    def close(self) -> None:
        self.engine.dispose()

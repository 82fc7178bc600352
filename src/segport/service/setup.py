"""Creating a workspace, as every face reports it.

Creation is where a workspace begins, so no actor exists yet: whoever creates it becomes
its first admin (``docs/workspace.md``: whoever can write the folder holds it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segport.service.opening import init_workspace
from segport.service.secrets import SECRET_KEY_ENV, key_file, key_from_environment


@dataclass(frozen=True)
class WorkspaceCreated:
    path: str
    metadata: str  # where the metadata is (a server URL's password masked)
    metadata_kind: str  # sqlite | postgresql
    profile_store: str
    # The file holding the secrets key, or the environment variable that gives it.
    secrets_key: str
    secrets_key_from_environment: bool
    admin: str


def create_workspace(
    path: Path, database_url: str | None = None, admin: str = "admin"
) -> WorkspaceCreated:
    """Create a workspace (:func:`~segport.service.workspace.init_workspace`) and say what
    was made."""
    ws = init_workspace(path, database_url, admin=admin)
    try:
        from_env = key_from_environment()
        return WorkspaceCreated(
            path=str(ws.path),
            metadata=ws.metadata_display,
            metadata_kind="sqlite" if ws.engine.dialect.name == "sqlite" else "postgresql",
            profile_store=str(ws.profile_store_path),
            secrets_key=SECRET_KEY_ENV if from_env else str(key_file(ws.path)),
            secrets_key_from_environment=from_env,
            admin=admin.strip(),
        )
    finally:
        ws.close()

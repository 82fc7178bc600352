"""Files and folders of a workspace, readable by their owner only.

Profiles, export state, run files and ``workspace.json`` hold personal data or database
passwords, so the workspace's own folders are created 0700 and its files 0600. Files that
other modules create (DuckDB's state and write-ahead logs, run CSVs, caches) get the same
from the process umask, which the command line sets to :data:`PRIVATE_UMASK` (see
``docs/workspace.md``, "Who can read the workspace").
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

# Files created 0600, folders 0700, whatever mode the creating code asks for.
PRIVATE_UMASK = 0o077
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) and make it 0700."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)


def write_private(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` readable by its owner only, replacing it atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.write(fd, content.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, PRIVATE_FILE)
    os.replace(tmp, path)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 if it does not exist (before a library opens it, so
    the library's own files next to it, such as SQLite's -wal and -shm, copy its mode)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    os.close(fd)
    os.chmod(path, PRIVATE_FILE)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def too_open(root: Path) -> Iterator[tuple[Path, int]]:
    """Every path under ``root`` (``root`` included) that other users may read or enter."""
    for path in [root, *sorted(root.rglob("*"))]:
        try:
            if path.is_symlink():
                continue
            mode = mode_of(path)
        except OSError:
            continue
        if mode & 0o077:
            yield path, mode

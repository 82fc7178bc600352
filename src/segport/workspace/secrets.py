"""The workspace's secrets key, and API keys encrypted with it.

API keys are stored only as Fernet tokens (AES-128-CBC + HMAC-SHA256, from the well-kept
``cryptography`` package). The key material comes from ``SEGPORT_SECRET_KEY`` when set
(comma-separated Fernet keys, newest first), else from ``secret.key`` in the workspace:
one key per line, newest first, created with 0600 permissions. Several keys make rotation
possible: tokens made with any listed key decrypt, new tokens use the first key, and
:func:`rotate` re-encrypts every stored token with a new first key.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from segport.secret import Secret, reveal
from segport.workspace.workspace import WorkspaceError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

SECRET_KEY_FILE = "secret.key"
SECRET_KEY_ENV = "SEGPORT_SECRET_KEY"


class SecretKeyError(WorkspaceError):
    """The secrets key is missing, unreadable, too open or does not fit the stored tokens."""


def key_file(ws_path: Path) -> Path:
    return ws_path / SECRET_KEY_FILE


def create_key_file(ws_path: Path) -> Path | None:
    """Write a new key file (0600) unless the key comes from the environment."""
    if os.environ.get(SECRET_KEY_ENV):
        load_keys(ws_path)  # fail early on a malformed key in the environment
        return None
    from cryptography.fernet import Fernet

    path = key_file(ws_path)
    _write_private(path, Fernet.generate_key().decode() + "\n")
    return path


def _write_private(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` readable by its owner only, replacing it atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, content.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load_keys(ws_path: Path) -> list[bytes]:
    env = os.environ.get(SECRET_KEY_ENV)
    if env:
        source = f"the {SECRET_KEY_ENV} environment variable"
        raw = [k.strip() for k in env.split(",")]
    else:
        path = key_file(ws_path)
        source = str(path)
        if not path.exists():
            raise SecretKeyError(
                f"the workspace's secrets key {path} is missing: restore it from your backup, "
                f"or set {SECRET_KEY_ENV}; without it the saved API keys cannot be used"
            )
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SecretKeyError(
                f"{path} can be read by other users (permissions {mode:o}); "
                f"run `chmod 600 {path}` and try again"
            )
        raw = [line.strip() for line in path.read_text().splitlines()]
    keys = [k.encode() for k in raw if k]
    if not keys:
        raise SecretKeyError(f"no secrets key found in {source}")
    from cryptography.fernet import Fernet

    for i, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError as exc:
            raise SecretKeyError(
                f"key {i} in {source} is not a valid Fernet key (32 url-safe base64-encoded "
                "bytes); generate one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`"
            ) from exc
    return keys


def _cipher(ws_path: Path) -> MultiFernet:
    from cryptography.fernet import Fernet, MultiFernet

    return MultiFernet([Fernet(k) for k in load_keys(ws_path)])


def encrypt(ws_path: Path, secret: str | Secret) -> bytes:
    return _cipher(ws_path).encrypt(reveal(secret).encode())


def decrypt(ws_path: Path, token: bytes) -> Secret:
    from cryptography.fernet import InvalidToken

    try:
        return Secret(_cipher(ws_path).decrypt(token).decode())
    except InvalidToken as exc:
        raise SecretKeyError(
            "a saved API key cannot be decrypted with the workspace's secrets key (was "
            f"{SECRET_KEY_FILE} replaced, or {SECRET_KEY_ENV} changed?); restore the old key, "
            "or give the connection a new API key with `segport connections edit NAME "
            "--api-key-stdin`"
        ) from exc


def rotate_tokens(ws_path: Path, tokens: list[bytes]) -> list[bytes]:
    """``tokens`` re-encrypted under the first key (any listed key may have made them)."""
    cipher = _cipher(ws_path)
    return [cipher.rotate(t) for t in tokens]


def new_key() -> bytes:
    from cryptography.fernet import Fernet

    return Fernet.generate_key()


def key_from_environment() -> bool:
    return bool(os.environ.get(SECRET_KEY_ENV))


def install_key(ws_path: Path, key: bytes, keep_old: bool) -> None:
    """Make ``key`` the first key of the key file, keeping the old ones while asked."""
    old = load_keys(ws_path) if keep_old else []
    lines = [key, *(k for k in old if k != key)]
    _write_private(key_file(ws_path), "".join(k.decode() + "\n" for k in lines))

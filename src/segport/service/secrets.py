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
from segport.service.files import write_private
from segport.service.workspace import WorkspaceError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

SECRET_KEY_FILE = "secret.key"
SECRET_KEY_ENV = "SEGPORT_SECRET_KEY"


class SecretKeyError(WorkspaceError):
    """The secrets key is missing, unreadable, too open or does not fit the stored tokens."""

    default_code = "secret_key_unusable"


def key_file(ws_path: Path) -> Path:
    return ws_path / SECRET_KEY_FILE


def create_key_file(ws_path: Path) -> Path | None:
    """Write a new key file (0600) unless the key comes from the environment."""
    if os.environ.get(SECRET_KEY_ENV):
        load_keys(ws_path)  # fail early on a malformed key in the environment
        return None
    return _create(key_file(ws_path))


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
                f"the workspace's secrets key {path} is missing: restore it from your backup "
                f"(or set {SECRET_KEY_ENV}); without it the saved API keys cannot be used. "
                "With no backup, make a new secrets key, then give each connection its API key "
                "again",
                code="secret_key_missing",
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


def decrypt(ws_path: Path, token: bytes, connection: str | None = None) -> Secret:
    """The API key in ``token``; ``connection`` names its connection in the error."""
    from cryptography.fernet import InvalidToken

    try:
        return Secret(_cipher(ws_path).decrypt(token).decode())
    except InvalidToken as exc:
        whose = (
            f"the saved API key of connection {connection!r}" if connection else "a saved API key"
        )
        raise SecretKeyError(
            f"{whose} cannot be decrypted with the workspace's secrets key (was "
            f"{SECRET_KEY_FILE} replaced, or {SECRET_KEY_ENV} changed?); restore the old key, "
            "or give the connection its API key again",
            code="api_key_unreadable",
            details={"connection": connection} if connection else None,
        ) from exc


def decrypts(ws_path: Path, token: bytes) -> bool:
    """Whether the workspace's keys open ``token`` (the key itself must load)."""
    from cryptography.fernet import InvalidToken

    try:
        _cipher(ws_path).decrypt(token)
    except InvalidToken:
        return False
    return True


def create_replacement_key(ws_path: Path) -> Path:
    """A new key file for a workspace whose key file was lost (saved API keys made with the
    lost key stay unreadable: each connection needs its key again). Refused while a key
    file exists or the key comes from the environment."""
    if key_from_environment():
        raise SecretKeyError(
            f"the secrets key comes from {SECRET_KEY_ENV}: put a new key there instead (see "
            "docs/workspace.md), then give each connection its API key again"
        )
    path = key_file(ws_path)
    if path.exists():
        raise SecretKeyError(
            f"{path} exists; a new key would make the API keys saved with it unreadable. To "
            "change the key, rotate it; if it was replaced by another key, give each "
            "connection its API key again",
            code="secret_key_exists",
        )
    return _create(path)


def _create(path: Path) -> Path:
    from cryptography.fernet import Fernet

    write_private(path, Fernet.generate_key().decode() + "\n")
    return path


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
    write_private(key_file(ws_path), "".join(k.decode() + "\n" for k in lines))

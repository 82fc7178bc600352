"""The server's settings, read once from the environment and handed to ``create_app``.

The workspace folder says where the metadata database is (``workspace.json`` holds its
URL), so the server needs no database setting of its own.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from segport.errors import Invalid, NotFound
from segport.secret import Secret

# Where a generated signing secret is kept, in the workspace folder (0600).
SESSION_KEY_FILE = "session.key"
DEFAULT_HOSTS = ("127.0.0.1", "localhost")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class Settings:
    """What the app is built with. ``from_env`` reads each from its variable:

    - ``workspace`` (``SEGPORT_WORKSPACE``): the workspace folder;
    - ``session_secret`` (``SEGPORT_SESSION_SECRET``): signs the session cookie; unset, a
      random one is made once and kept in ``<workspace>/session.key`` (0600);
    - ``allowed_hosts`` (``SEGPORT_ALLOWED_HOSTS``, comma-separated): the ``Host`` headers
      answered; others get 400 (DNS rebinding);
    - ``secure_cookies`` (``SEGPORT_SECURE_COOKIES``): cookies only over HTTPS, for a
      server behind TLS;
    - ``session_lifetime`` (``SEGPORT_SESSION_HOURS``): how long a sign-in lasts;
    - ``login_attempts`` / ``login_address_attempts`` / ``login_window``
      (``SEGPORT_LOGIN_ATTEMPTS``, ``SEGPORT_LOGIN_ADDRESS_ATTEMPTS``,
      ``SEGPORT_LOGIN_WINDOW_SECONDS``): failed sign-ins allowed per account and per client
      address within the window, before 429.
    """

    workspace: Path
    session_secret: Secret = field(repr=False)
    allowed_hosts: tuple[str, ...] = DEFAULT_HOSTS
    secure_cookies: bool = False
    session_lifetime: timedelta = timedelta(hours=12)
    login_attempts: int = 5
    login_address_attempts: int = 20
    login_window: timedelta = timedelta(minutes=15)

    @property
    def cookie_name(self) -> str:
        # The __Host- prefix (browsers: Secure, Path=/, no Domain) where cookies are secure.
        return "__Host-segport_session" if self.secure_cookies else "segport_session"

    @classmethod
    def from_env(
        cls,
        workspace: Path | None = None,
        environ: Mapping[str, str] | None = None,
        *,
        listen_host: str | None = None,
    ) -> Settings:
        """The settings the environment gives. Without ``SEGPORT_ALLOWED_HOSTS``, the
        loopback names are allowed, and ``listen_host`` when it is one address (not a
        wildcard such as 0.0.0.0, where the names clients use are not known)."""
        env = os.environ if environ is None else environ
        folder = workspace or Path(env.get("SEGPORT_WORKSPACE") or ".segport")
        secret = env.get("SEGPORT_SESSION_SECRET") or _kept_secret(folder)
        if len(secret) < 32:
            raise Invalid(
                "SEGPORT_SESSION_SECRET is too short: use at least 32 random characters "
                "(or unset it and the server keeps one in the workspace)",
                code="setting_invalid",
                field="SEGPORT_SESSION_SECRET",
            )
        hosts = tuple(
            h.strip() for h in (env.get("SEGPORT_ALLOWED_HOSTS") or "").split(",") if h.strip()
        )
        return cls(
            workspace=folder,
            session_secret=Secret(secret),
            allowed_hosts=hosts or _default_hosts(listen_host),
            secure_cookies=_flag(env, "SEGPORT_SECURE_COOKIES"),
            session_lifetime=timedelta(hours=_number(env, "SEGPORT_SESSION_HOURS", 12)),
            login_attempts=int(_number(env, "SEGPORT_LOGIN_ATTEMPTS", 5)),
            login_address_attempts=int(_number(env, "SEGPORT_LOGIN_ADDRESS_ATTEMPTS", 20)),
            login_window=timedelta(seconds=_number(env, "SEGPORT_LOGIN_WINDOW_SECONDS", 900)),
        )


def _default_hosts(listen_host: str | None) -> tuple[str, ...]:
    if listen_host in (None, "", "0.0.0.0", "::") or listen_host in DEFAULT_HOSTS:
        return DEFAULT_HOSTS
    return (*DEFAULT_HOSTS, f"[{listen_host}]" if ":" in listen_host else listen_host)


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise Invalid(f"{name}={value!r}: use 1 or 0", code="setting_invalid", field=name)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise Invalid(f"{name}={raw!r}: use a positive number", code="setting_invalid", field=name)
    return value


def _kept_secret(folder: Path) -> str:
    """The signing secret kept in the workspace folder, made (0600) on first use."""
    path = folder / SESSION_KEY_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    if not folder.is_dir():
        raise NotFound(
            f"no workspace at {folder}: create one with `segport init`, or name it with "
            "--workspace or SEGPORT_WORKSPACE",
            code="workspace_not_found",
            field="workspace",
        )
    value = secrets.token_urlsafe(48)
    try:  # O_EXCL: two servers starting at once keep one secret
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    try:
        os.write(fd, (value + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    return value

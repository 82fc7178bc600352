"""The server's settings from the environment, and the sign-in limiter."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from segport.errors import Invalid, NotFound
from segport.server.ratelimit import LoginLimiter, TooManyAttempts
from segport.server.settings import SESSION_KEY_FILE, Settings


def test_settings_from_the_environment(tmp_path: Path) -> None:
    env = {
        "SEGPORT_WORKSPACE": str(tmp_path),
        "SEGPORT_SESSION_SECRET": "x" * 40,
        "SEGPORT_ALLOWED_HOSTS": "segport.example.com, 10.0.0.5",
        "SEGPORT_SECURE_COOKIES": "1",
        "SEGPORT_SESSION_HOURS": "2",
        "SEGPORT_LOGIN_ATTEMPTS": "7",
    }
    s = Settings.from_env(environ=env)
    assert s.workspace == tmp_path
    assert s.session_secret.reveal() == "x" * 40
    assert "x" * 40 not in repr(s)
    assert s.allowed_hosts == ("segport.example.com", "10.0.0.5")
    assert s.secure_cookies and s.cookie_name == "__Host-segport_session"
    assert s.session_lifetime == timedelta(hours=2)
    assert s.login_attempts == 7
    assert not (tmp_path / SESSION_KEY_FILE).exists()  # a secret was given


def test_without_a_secret_one_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = Settings.from_env(tmp_path, environ={})
    key = tmp_path / SESSION_KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(first.session_secret.reveal()) >= 32
    again = Settings.from_env(tmp_path, environ={})
    assert again.session_secret.reveal() == first.session_secret.reveal()
    assert not first.secure_cookies and first.cookie_name == "segport_session"


def test_the_listening_address_is_allowed_unless_hosts_are_named(tmp_path: Path) -> None:
    env = {"SEGPORT_SESSION_SECRET": "y" * 32}
    assert Settings.from_env(tmp_path, env, listen_host="192.0.2.7").allowed_hosts == (
        "127.0.0.1",
        "localhost",
        "192.0.2.7",
    )
    assert Settings.from_env(tmp_path, env, listen_host="0.0.0.0").allowed_hosts == (
        "127.0.0.1",
        "localhost",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SEGPORT_SESSION_SECRET", "short"),
        ("SEGPORT_SECURE_COOKIES", "maybe"),
        ("SEGPORT_SESSION_HOURS", "-1"),
        ("SEGPORT_LOGIN_ATTEMPTS", "many"),
    ],
)
def test_a_wrong_setting_names_its_variable(tmp_path: Path, name: str, value: str) -> None:
    env = {"SEGPORT_SESSION_SECRET": "z" * 32, name: value}
    with pytest.raises(Invalid) as caught:
        Settings.from_env(tmp_path, env)
    assert caught.value.field == name


def test_no_workspace_no_secret_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        Settings.from_env(tmp_path / "missing", environ={})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limiter_counts_failures_per_account_and_per_address() -> None:
    clock = Clock()
    limiter = LoginLimiter(per_account=2, per_address=3, window=60, clock=clock)
    limiter.failed("Ann", "10.0.0.1")
    limiter.failed("ann", "10.0.0.1")  # names are counted case-insensitively
    with pytest.raises(TooManyAttempts) as caught:
        limiter.check("ANN", "10.0.0.2")
    assert caught.value.retry_after == 60
    limiter.check("bob", "10.0.0.1")  # the address has one attempt left
    limiter.failed("bob", "10.0.0.1")
    with pytest.raises(TooManyAttempts):
        limiter.check("carl", "10.0.0.1")  # the address is used up
    clock.now += 30
    with pytest.raises(TooManyAttempts) as later:
        limiter.check("carl", "10.0.0.1")
    assert later.value.retry_after == 30
    clock.now += 30  # the window has passed
    limiter.check("ann", "10.0.0.1")


def test_a_success_clears_the_accounts_failures() -> None:
    limiter = LoginLimiter(per_account=2, per_address=100, window=60, clock=Clock())
    limiter.failed("ann", "10.0.0.1")
    limiter.succeeded("ann")
    limiter.failed("ann", "10.0.0.1")
    limiter.check("ann", "10.0.0.1")

"""Secrets: Fernet tokens, the key file, the environment key and rotation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from segport.service import secrets
from segport.service.secrets import Secret, SecretKeyError


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(secrets.SECRET_KEY_ENV, raising=False)


def test_secret_never_shows_itself() -> None:
    s = Secret("xkeysib-hidden")
    assert s.reveal() == "xkeysib-hidden" and s == Secret("xkeysib-hidden")
    percent = "%s" % (s,)  # noqa: UP031 - old-style formatting must hide it too
    for shown in (str(s), repr(s), f"{s}", f"{s!r}", percent, format(s, ""), str([s])):
        assert "hidden" not in shown


def test_key_file_is_private_and_tokens_round_trip(tmp_path: Path) -> None:
    path = secrets.create_key_file(tmp_path)
    assert path is not None and os.stat(path).st_mode & 0o777 == 0o600
    token = secrets.encrypt(tmp_path, "xkeysib-abc")
    assert b"xkeysib-abc" not in token
    assert secrets.decrypt(tmp_path, token).reveal() == "xkeysib-abc"
    # Two encryptions differ (random IV): equal keys cannot be spotted in the database.
    assert secrets.encrypt(tmp_path, "xkeysib-abc") != token


def test_missing_open_or_foreign_key_is_explained(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError, match=r"secret\.key is missing"):
        secrets.encrypt(tmp_path, "k")
    secrets.create_key_file(tmp_path)
    token = secrets.encrypt(tmp_path, "k")
    (tmp_path / "secret.key").chmod(0o640)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        secrets.decrypt(tmp_path, token)
    (tmp_path / "secret.key").unlink()
    secrets.create_key_file(tmp_path)
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        secrets.decrypt(tmp_path, token)


def test_environment_key_wins_and_is_validated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(secrets.SECRET_KEY_ENV, key)
    assert secrets.create_key_file(tmp_path) is None
    assert not (tmp_path / "secret.key").exists()
    token = secrets.encrypt(tmp_path, "k")
    assert Fernet(key.encode()).decrypt(token) == b"k"
    monkeypatch.setenv(secrets.SECRET_KEY_ENV, "not-a-key")
    with pytest.raises(SecretKeyError, match="key 1 in the SEGPORT_SECRET_KEY"):
        secrets.encrypt(tmp_path, "k")


def test_rotation_re_encrypts_under_the_new_first_key(tmp_path: Path) -> None:
    secrets.create_key_file(tmp_path)
    old_key = secrets.load_keys(tmp_path)[0]
    tokens = [secrets.encrypt(tmp_path, f"key-{i}") for i in range(3)]
    secrets.install_key(tmp_path, secrets.new_key(), keep_old=True)
    assert secrets.load_keys(tmp_path)[1] == old_key
    rotated = secrets.rotate_tokens(tmp_path, tokens)
    secrets.install_key(tmp_path, secrets.load_keys(tmp_path)[0], keep_old=False)
    assert len(secrets.load_keys(tmp_path)) == 1
    assert [secrets.decrypt(tmp_path, t).reveal() for t in rotated] == ["key-0", "key-1", "key-2"]
    with pytest.raises(SecretKeyError):
        secrets.decrypt(tmp_path, tokens[0])  # the old key is gone
    assert os.stat(tmp_path / "secret.key").st_mode & 0o777 == 0o600

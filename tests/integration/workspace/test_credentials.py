"""Passwords and API tokens through the service API, on SQLite and PostgreSQL metadata."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from segport.errors import Forbidden, Invalid, NotFound
from segport.secret import Secret
from segport.service import (
    Actor,
    Role,
    actor_named,
    add_user,
    authenticate_token,
    create_token,
    list_entries,
    list_tokens,
    list_users,
    remove_user,
    revoke_token,
    set_password,
    verify_password,
)
from segport.service.models import User, utcnow
from segport.service.workspace import Workspace

PASSWORD = "correct horse battery staple"


def _refused(exc: pytest.ExceptionInfo[Forbidden], message: str) -> None:
    assert exc.value.code == "bad_credentials" and exc.value.kind == "forbidden"
    assert str(exc.value) == message


def _audit_text(ws: Workspace) -> str:
    entries = list_entries(ws, actor_named(ws, None), limit=1000)
    return json.dumps([[e.actor, e.action, e.target, e.details] for e in entries])


def test_passwords_set_verify_and_one_answer_for_every_failure(workspace: Workspace) -> None:
    admin = actor_named(workspace, None)
    add_user(workspace, admin, "bob", "viewer")
    add_user(workspace, admin, "carol", "contributor")
    set_password(workspace, admin, "bob", Secret(PASSWORD))

    bob = verify_password(workspace, "bob", Secret(PASSWORD))
    assert bob == Actor(id=bob.id, name="bob", role=Role.VIEWER)
    message = "unknown user or wrong password"
    for name, password in (("bob", PASSWORD + "!"), ("bob", ""), ("mallory", PASSWORD),
                           ("carol", PASSWORD), ("BOB", PASSWORD)):  # fmt: skip
        with pytest.raises(Forbidden) as exc:
            verify_password(workspace, name, Secret(password))
        _refused(exc, message)  # carol has no password; names are case-sensitive

    users = {u.name: u for u in list_users(workspace, admin)}
    assert users["bob"].has_password and users["bob"].password_set_at is not None
    assert not users["carol"].has_password and users["carol"].password_set_at is None

    # A user sets their own; only admins set others'.
    carol = actor_named(workspace, "carol")
    set_password(workspace, carol, "carol", Secret("carol's own long password"))
    assert verify_password(workspace, "carol", Secret("carol's own long password")).name == "carol"
    with pytest.raises(Forbidden, match="carol is a contributor and may not manage users"):
        set_password(workspace, carol, "bob", Secret("taken over by carol!"))
    with pytest.raises(NotFound, match="no user named 'zed'"):
        set_password(workspace, admin, "zed", Secret(PASSWORD))
    assert verify_password(workspace, "bob", Secret(PASSWORD)).name == "bob"

    # Audited: who set whose, never the password or its hash.
    log = _audit_text(workspace)
    assert log.count("users.set_password") == 2 and '"replaced": false' in log
    with workspace.session() as s:
        hashes = [h for h in s.scalars(select(User.password_hash)) if h]
    assert len(hashes) == 2 and all(h.startswith("$argon2id$") for h in hashes)
    for secret in (PASSWORD, "carol's own long password", *hashes):
        assert secret not in log


def test_short_and_overlong_passwords_are_refused_with_the_rule(workspace: Workspace) -> None:
    admin = actor_named(workspace, None)
    for password, code in (("", "password_too_short"), ("eleven char", "password_too_short"),
                           ("x" * 1025, "password_too_long")):  # fmt: skip
        with pytest.raises(Invalid) as exc:
            set_password(workspace, admin, "admin", Secret(password))
        assert exc.value.code == code and exc.value.field == "password"
    with pytest.raises(Invalid, match=r"at least 12 characters \(got 11\)"):
        set_password(workspace, admin, "admin", Secret("eleven char"))
    set_password(workspace, admin, "admin", Secret("twelve chars"))  # the minimum is fine
    assert _audit_text(workspace).count("users.set_password") == 1


def test_a_hash_made_with_older_parameters_is_replaced_at_the_next_login(
    workspace: Workspace,
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with workspace.session() as s:
        s.scalars(select(User).where(User.name == "admin")).one().password_hash = weak
    assert verify_password(workspace, "admin", Secret(PASSWORD)).role is Role.ADMIN
    with workspace.session() as s:
        stored = s.scalars(select(User.password_hash).where(User.name == "admin")).one()
    assert stored is not None and stored != weak
    assert not PasswordHasher().check_needs_rehash(stored)
    assert verify_password(workspace, "admin", Secret(PASSWORD)).name == "admin"
    # A damaged hash is a refusal like any other, not a crash.
    with workspace.session() as s:
        s.scalars(select(User).where(User.name == "admin")).one().password_hash = "garbage"
    with pytest.raises(Forbidden) as exc:
        verify_password(workspace, "admin", Secret(PASSWORD))
    _refused(exc, "unknown user or wrong password")


def test_tokens_authenticate_until_revoked_or_expired(workspace: Workspace) -> None:
    admin = actor_named(workspace, None)
    add_user(workspace, admin, "vic", "viewer")
    vic = actor_named(workspace, "vic")

    new = create_token(workspace, vic, name="nightly")
    token = new.token.reveal()
    assert token.startswith("sgp_") and len(token) == 4 + 43
    assert str(new.token) == "********" and token.startswith(new.view.prefix)
    assert len(new.view.prefix) == 10 and new.view.status == "active"
    assert (new.view.user, new.view.name, new.view.expires_at) == ("vic", "nightly", None)
    assert new.view.last_used_at is None

    assert authenticate_token(workspace, new.token) == vic
    assert authenticate_token(workspace, token).name == "vic"  # the text works too
    [listed] = list_tokens(workspace, vic)
    assert listed.last_used_at is not None and listed.id == new.view.id

    message = "the API token is unknown, revoked or expired"
    for bad in ("", "sgp_", token[:-1], token + "x", "Bearer " + token, "sgp_" + "A" * 43):
        with pytest.raises(Forbidden) as exc:
            authenticate_token(workspace, Secret(bad))
        _refused(exc, message)

    # Expiry: the check takes the moment to check at, so no test waits.
    now = utcnow()
    later = create_token(workspace, vic, expires_at=now + timedelta(hours=1))
    assert authenticate_token(workspace, later.token, now=now + timedelta(minutes=59)) == vic
    with pytest.raises(Forbidden) as exc:
        authenticate_token(workspace, later.token, now=now + timedelta(hours=1, seconds=1))
    _refused(exc, message)
    for when in (now - timedelta(seconds=1), (now + timedelta(days=1)).replace(tzinfo=None)):
        with pytest.raises(Invalid) as bad_expiry:
            create_token(workspace, vic, expires_at=when)
        assert bad_expiry.value.field == "expires_in"

    revoked = revoke_token(workspace, vic, new.view.id)
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    with pytest.raises(Forbidden) as exc:
        authenticate_token(workspace, new.token)
    _refused(exc, message)
    again = revoke_token(workspace, vic, new.view.id)  # changes nothing
    assert again.revoked_at == revoked.revoked_at
    with pytest.raises(NotFound) as missing:
        revoke_token(workspace, admin, 999_999)
    assert missing.value.code == "token_not_found"

    log = _audit_text(workspace)
    assert log.count("tokens.create") == 2 and log.count("tokens.revoke") == 1
    assert token not in log and later.token.reveal() not in log
    assert token[: len(new.view.prefix) + 1] not in log  # no more than the prefix


def test_who_may_manage_whose_tokens(workspace: Workspace) -> None:
    admin = actor_named(workspace, None)
    add_user(workspace, admin, "vic", "viewer")
    add_user(workspace, admin, "carol", "contributor")
    vic, carol = actor_named(workspace, "vic"), actor_named(workspace, "carol")

    mine = create_token(workspace, vic, "vic")  # naming oneself is fine
    for other in ("carol", "admin"):
        with pytest.raises(Forbidden, match="vic is a viewer and may not manage users"):
            create_token(workspace, vic, other)
    for_carol = create_token(workspace, admin, "carol", name="set up by admin")
    assert for_carol.view.user == "carol"
    assert authenticate_token(workspace, for_carol.token) == carol
    with pytest.raises(NotFound, match="no user named 'zed'"):
        create_token(workspace, admin, "zed")

    assert [t.user for t in list_tokens(workspace, vic)] == ["vic"]
    assert [t.user for t in list_tokens(workspace, carol)] == ["carol"]
    assert [t.user for t in list_tokens(workspace, admin)] == ["vic", "carol"]
    assert [t.user for t in list_tokens(workspace, admin, "carol")] == ["carol"]
    with pytest.raises(Forbidden):
        list_tokens(workspace, vic, "carol")
    with pytest.raises(Forbidden):
        revoke_token(workspace, vic, for_carol.view.id)
    assert revoke_token(workspace, carol, for_carol.view.id).status == "revoked"
    assert revoke_token(workspace, admin, mine.view.id).status == "revoked"
    log = _audit_text(workspace)
    assert '["admin", "tokens.create", "carol"' in log and '["carol", "tokens.revoke"' in log


def test_a_removed_users_tokens_and_actor_stop_working(workspace: Workspace) -> None:
    admin = actor_named(workspace, None)
    add_user(workspace, admin, "bob", "contributor")
    bob = actor_named(workspace, "bob")
    set_password(workspace, bob, "bob", Secret(PASSWORD))
    new = create_token(workspace, bob)
    assert authenticate_token(workspace, new.token) == bob

    remove_user(workspace, admin, "bob")
    with pytest.raises(Forbidden) as exc:
        authenticate_token(workspace, new.token)
    _refused(exc, "the API token is unknown, revoked or expired")
    with pytest.raises(Forbidden) as exc:
        verify_password(workspace, "bob", Secret(PASSWORD))
    _refused(exc, "unknown user or wrong password")
    assert list_tokens(workspace, admin) == []  # gone with the user (ON DELETE CASCADE)
    with pytest.raises(Forbidden, match="no longer exists"):
        create_token(workspace, bob)

    # A new user of the same name gets none of the old credentials.
    add_user(workspace, admin, "bob", "viewer")
    with pytest.raises(Forbidden):
        authenticate_token(workspace, new.token)
    with pytest.raises(Forbidden):
        verify_password(workspace, "bob", Secret(PASSWORD))

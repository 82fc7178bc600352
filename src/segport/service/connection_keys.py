"""The workspace's secrets key as the connections see it: re-encrypting every saved API
key under a new key, finding keys the current one cannot open, and recovering from a lost
key file (:mod:`segport.service.secrets` holds the key itself)."""

from __future__ import annotations

from sqlalchemy import select

from segport.service import audit, secrets
from segport.service.access import Action, Actor, authorize
from segport.service.models import Connection
from segport.service.workspace import Workspace

__all__ = ["new_secret_key", "rotate_secret_key", "undecryptable_connections"]


def rotate_secret_key(ws: Workspace, actor: Actor) -> int:
    """Re-encrypt every stored API key under a new key; how many were re-encrypted.

    With the key file, a new key is generated and the old one dropped once every token is
    re-encrypted (a crash in between leaves both keys in the file, so nothing is lost).
    With ``SEGPORT_SECRET_KEY``, put the new key first in the variable (NEW,OLD), run this,
    then drop OLD from it.
    """
    actor = authorize(ws, actor, Action.CONNECTIONS_MANAGE)
    unreadable = undecryptable_connections(ws)
    if unreadable:
        raise secrets.SecretKeyError(
            "nothing was rotated: the saved API key of connection(s) "
            f"{', '.join(repr(n) for n in unreadable)} cannot be decrypted with the current "
            "secrets key; give each connection its API key again, then rotate",
            field="api_key",
        )
    from_env = secrets.key_from_environment()
    if not from_env:
        secrets.install_key(ws.path, secrets.new_key(), keep_old=True)
    with ws.session() as session:
        conns = session.scalars(select(Connection).order_by(Connection.id)).all()
        tokens = secrets.rotate_tokens(ws.path, [c.api_key_token for c in conns])
        for conn, token in zip(conns, tokens, strict=True):
            conn.api_key_token = token
        audit.record(
            session,
            actor,
            "connections.rotate_secret_key",
            "workspace",
            {"connections": len(conns), "from_environment": from_env},
        )
    if not from_env:
        first = secrets.load_keys(ws.path)[0]
        secrets.install_key(ws.path, first, keep_old=False)
    return len(conns)


def undecryptable_connections(ws: Workspace) -> list[str]:
    """Names of the connections whose saved API key the workspace's key cannot open (the
    key itself must load: a missing key file raises its own message)."""
    with ws.session() as session:
        rows = session.execute(select(Connection.name, Connection.api_key_token)).all()
    return sorted(name for name, token in rows if not secrets.decrypts(ws.path, token))


def new_secret_key(ws: Workspace, actor: Actor) -> list[str]:
    """Recovery from a lost key file: write a new one; returns the connections that need
    their API key again (all of them: nothing saved with the lost key can be read)."""
    actor = authorize(ws, actor, Action.CONNECTIONS_MANAGE)
    secrets.create_replacement_key(ws.path)
    with ws.session() as session:
        names = list(session.scalars(select(Connection.name).order_by(Connection.name)))
        audit.record(
            session, actor, "connections.new_secret_key", "workspace", {"connections": names}
        )
    return names

"""The session cookie: a random session id, signed with the server's secret.

The id is the only thing in the cookie; the session itself (whose, until when, revoked,
its CSRF token) is in the workspace (``service.web_sessions``), so signing out revokes it
for good. The signature (itsdangerous, with a timestamp) lets the server drop a forged or
stale cookie before asking the database.
"""

from __future__ import annotations

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from segport.server.settings import Settings

_SALT = "segport.session"


class SessionCookie:
    """Reads and writes the session cookie as ``settings`` say (name, Secure, lifetime)."""

    def __init__(self, settings: Settings) -> None:
        self.name = settings.cookie_name
        self.secure = settings.secure_cookies
        self.max_age = int(settings.session_lifetime.total_seconds())
        self._signer = URLSafeTimedSerializer(settings.session_secret.reveal(), salt=_SALT)

    def session_id(self, request: Request) -> str | None:
        """The session id the request's cookie carries, if its signature holds and it is
        not older than a session lives."""
        raw = request.cookies.get(self.name)
        if not raw:
            return None
        try:
            value = self._signer.loads(raw, max_age=self.max_age)
        except BadSignature:  # SignatureExpired included
            return None
        return value if isinstance(value, str) else None

    def set(self, response: Response, session_id: str) -> None:
        response.set_cookie(
            self.name,
            self._signer.dumps(session_id),
            max_age=self.max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(
            self.name, path="/", secure=self.secure, httponly=True, samesite="lax"
        )

"""Request and response bodies of the administration resources: users, API tokens,
connections and the audit log. Responses have the shapes of the services' views as
``service.views.to_json`` gives them; no response carries a secret (an API key, a
password, a token's hash), and the one that carries a token (made just now) says so.

Kept apart from ``models.py`` (exports and runs) so each stays readable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, SecretStr

from segport.server.api.models import Page

Role = Literal["admin", "contributor", "viewer"]


# Users


class UserOut(BaseModel):
    name: str
    role: Role
    created_at: datetime
    is_default: bool = Field(description="Acts on the command line when no user is named.")
    export_user_of: list[str] = Field(description="Connections whose runs act as this user.")
    has_password: bool
    password_set_at: datetime | None


class UserPage(Page):
    items: list[UserOut]


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role


class RoleChange(BaseModel):
    role: Role


class UserChanged(BaseModel):
    """A user whose role changed or who was removed. ``stopped_connections``: the
    connections this user is the export user of whose runs stop until an admin takes
    them over."""

    name: str
    role: Role | None = None
    stopped_connections: list[str]


class NewPassword(BaseModel):
    # The service checks the length rule (422 password_too_short / password_too_long).
    password: SecretStr = Field(json_schema_extra={"format": "password", "writeOnly": True})


# API tokens


class TokenOut(BaseModel):
    """A token as lists show it: never the token, never its hash."""

    id: int
    user: str
    name: str
    prefix: str = Field(description="The token's first characters, to tell it apart.")
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    status: Literal["active", "expired", "revoked"]


class TokenPage(Page):
    items: list[TokenOut]


class NewTokenIn(BaseModel):
    user: str | None = Field(
        default=None, max_length=200, description="Whose (admins); default: yours."
    )
    name: str = Field(default="", max_length=1000, description="What it is for.")
    expires_at: AwareDatetime | None = Field(
        default=None, description="When it stops working (with its offset); none: never."
    )


class NewTokenOut(BaseModel):
    """A token just made: ``token`` is shown this once and never again."""

    token: str
    view: TokenOut


# Connections


class ConnectionOut(BaseModel):
    """A connection as admins see it: the account behind its key, never the key."""

    name: str
    type: str
    base_url: str
    shared_with_contributors: bool
    export_user: str
    export_user_problem: str | None
    exports: list[str]
    created_at: datetime
    created_by: str
    consent_by: str
    consent_at: datetime
    consent_version: str
    account_email: str | None
    account_company: str | None
    account_plan: str | None
    verified_at: datetime | None
    requests_per_second: float
    changes: list[str] = []
    key_replaced: bool = False


class ConnectionBrief(BaseModel):
    """What contributors may know of a connection shared with them."""

    name: str
    type: str


class ConnectionPage(Page):
    detailed: bool = Field(
        description="True: every detail (admins); false: names and types of the "
        "connections shared with you (contributors)."
    )
    items: list[ConnectionOut | ConnectionBrief]


class NewConnection(BaseModel):
    type: str = Field(default="brevo", max_length=50, description="brevo (or sendinblue).")
    name: str = Field(min_length=1, max_length=200)
    api_key: SecretStr = Field(
        min_length=1,
        max_length=1000,
        json_schema_extra={"format": "password", "writeOnly": True},
        description="The Brevo API key: checked with Brevo, stored encrypted, never shown.",
    )
    base_url: str | None = Field(
        default=None, max_length=2000, description="Default: https://api.brevo.com/v3."
    )
    agree_privacy: bool = Field(
        description="Agreement to the data privacy and compliance statement "
        "(`segport connections add` prints it): must be true."
    )
    share_with_contributors: bool = False
    requests_per_second: float | None = Field(default=None, description="Default 10.")


class NewKey(BaseModel):
    api_key: SecretStr = Field(
        min_length=1,
        max_length=1000,
        json_schema_extra={"format": "password", "writeOnly": True},
    )


class ConnectionRemoved(BaseModel):
    name: str
    detached: list[str] = Field(description="Exports kept without a connection.")
    removed: list[str] = Field(description="Exports removed with it.")


# Audit


class AuditEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


class AuditPage(Page):
    items: list[AuditEntry]

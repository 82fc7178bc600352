"""The checks a connection's settings pass before they are saved: its type, name, base
URL and API key, and the key verified with Brevo (``GET /account``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from segport.errors import Invalid, Unavailable
from segport.secret import Secret, reveal
from segport.service.workspace import WorkspaceError, has_control_characters

if TYPE_CHECKING:
    from segport.brevo import Account

BREVO_BASE_URL = "https://api.brevo.com/v3"
CONNECTION_TYPES = {"brevo": "brevo", "sendinblue": "brevo"}
_NAME = re.compile(r"^\S(.{0,98}\S)?$")

__all__ = [
    "BREVO_BASE_URL",
    "CONNECTION_TYPES",
    "check_api_key",
    "check_base_url",
    "check_name",
    "parse_type",
    "plan_summary",
    "verify_key",
]


def parse_type(value: str) -> str:
    canonical = CONNECTION_TYPES.get(value.strip().lower())
    if canonical is None:
        raise Invalid(
            f"unknown connection type {value!r}: use brevo (sendinblue is the same type)",
            code="connection_type_unknown",
            field="type",
        )
    return canonical


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name) or has_control_characters(name):
        raise WorkspaceError(
            f"invalid connection name {name!r}: give 1 to 100 characters that say its purpose "
            "and target, e.g. 'Brevo newsletter (prod)'"
        )
    return name


def check_base_url(url: str | None) -> str:
    if url is None:
        return BREVO_BASE_URL
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", url) or not _parses(url):
        raise Invalid(
            f"the base URL {url!r} is not an http(s) URL; give e.g. {BREVO_BASE_URL} or, for "
            "the sandbox, http://127.0.0.1:PORT/v3",
            code="base_url_invalid",
            field="base_url",
        )
    return url


def _parses(url: str) -> bool:
    """Whether the URL's host and port can be read (``http://[::1``, ``http://h:abc`` cannot)."""
    from urllib.parse import urlsplit

    import httpx

    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number in 0-65535
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        return False
    return bool(parts.hostname)


def check_api_key(api_key: str | Secret) -> Secret:
    key = reveal(api_key).strip()
    if not key:
        raise Invalid("the API key is empty: give the key", code="api_key_empty", field="api_key")
    if any(c.isspace() for c in key):
        raise WorkspaceError("the API key contains spaces or line breaks; paste it again")
    if not all(" " < c < "\x7f" for c in key):  # what an HTTP header can carry
        raise WorkspaceError(
            "the API key contains control or non-ASCII characters; it was probably copied "
            "with extra text: paste it again"
        )
    return Secret(key)


def plan_summary(account: Account) -> str:
    parts = []
    for plan in account.plans:
        credits = f" ({plan.credits:g} credits)" if plan.credits is not None else ""
        parts.append(f"{plan.type}{credits}")
    return ", ".join(parts) or "no plan reported"


def verify_key(
    base_url: str, api_key: Secret, saved: bool = False, connection: str | None = None
) -> Account:
    """The account behind ``api_key``; a clear error (never holding the key) otherwise.

    ``saved``: the key is the one already saved (the messages then say how to replace it).
    """
    from segport.brevo import AuthenticationError, BrevoClient, BrevoError, NotFoundError

    client = BrevoClient(api_key, base_url, max_retries=1, timeout=15.0)
    fix = (
        "Give the connection a new API key"
        if saved
        else "Nothing was saved: copy the key again from Brevo (SMTP & API > API keys)"
    )
    try:
        return client.get_account()
    except AuthenticationError as exc:
        raise Unavailable(
            f"Brevo refused the API key (Brevo said: {exc.message}). {fix}, and check the "
            "account allows this machine's IP address",
            code="saved_api_key_refused" if saved else "api_key_refused",
            field="api_key",
            details={"connection": connection} if connection else None,
        ) from None
    except NotFoundError as exc:
        if base_url.rstrip("/").endswith("/v3"):
            raise _unreachable(base_url, exc, saved) from None
        raise WorkspaceError(
            f"{base_url} has no Brevo API ({exc}): the base URL usually ends in /v3, "
            f"e.g. {base_url.rstrip('/')}/v3" + ("" if saved else ". Nothing was saved")
        ) from None
    except BrevoError as exc:
        raise _unreachable(base_url, exc, saved) from None
    finally:
        client.close()


def _unreachable(base_url: str, exc: Exception, saved: bool) -> Unavailable:
    if saved:
        return Unavailable(
            f"could not reach Brevo at {base_url} ({exc}); check the network and try again",
            code="brevo_unreachable",
        )
    return Unavailable(
        f"could not check the API key at {base_url} ({exc}). Nothing was saved: check "
        "the base URL and the network, or save the key without checking it",
        code="brevo_unreachable",
        field="verify",
    )

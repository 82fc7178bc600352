"""API keys in memory: a type that never turns into its value by accident, and redaction.

:class:`Secret` is not a ``str``: ``str()``, ``repr()``, f-strings and ``%`` give
``********``; ``+`` with text, ``json.dumps`` and ``orjson.dumps`` raise ``TypeError``;
it cannot be pickled. The one way to the value is :meth:`Secret.reveal`, called where the
HTTP header is set.

:func:`redact` scrubs text that came from outside (a server's error message, an
exception's text) before it becomes a message, a log line or a run record: every secret
this process has held, long prefixes of them (an echo cut short), and whatever follows an
``api-key`` header name (a proxy echoing the request headers).
"""

from __future__ import annotations

import hmac
import re
import threading
from typing import Any, NoReturn

MASK = "********"

# Keys shorter than this are not scrubbed by value (a real Brevo key is ~90 characters;
# scrubbing "abc" would mangle messages); the header pattern still catches them.
_MIN_SCRUB = 8
# An echo cut after this many characters of a key is still scrubbed.
_MIN_PREFIX = 12

_known: set[str] = set()
_known_lock = threading.Lock()
# The first characters of every known secret, and the secrets that start with them.
_starts: dict[str, list[str]] = {}
_pattern: re.Pattern[str] | None = None

# "api-key: X", "api_key=X", '"api-key": "X"', "'api-key', 'X'" (a repr of headers) ...
_HEADER = re.compile(
    r"""(api[-_ ]?key['"]?\s*(?:[:=]|,)\s*['"]?)([^\s'",;&}\]\)]+)""",
    re.IGNORECASE,
)


class Secret:
    """A secret string (an API key) that shows itself only through :meth:`reveal`."""

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str | Secret, *, scrub: bool = True) -> None:
        """``scrub=False`` for a value no server can echo (a password typed at a login,
        checked against its hash and dropped): it is not added to what :func:`redact`
        scrubs, which a long-lived server would otherwise grow with every attempt."""
        raw = value.reveal() if isinstance(value, Secret) else value
        if not isinstance(raw, str):
            raise TypeError(f"a Secret holds text, not {type(raw).__name__}")
        object.__setattr__(self, "_value", raw)
        if scrub:
            _remember(raw)

    def reveal(self) -> str:
        """The secret in clear, for the one place that needs it (the HTTP header)."""
        return self._value

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("a Secret cannot be changed")

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def _refuse(self, *args: Any) -> NoReturn:
        raise TypeError(
            "a Secret cannot be joined with text or serialized; use .reveal() where the "
            "value must be sent"
        )

    __add__ = __radd__ = __mul__ = __rmul__ = __mod__ = __rmod__ = _refuse
    __reduce__ = __reduce_ex__ = __getstate__ = _refuse

    def __copy__(self) -> Secret:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


def reveal(value: str | Secret) -> str:
    """The clear text of a secret, or the text itself (for callers that take either)."""
    return value.reveal() if isinstance(value, Secret) else value


def _remember(value: str) -> None:
    global _pattern
    if len(value) < _MIN_SCRUB:
        return
    with _known_lock:
        if value in _known:
            return
        _known.add(value)
        _starts.setdefault(value[:_MIN_PREFIX], []).append(value)
        heads = sorted(_starts, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(h) for h in heads))


def _scrub(text: str, pattern: re.Pattern[str]) -> str:
    """Every run of text that starts like a known secret and goes on like it, for as long
    as it does (the whole secret, or an echo cut short), replaced by the mask."""
    out: list[str] = []
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        start, end = m.start(), m.end()
        for value in _starts.get(m.group(), ()):
            n = len(m.group())
            while n < len(value) and start + n < len(text) and text[start + n] == value[n]:
                n += 1
            end = max(end, start + n)
        out += (text[pos:start], MASK)
        pos = end
    out.append(text[pos:])
    return "".join(out)


# A password in a URL's user information (``https://user:PASSWORD@proxy/v3``), masked as
# database URLs are (redact_url).
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@]*:)([^\s@/?#]+)(@)")


def redact(text: str) -> str:
    """``text`` with every known secret (and long prefixes of it), every value given
    after an ``api-key`` header name replaced by ``********``, and a URL's password by
    ``***``."""
    if not text:
        return text
    pattern = _pattern
    if pattern is not None:
        text = _scrub(text, pattern)
    text = _HEADER.sub(lambda m: m.group(1) + MASK if m.group(2) != MASK else m.group(0), text)
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: m.group(1) + "***" + m.group(3), text)
    return text


def redact_data(data: Any) -> Any:
    """A JSON-like value (dicts, lists, text) with :func:`redact` applied to every text."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {
            redact(str(k)) if isinstance(k, str) else k: redact_data(v) for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [redact_data(v) for v in data]
    return data


# -- masking secrets in database URLs (the profile store and the services both mask them) --

# Query parameters that carry a secret (libpq's password and sslpassword, and the like).
_SECRET_PARAM = re.compile(r"pass|secret|token|pwd", re.IGNORECASE)
_QUERY_PARAM = re.compile(r"([?&;])([^=&;#]+)=([^&;#]*)")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@]*:)([^@]*)(@)")


def _url_secrets(url: str) -> list[str]:
    """The secret values in ``url``: the userinfo password and secret query parameters,
    as written and as decoded."""
    from urllib.parse import unquote, unquote_plus

    found: list[str] = []
    m = _USERINFO.match(url)
    if m and m.group(2):
        found.append(m.group(2))
    for _, name, value in _QUERY_PARAM.findall(url):
        if value and _SECRET_PARAM.search(unquote(name)):
            found.append(value)
    decoded = [d for s in found for d in (unquote(s), unquote_plus(s)) if d]
    return sorted({s for s in found + decoded if len(s) >= 2}, key=len, reverse=True)


def redact_url(url: str) -> str:
    """A database URL safe to print: its password (``user:PASSWORD@`` and ``?password=``,
    ``sslpassword=``...) replaced by ***. The one masking helper for URLs: output, errors
    and audit details all go through it."""
    masked = _USERINFO.sub(lambda m: m.group(1) + "***" + m.group(3), url)

    def param(m: re.Match[str]) -> str:
        secret = _SECRET_PARAM.search(m.group(2)) and m.group(3)
        return f"{m.group(1)}{m.group(2)}={'***' if secret else m.group(3)}"

    return redact_text(_QUERY_PARAM.sub(param, masked), url)


def redact_text(message: str, url: str) -> str:
    """``message`` (a driver's error, say) with every secret of ``url`` replaced by ***:
    drivers echo a password they could not parse."""
    for secret in _url_secrets(url):
        message = message.replace(secret, "***")
    return message

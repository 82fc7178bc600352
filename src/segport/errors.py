"""The one error tree every layer raises and every face maps mechanically.

Each error has a ``kind`` (what a face does with it: the CLI's exit status, the API's HTTP
status), a stable ``code`` (what a script or the web app matches on; never the message),
a ``message`` that names things, not command-line options, and, when one input is at
fault, the ``field`` it came from. A face adds its own hint: the CLI names the option
that sets ``field``, the API returns ``field`` in its problem details.

=============  ==================================================  ==========
kind           meaning                                             HTTP
=============  ==================================================  ==========
not_found      a named thing (user, export, run, ...) is not there  404
invalid        an input is wrong; ``field`` says which              422
forbidden      the actor's role or access does not allow it         403
conflict       the request contradicts the current state            409
busy           another run or process holds what is needed          409
unavailable    Brevo or a database failed or refused                502
=============  ==================================================  ==========
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

Kind = Literal["not_found", "invalid", "forbidden", "conflict", "busy", "unavailable"]

KINDS: tuple[Kind, ...] = ("not_found", "invalid", "forbidden", "conflict", "busy", "unavailable")

__all__ = [
    "KINDS",
    "Busy",
    "Conflict",
    "Forbidden",
    "Invalid",
    "Kind",
    "NotFound",
    "SegportError",
    "Unavailable",
]


class SegportError(Exception):
    """The root of segport's errors. ``code`` and ``field`` may be given per instance;
    otherwise the class's own apply."""

    kind: ClassVar[Kind] = "invalid"
    default_code: ClassVar[str] = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.details = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON-ready data (the API's problem details carry these keys)."""
        out: dict[str, Any] = {"kind": self.kind, "code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.details:
            out["details"] = self.details
        return out


class NotFound(SegportError):
    kind: ClassVar[Kind] = "not_found"
    default_code = "not_found"


class Invalid(SegportError):
    kind: ClassVar[Kind] = "invalid"
    default_code = "invalid"


class Forbidden(SegportError):
    kind: ClassVar[Kind] = "forbidden"
    default_code = "forbidden"


class Conflict(SegportError):
    kind: ClassVar[Kind] = "conflict"
    default_code = "conflict"


class Busy(SegportError):
    kind: ClassVar[Kind] = "busy"
    default_code = "busy"


class Unavailable(SegportError):
    kind: ClassVar[Kind] = "unavailable"
    default_code = "unavailable"

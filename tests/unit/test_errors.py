"""The one error tree: every error a service or the engine raises for a user is a
SegportError with a known kind and a stable code, unique to its class."""

from __future__ import annotations

import importlib
import pkgutil

import segport
from segport.errors import KINDS, Invalid, NotFound, SegportError

# Exceptions that are not user errors: control flow (a signal, a pacing wait, one
# oversized row the chunker turns into a rejected row, an alert's attempt to retry or
# give up: they never leave segport.alerts) and the sandbox, which stands in for Brevo
# and answers with Brevo's own errors.
# (SignInNeeded: a page's redirect to the sign-in page, not an error.)
NOT_USER_ERRORS = {"RunTerminated", "RunCanceled", "WaitTooLong", "RowTooLargeError", "ApiProblem",
                   "StateFileError", "FaultSpecError",
                   "_Temporary", "_Retry", "_Final", "SignInNeeded"}  # fmt: skip


def _error_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(segport.__path__, "segport."):
        if info.name.startswith("segport.cli") or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == info.name
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def test_every_error_of_segport_is_in_the_tree() -> None:
    outside = [
        c.__name__
        for c in _error_classes()
        if not issubclass(c, SegportError) and c.__name__ not in NOT_USER_ERRORS
    ]
    assert outside == []


def test_kinds_are_known_and_codes_unique_per_class() -> None:
    codes: dict[str, str] = {}
    for cls in _error_classes():
        if not issubclass(cls, SegportError):
            continue
        assert cls.kind in KINDS, cls
        assert cls.default_code.replace("_", "").isalnum() and cls.default_code.islower()
        assert cls.default_code not in codes, (cls, codes.get(cls.default_code))
        codes[cls.default_code] = cls.__name__


def test_errors_serialise_with_code_and_field() -> None:
    exc = Invalid("the email column is missing", code="email_column_missing", field="email")
    assert exc.to_dict() == {
        "kind": "invalid",
        "code": "email_column_missing",
        "message": "the email column is missing",
        "field": "email",
    }
    assert NotFound("no export named 'x'").to_dict()["code"] == "not_found"
    assert str(exc) == "the email column is missing"

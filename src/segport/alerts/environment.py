"""Secrets an alert names by environment variable: the SMTP password, a webhook's secret.

The workspace stores the variable's name, never the value; the value is read when the
alert is sent, into a :class:`~segport.secret.Secret`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from segport.errors import Invalid
from segport.secret import Secret

__all__ = ["check_variable_name", "secret_from_env"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_variable_name(name: str, *, field: str) -> str:
    """``name`` if it can name an environment variable; :class:`Invalid` otherwise."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise Invalid(
            f"{name!r} is not the name of an environment variable (letters, digits and "
            "underscores, not starting with a digit): give the variable's name, not its value",
            field=field,
            code="invalid_variable_name",
        )
    return name


def secret_from_env(name: str, *, field: str, environ: Mapping[str, str] | None = None) -> Secret:
    """The value of the environment variable ``name`` as a :class:`Secret`;
    :class:`Invalid` naming the variable when it is unset or empty."""
    check_variable_name(name, field=field)
    value = (os.environ if environ is None else environ).get(name, "")
    if not value:
        raise Invalid(
            f"the environment variable {name} is not set (or empty) in this process: set it "
            "where the worker runs",
            field=field,
            code="secret_not_set",
        )
    return Secret(value)

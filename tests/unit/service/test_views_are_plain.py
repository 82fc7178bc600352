"""Every view the service API answers with is a plain JSON-able dataclass: its fields hold
only JSON values, times, enums and other such views of the service, never a Secret, an
engine object or a database handle (the API will return views as they are)."""

from __future__ import annotations

import dataclasses
import types
import typing
import warnings
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import segport.service as service

# Not answers: what a caller passes in (Actor, ExportEdit, RunOptions), what a run hands
# its progress callback (Progress) and the open workspace itself;
# and NewToken, which carries the new API token as a Secret on purpose: it is shown once,
# revealed by the face that shows it, and must never reach a log or a serializer by chance.
NOT_VIEWS = {"Actor", "ExportEdit", "RunOptions", "Progress", "Workspace", "NewToken"}

# Views may also hold these plain records of the engine: the export configuration (the
# one type every layer passes) and a run's summary, both plain values only.
PLAIN_RECORD_MODULES = ("segport.service", "segport.exports.config", "segport.exports.summary")
PENDING: set[str] = set()

PLAIN = (str, int, float, bool, type(None), datetime, date, Path, Any)


def _problems(hint: Any, where: str, seen: set[type]) -> list[str]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return [p for arg in typing.get_args(hint) for p in _problems(arg, where, seen)]
    if origin in (list, tuple, set, frozenset, dict):
        return [p for arg in typing.get_args(hint) if arg is not Ellipsis
                for p in _problems(arg, where, seen)]  # fmt: skip
    if hint in PLAIN or (isinstance(hint, type) and issubclass(hint, Enum)):
        return []
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not hint.__module__.startswith(PLAIN_RECORD_MODULES):
            return [f"{where}: {hint.__module__}.{hint.__name__} is not a service view"]
        if hint in seen:
            return []
        seen.add(hint)
        hints = typing.get_type_hints(hint)
        return [
            p
            for f in dataclasses.fields(hint)
            for p in _problems(hints[f.name], f"{hint.__name__}.{f.name}", seen)
        ]
    return [f"{where}: {hint!r} is not a JSON value"]


def test_views_hold_only_json_values() -> None:
    failing: dict[str, list[str]] = {}
    for name in service.__all__:
        value = getattr(service, name)
        if name in NOT_VIEWS or not (isinstance(value, type) and dataclasses.is_dataclass(value)):
            continue
        problems = _problems(value, name, set())
        if problems and name in PENDING:
            warnings.warn(f"{name}: {problems}", stacklevel=1)
        elif problems:
            failing[name] = problems
    assert not failing, failing


def test_the_check_refuses_an_engine_object() -> None:
    from segport.secret import Secret

    @dataclasses.dataclass
    class Leaky:
        key: Secret

    assert _problems(Leaky, "Leaky", set())

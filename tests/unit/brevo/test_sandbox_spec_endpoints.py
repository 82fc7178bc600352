"""The sandbox's generated list of Brevo endpoints is the spec's (it answers the ones it
does not implement with `501 not_supported`; see docs/sandbox.md)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from segport.brevo.sandbox.spec_endpoints import BREVO_ENDPOINTS

SPEC = Path(__file__).resolve().parents[2] / "data" / "brevo" / "swagger.yaml"
METHODS = ("get", "post", "put", "patch", "delete")


def test_spec_endpoints_module_is_up_to_date() -> None:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC.open(encoding="utf-8") as f:
        spec = yaml.load(f, Loader=loader)
    expected = [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in METHODS
    ]
    assert list(BREVO_ENDPOINTS) == expected, (
        "src/segport/brevo/sandbox/spec_endpoints.py is out of date with "
        f"{SPEC.name}: run `python scripts/gen_sandbox_endpoints.py`"
    )


def test_spec_endpoints_are_plain_paths() -> None:
    # Starlette path parameters must be identifiers; a spec path that breaks this would
    # make the sandbox fail at start, so say which one.
    for method, path in BREVO_ENDPOINTS:
        assert method in ("GET", "POST", "PUT", "PATCH", "DELETE"), (method, path)
        assert re.fullmatch(r"(/([\w.-]+|\{[A-Za-z_]\w*\}))+", path), (method, path)

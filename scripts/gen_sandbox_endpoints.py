"""Write src/segport/brevo/sandbox/spec_endpoints.py: every (method, path) of Brevo's spec.

The sandbox answers the endpoints it does not implement with a clear `not_supported`
error; it reads them from that small generated module instead of parsing the 20,000-line
spec at start. Run after refreshing tests/data/brevo/swagger.yaml:

    python scripts/gen_sandbox_endpoints.py [SPEC]

tests/unit/brevo/test_sandbox_endpoint_table.py fails when the module is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "tests" / "data" / "brevo" / "swagger.yaml"
TARGET = ROOT / "src" / "segport" / "brevo" / "sandbox" / "spec_endpoints.py"
METHODS = ("get", "post", "put", "patch", "delete")


def endpoints(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(METHOD, path after /v3) of every operation, in the spec's order."""
    return [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in METHODS
    ]


def render(spec: dict[str, Any]) -> str:
    lines = [
        '"""Every endpoint of Brevo\'s API v3 spec, as (METHOD, path after /v3).',
        "",
        "Generated from tests/data/brevo/swagger.yaml by scripts/gen_sandbox_endpoints.py;",
        "do not edit by hand.",
        '"""',
        "",
        "BREVO_ENDPOINTS: tuple[tuple[str, str], ...] = (",
        *(f'    ("{m}", "{p}"),' for m, p in endpoints(spec)),
        ")",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    spec_path = Path(sys.argv[1]) if len(sys.argv) > 1 else SPEC
    with spec_path.open(encoding="utf-8") as f:
        spec = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    TARGET.write_text(render(spec), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}: {len(endpoints(spec))} endpoints")


if __name__ == "__main__":
    main()

"""The service API's public surface: `__all__`, the lazy map and the typing imports agree,
every name resolves, and importing the package loads no store or HTTP library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import segport.service as service
from segport import errors

SOURCE = Path(service.__file__)


def _typing_imports() -> dict[str, str]:
    """name -> module, from the `if TYPE_CHECKING:` block of the package."""
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module
                for alias in imp.names:
                    found[alias.name] = imp.module.removeprefix("segport.service.")
    return found


def test_all_the_lazy_map_and_the_typing_imports_agree() -> None:
    lazy = dict(service._WHERE)
    assert _typing_imports() == lazy
    error_names = {n for n in errors.__all__ if n not in ("KINDS", "Kind")}
    assert set(service.__all__) == set(lazy) | error_names
    assert len(service.__all__) == len(set(service.__all__))


def test_every_public_name_resolves_to_what_its_module_defines() -> None:
    import importlib

    for name in service.__all__:
        value = getattr(service, name)
        if name in service._WHERE:
            module = importlib.import_module(f"segport.service.{service._WHERE[name]}")
            assert value is getattr(module, name)


def test_unknown_names_are_attribute_errors_and_modules_still_import() -> None:
    try:
        service.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")
    from segport.service import audit  # a module of the package, not a public name

    assert audit.__name__ == "segport.service.audit"


def test_importing_the_package_loads_no_store_or_http_library() -> None:
    code = (
        "import sys, segport.service as s; s.Actor; "
        "print(sorted(m for m in ('duckdb', 'pyarrow', 'httpx', 'sqlglot') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

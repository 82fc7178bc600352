"""Imports only point down the layers of docs/architecture.md, and no modules import each
other in a circle.

Every import counts, function-local and ``TYPE_CHECKING`` ones included: a lazy import is
still an arrow, only a cheaper one. Module-level imports (those that run when the module
is loaded) must not form a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

# Which package each module belongs to, by its longest matching prefix.
PACKAGES = {
    "segport.cli": "faces",
    "segport.server": "faces",  # `segport serve`: the API (and pages); docs/server.md
    "segport.__main__": "faces",
    "segport.demo": "faces",
    "segport.demo_data": "faces",
    "segport.service": "services",
    "segport.exports": "exports",
    "segport.contacts": "contacts",
    "segport.profiles": "profiles",
    "segport.segments": "segments",
    "segport.brevo": "brevo",
    "segport.brevo.sandbox": "sandbox",
    "segport.scheduler": "scheduler",
    "segport.alerts": "alerts",
    "segport.metadata": "base",
    "segport.secret": "base",
    "segport.errors": "base",
    "segport": "base",  # the package itself: its version
}

# The allowed arrows between packages (an arrow within a package is always allowed).
# Read top-down: faces -> services -> engine (exports, contacts) -> sources (profiles,
# segments) -> outside (brevo, the sandbox, alerts) -> base.
ALLOWED: dict[str, frozenset[str]] = {
    "faces": frozenset(
        {
            "services",
            "exports",
            "contacts",
            "profiles",
            "segments",
            "brevo",
            "sandbox",
            "scheduler",
            "alerts",
            "base",
        }
    ),
    "services": frozenset(
        {"exports", "contacts", "profiles", "segments", "brevo", "scheduler", "alerts", "base"}
    ),
    # The engine asks the services for nothing (it is handed a RunSpec-like object).
    "exports": frozenset({"contacts", "profiles", "segments", "brevo", "base"}),
    # Pure: Arrow in, Arrow out (see FORBIDDEN_LIBRARIES too).
    "contacts": frozenset({"base"}),
    "segments": frozenset({"profiles", "base"}),
    "profiles": frozenset({"base"}),
    # The Brevo client knows HTTP and Brevo, nothing of the engine or the workspace.
    "brevo": frozenset({"base"}),
    # The sandbox stands in for the real Brevo: it never imports the engine (nor the client).
    "sandbox": frozenset({"base"}),
    # Pure time arithmetic (cron, zones): no workspace, no database.
    "scheduler": frozenset({"base"}),
    # Alerts are handed a run's record: they know SMTP and HTTP, nothing of the workspace.
    "alerts": frozenset({"base"}),
    "base": frozenset(),
}

# segport.contacts does no I/O: none of these, at any depth of a contacts module.
FORBIDDEN_LIBRARIES = {
    "contacts": frozenset(
        {
            "duckdb",
            "sqlalchemy",
            "alembic",
            "psycopg",
            "adbc_driver_postgresql",
            "adbc_driver_manager",
            "httpx",
            "requests",
            "urllib",
            "socket",
            "ssl",
            "http",
            "starlette",
            "uvicorn",
            "pathlib",
            "shutil",
            "tempfile",
            "subprocess",
            "sqlite3",
            "io",
            "csv",
            "gzip",
        }
    ),
    # Schedules are computed, not stored: the services keep them.
    "scheduler": frozenset({"sqlalchemy", "alembic", "psycopg", "sqlite3", "duckdb", "httpx"}),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        name = _module_name(path)
        if ".migrations." in name or name.endswith(".migrations"):
            continue  # Alembic's scripts are loaded by Alembic, not imported
        found[name] = path
    return found


MODULES = _modules()


def package_of(module: str) -> str:
    best = max((p for p in PACKAGES if module == p or module.startswith(p + ".")), key=len)
    return PACKAGES[best]


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    # A package's own name counts as one level; a module's name does not.
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _targets(module: str, path: Path, node: ast.AST) -> Iterator[str]:
    """The modules one import statement names (``from pkg import sub`` names both)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
    elif isinstance(node, ast.ImportFrom):
        target = _resolve(module, path.name == "__init__.py", node)
        yield target
        for alias in node.names:
            if f"{target}.{alias.name}" in MODULES:
                yield f"{target}.{alias.name}"


def all_imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """Every import anywhere in the module (functions and TYPE_CHECKING blocks too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        for target in _targets(module, path, node):
            yield node.lineno, target


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def load_time_imports(module: str, path: Path) -> Iterator[str]:
    """The imports that run when the module is loaded: module level, including inside
    ``if``/``try``/``with`` there, but not in functions, classes' methods or
    ``if TYPE_CHECKING`` blocks."""

    def walk(body: list[ast.stmt]) -> Iterator[str]:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                yield from _targets(module, path, node)
            elif isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    yield from walk(node.body)
                yield from walk(node.orelse)
            elif isinstance(node, ast.Try):
                for part in (node.body, node.orelse, node.finalbody):
                    yield from walk(part)
                for handler in node.handlers:
                    yield from walk(handler.body)
            elif isinstance(node, ast.With | ast.ClassDef):
                yield from walk(node.body)

    yield from walk(ast.parse(path.read_text(encoding="utf-8")).body)


def test_the_table_covers_every_module() -> None:
    assert MODULES, SRC
    for module in MODULES:
        assert package_of(module) in ALLOWED, module


def test_imports_only_point_down() -> None:
    wrong = []
    for module, path in MODULES.items():
        here = package_of(module)
        for line, target in all_imports(module, path):
            if target != "segport" and not target.startswith("segport."):
                continue
            there = package_of(target)
            if there != here and there not in ALLOWED[here]:
                wrong.append(f"{path.relative_to(SRC)}:{line}: {here} -> {there} ({target})")
    assert not wrong, "imports pointing up or sideways:\n" + "\n".join(wrong)


@pytest.mark.parametrize("package", sorted(FORBIDDEN_LIBRARIES))
def test_pure_packages_import_no_io_library(package: str) -> None:
    forbidden = FORBIDDEN_LIBRARIES[package]
    wrong = [
        f"{path.relative_to(SRC)}:{line}: {target}"
        for module, path in MODULES.items()
        if package_of(module) == package
        for line, target in all_imports(module, path)
        if target.split(".")[0] in forbidden
    ]
    assert not wrong, f"{package} must do no I/O:\n" + "\n".join(wrong)


def test_no_import_cycles_at_module_level() -> None:
    # An import of the module's own package (``from segport.cli import users`` inside
    # segport.cli.x) is not an arrow: Python has initialised every parent package first.
    graph = {
        module: sorted(
            t
            for t in set(load_time_imports(module, path))
            if t in MODULES and t != module and not module.startswith(t + ".")
        )
        for module, path in MODULES.items()
    }
    # Tarjan's strongly connected components: any with more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert not cycles, "modules importing each other at load time: " + "; ".join(
        " <-> ".join(c) for c in cycles
    )


def test_the_checker_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """The checks above would pass vacuously if the walker missed function-local imports."""
    path = tmp_path / "mod.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from segport.cli import x\n"
        "def f():\n    from segport.service import y\n"
        "from . import sibling\n"
    )
    every = {t for _, t in all_imports("segport.profiles.mod", path)}
    assert {"segport.cli", "segport.service", "segport.profiles"} <= every
    loaded = set(load_time_imports("segport.profiles.mod", path))
    assert "segport.service" not in loaded and "segport.cli" not in loaded
    assert package_of("segport.service.export_configs") == "services"
    assert package_of("segport.brevo.sandbox.app") == "sandbox"
    assert package_of("segport.alerts.webhook") == "alerts"


def test_services_import_each_other_without_cycles_even_lazily() -> None:
    """Inside the services, a function-local import must not hide a cycle: each module
    imports only modules below it (the package's lazy ``__init__`` re-exports, so it is
    left out)."""
    graph: dict[str, set[str]] = {}
    for path in sorted((SRC / "segport" / "service").glob("*.py")):
        if path.name == "__init__.py":
            continue
        module = f"segport.service.{path.stem}"
        graph[module] = {
            t
            for _, t in all_imports(module, path)
            if t.startswith("segport.service.") and t != module
        }
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, "services importing in a circle: " + " -> ".join(
            (*trail[trail.index(module) :], module)
        )
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            visit(target, (*trail, module))
        done.add(module)

    for module in graph:
        visit(module, ())

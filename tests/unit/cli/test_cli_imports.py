"""The CLI is a face: it imports segport's services only through the curated
``segport.service`` package (and ``segport.errors``), never an engine or store module.

Every import in every module of ``src/segport/cli`` counts, function-local and
``TYPE_CHECKING`` ones included (the CLI imports its services inside the commands).
"""

from __future__ import annotations

import ast
from pathlib import Path

import segport.cli

CLI = Path(segport.cli.__file__).parent

# What any module of the CLI may import from segport.
ALLOWED = ("segport.service", "segport.errors", "segport.cli", "segport.secret")
ALLOWED_NAMES = {("segport", "__version__")}  # `from segport import __version__`

# A command that is itself a tool around something else, with what it may use.
TOOLS: dict[str, tuple[str, ...]] = {
    "sandbox.py": ("segport.brevo.sandbox",),  # `segport sandbox` serves the sandbox
    "serve.py": ("segport.server",),  # `segport serve` serves the API, itself a face
}


def _segport_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, name or None) of every import of a segport module in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):  # relative: inside segport.cli
            found += [(node.lineno, "segport.cli", a.name) for a in node.names]
    return [f for f in found if f[1] == "segport" or f[1].startswith("segport.")]


def _allowed(module: str, name: str | None, extra: tuple[str, ...]) -> bool:
    if module == "segport":
        return (module, name) in ALLOWED_NAMES
    # `from segport.service.connections import x` is not the curated surface
    if module.startswith("segport.service."):
        return False
    return any(module == a or module.startswith(a + ".") for a in (*ALLOWED, *extra))


def test_the_cli_imports_only_the_service_api() -> None:
    wrong = []
    for path in sorted(CLI.glob("*.py")):
        extra = TOOLS.get(path.name, ())
        for line, module, name in _segport_imports(path):
            if not _allowed(module, name, extra):
                wrong.append(f"cli/{path.name}:{line}: {module} ({name})")
    assert not wrong, "the CLI imports beyond segport.service:\n" + "\n".join(wrong)


def test_the_check_sees_function_local_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def command():\n"
        "    from segport.exports.engine import RunOptions\n"
        "    from segport.service.connections import take_over\n"
        "    from segport.service import take_over as t\n",
        encoding="utf-8",
    )
    found = _segport_imports(sample)
    assert [m for _, m, _ in found] == [
        "segport.exports.engine",
        "segport.service.connections",
        "segport.service",
    ]
    assert [_allowed(m, n, ()) for _, m, n in found] == [False, False, True]

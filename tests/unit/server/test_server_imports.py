"""The server is a face, like the CLI: it imports segport's services only through the
curated ``segport.service`` package (and the errors and the Secret type), never an engine,
store or service module directly. Every import counts, function-local ones too."""

from __future__ import annotations

import ast
from pathlib import Path

import segport.server

SERVER = Path(segport.server.__file__).parent
ALLOWED = ("segport.service", "segport.errors", "segport.secret", "segport.server")
ALLOWED_NAMES = {("segport", "__version__")}


def _imports(path: Path, package: str) -> list[tuple[int, str, str | None]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [(node.lineno, package, a.name) for a in node.names]
    return [f for f in found if f[1] == "segport" or f[1].startswith("segport.")]


def _allowed(module: str, name: str | None) -> bool:
    if module == "segport":
        return (module, name) in ALLOWED_NAMES
    if module.startswith("segport.service."):
        return False
    return any(module == a or module.startswith(a + ".") for a in ALLOWED)


def test_the_server_imports_only_the_service_api() -> None:
    wrong = [
        f"{path.relative_to(SERVER)}:{line}: {module} ({name})"
        for path in sorted(SERVER.rglob("*.py"))
        for line, module, name in _imports(path, "segport.server")
        if not _allowed(module, name)
    ]
    assert not wrong, "the server imports beyond segport.service:\n" + "\n".join(wrong)


def test_the_check_refuses_a_service_module(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from segport.service.tokens import authenticate_token\nfrom segport.service import x\n",
        encoding="utf-8",
    )
    found = _imports(sample, "segport.server")
    assert [_allowed(m, n) for _, m, n in found] == [False, True]

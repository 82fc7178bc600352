"""A service error names the thing at fault (``field``) and has a stable ``code``; the
command line adds the option that sets the field, or the command that does what the
message asks for."""

from __future__ import annotations

import ast
from pathlib import Path

import segport
from segport.cli.workspace import CODE_HINTS, FIELD_OPTIONS, with_hint
from segport.errors import Invalid, NotFound

SRC = Path(segport.__file__).parent
# Services only the web pages call, whose fields are the page form's inputs (the rule
# builder's ``g0.c1.operator``): no command line sees them, so they need no option.
WEB_FORM_ONLY = {"service/segment_drafts.py", "service/segment_forms.py"}


def _fields_raised() -> dict[str, list[str]]:
    """field name -> where it is given (``field="..."`` in any call), outside the faces
    (the server, a face too, names its own settings and request fields)."""
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        if {"cli", "server"} & set(path.relative_to(SRC).parts):
            continue
        if path.relative_to(SRC).as_posix() in WEB_FORM_ONLY:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                if kw.arg != "field":
                    continue
                for const in ast.walk(kw.value):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str):
                        where = f"{path.relative_to(SRC)}:{node.lineno}"
                        found.setdefault(const.value, []).append(where)
    return found


def test_every_field_a_service_names_has_its_option() -> None:
    missing = {f: w for f, w in _fields_raised().items() if f not in FIELD_OPTIONS}
    assert not missing, f"add these fields to FIELD_OPTIONS (cli/workspace.py): {missing}"


def test_the_option_is_added_once() -> None:
    exc = Invalid("the limit must be 1 or more (got 0)", field="limit")
    assert with_hint(exc) == "the limit must be 1 or more (got 0) (option: --limit N)"
    said = Invalid("--limit must be 1 or more", field="limit")  # already named: not twice
    assert with_hint(said) == "--limit must be 1 or more"
    assert with_hint(Invalid("no field")) == "no field"


def test_a_code_hint_names_the_command_with_the_errors_details() -> None:
    exc = Invalid(
        "the saved rule of segment 'old' can no longer be used",
        code="saved_rule_unusable",
        field="rule",
        details={"segment": "old"},
    )
    assert with_hint(exc).endswith("(`segport segments update old --where RULE`)")
    spaced = Invalid("x", code="saved_api_key_refused", details={"connection": "Brevo prod"})
    assert '`segport connections edit "Brevo prod" --api-key-stdin`' in with_hint(spaced)
    unnamed = NotFound("x", code="api_key_unreadable")
    assert "`segport connections edit NAME --api-key-stdin`" in with_hint(unnamed)


def test_every_code_hint_names_a_segport_command_or_option() -> None:
    for code, hint in CODE_HINTS.items():
        assert "segport " in hint or "--" in hint, code


def test_errors_are_one_style(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from segport.cli import app

    runner = CliRunner()
    for args in (["segments", "list"], ["connections", "show", "x"], ["audit", "--json"]):
        result = runner.invoke(app, ["--workspace", str(tmp_path / "none"), *args])
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        assert result.stderr.startswith("Error: no workspace at "), result.stderr
        assert result.stderr.count("\n") == 1  # one line
        assert "`segport init` makes one" in result.stderr
    usage = runner.invoke(app, ["segments", "preview"])  # a usage error: click's, status 2
    assert usage.exit_code == 2 and "Error: Missing argument 'NAME'." in usage.stderr

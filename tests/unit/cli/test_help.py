"""`--help` of every command reads as a user expects: `-h` works everywhere, each value
is named for what it is (`NAME`, `LIST_ID`, `FILE`, `N`), never Typer's or click's type
names (`TEXT`, `INTEGER`, `<str>`, `<int>`) or `{NAME}`; `--version` prints the version."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from segport import __version__
from segport.cli import app

# Type names that say nothing to a user, as click (plain) and Typer (0.29) print them.
BAD_METAVAR = re.compile(
    r"(?<![A-Za-z_])(TEXT|INTEGER|FLOAT|BOOLEAN|PATH|FILENAME)(?![A-Za-z_])"
    r"|<(str|int|float|bool|path|list\[[a-z]+\])>"
    r"|\{[A-Za-z_]+\}"
)


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command under ``command`` (Typer 0.29 builds on its own copy of click)."""
    yield path, command
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


ROOT = typer.main.get_command(app)
COMMANDS = list(_commands(ROOT))


def _help(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "-")
def test_help_names_every_value_for_what_it_is(path: tuple[str, ...]) -> None:
    text = _help([*path, "--help"])
    assert _help([*path, "-h"]) == text  # -h is --help everywhere
    bad = sorted({m.group(0) for m in BAD_METAVAR.finditer(text)})
    assert not bad, f"segport {' '.join(path)} --help shows {bad}:\n{text}"


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"segport {__version__}\n"

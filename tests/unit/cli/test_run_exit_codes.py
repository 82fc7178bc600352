"""The exit status of commands that end with several runs (`exports run --all --wait`):
the worst status decides, with the codes of `exports run NAME`; docs/worker.md says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from segport.cli.export_run import EXIT_CODES
from segport.cli.run_requests import exit_code

DOCS = Path(__file__).resolve().parents[3] / "docs" / "worker.md"


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        (["successful"], 0),
        (["successful", "successful"], 0),
        (["successful", "skipped"], 3),
        (["skipped", "canceled"], 130),
        (["canceled", "failed", "skipped"], 1),
        (["queued"], 1),  # not ended: never 0
    ],
)
def test_the_worst_status_decides(statuses: list[str], code: int) -> None:
    assert exit_code(statuses) == code


def test_the_documented_codes_are_the_commands() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for status, code in EXIT_CODES.items():
        line = next(line for line in text.splitlines() if line.startswith(f"| {code} |"))
        assert status in line, line

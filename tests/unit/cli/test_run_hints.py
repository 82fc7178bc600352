"""A run that ended for a reason the command line can act on says what to run next: the
engine's message names the cause, the CLI names its own command and options."""

from __future__ import annotations

import pytest

from segport.cli.export_run import REASON_HINTS, render_summary
from segport.service import RunSummary
from segport.service.run_model import REASONS


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("no_connection", "Next: segport exports edit 'uk news' --connection NAME"),
        ("over_profile_limit", "Next: segport exports edit 'uk news' --limit N"),
        ("removal_refused", "Next: segport exports run 'uk news' --allow-mass-removal"),
        ("state_lost", "Next: segport exports rebuild-state 'uk news'"),
    ],
)
def test_a_run_says_what_to_run_next(
    reason: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = RunSummary(export_name="uk news", status="skipped", message="why", run_id=7)
    summary.reason = reason
    render_summary(summary)
    out = capsys.readouterr().out
    assert expected in out and "  why" in out


def test_a_successful_run_has_no_next_step(capsys: pytest.CaptureFixture[str]) -> None:
    summary = RunSummary(export_name="news", status="successful", run_id=1)
    summary.reason = "completed"
    render_summary(summary)
    assert "Next:" not in capsys.readouterr().out


def test_hints_are_for_known_reasons_only() -> None:
    assert set(REASON_HINTS) <= set(REASONS)

"""`make demo` runs the whole flow against the sandbox and ends with the list filled."""

from __future__ import annotations

import re

import pytest

from segport import demo


def test_demo_exports_the_sample_segment(capfd: pytest.CaptureFixture[str]) -> None:
    demo.main()
    captured = capfd.readouterr()
    out = captured.out
    held = re.search(r"The Brevo list \d+ now holds (\d+) contacts", out)
    assert held, out
    # The sample's UK high-value segment, less the rows rejected on purpose.
    valid = re.findall(r"^  valid +(\d+)$", out, re.MULTILINE)
    assert valid and int(held.group(1)) == int(valid[-1]) > 300
    assert "successful" in out
    assert "email_invalid" in out and "email_duplicate" in out
    # The second run finds nothing new or changed and sends nothing.
    assert re.search(r"^  sent +0$", out, re.MULTILINE), out
    assert "line 2002" in captured.err  # the malformed CSV line, reported by its line number
    assert out.rstrip().endswith("stopped.")
